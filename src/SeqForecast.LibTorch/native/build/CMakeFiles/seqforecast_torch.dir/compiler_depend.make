# Empty compiler generated dependencies file for seqforecast_torch.
# This may be replaced when dependencies are built.
