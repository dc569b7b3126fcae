file(REMOVE_RECURSE
  "CMakeFiles/seqforecast_torch.dir/seqforecast_torch.cpp.o"
  "CMakeFiles/seqforecast_torch.dir/seqforecast_torch.cpp.o.d"
  "libseqforecast_torch.pdb"
  "libseqforecast_torch.so"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/seqforecast_torch.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
