#!/usr/bin/env bash
# Here (with the .NET SDK): publishes what the GPU run needs, self-contained into one folder (one shared runtime), and
# packs it with the shim's sources, the PyTorch script and the GPU run script into out/gpu.txz (about 35 MB), the one
# path to carry to a GPU machine that has no dotnet. Then, there: bash benchmarks/gpu/run.sh (see docs/gpu.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf out/gpu out/gpu.txz
for project in benchmarks/SeqForecast.DeviceCheck benchmarks/SeqForecast.Benchmarks samples/SalesForecast tests/SeqForecast.LibTorch.DistributedWorker; do
    dotnet publish "$project" -c Release -r linux-x64 --self-contained -o out/gpu -nologo -v quiet
done
# The shim is built there, against that machine's libtorch: a copy built here would load the wrong one.
rm -f out/gpu/libseqforecast_torch.so
# pip's torch links Gloo but ships no Gloo headers, which the shim's process groups compile against: carry Debian's
# (libgloo-dev, which .ci/test installs); run.sh uses them only where the torch there has none.
rm -rf out/gloo-include && mkdir -p out/gloo-include
if [ -d /usr/include/gloo ]; then cp -r /usr/include/gloo out/gloo-include/; else echo "warning: no /usr/include/gloo (apt-get install libgloo-dev): the GPU run's distributed step will fail" >&2; fi
tar cJf out/gpu.txz out/gpu out/gloo-include src/SeqForecast.LibTorch/native/CMakeLists.txt src/SeqForecast.LibTorch/native/build.sh \
    src/SeqForecast.LibTorch/native/seqforecast_torch.cpp src/SeqForecast.LibTorch/native/seqforecast_torch.h \
    benchmarks/pytorch benchmarks/gpu samples/SalesForecast/data
ls -l out/gpu.txz
