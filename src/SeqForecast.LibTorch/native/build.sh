#!/usr/bin/env bash
# Builds libseqforecast_torch.so into src/SeqForecast.LibTorch/native/build/ (Release).
# Needs cmake, g++ and libtorch: Debian's libtorch-dev, or any libtorch / pip torch named by LIBTORCH or CMAKE_PREFIX_PATH
# (for pip's torch: LIBTORCH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=()
if [ -n "${LIBTORCH:-}" ]; then prefix=(-DCMAKE_PREFIX_PATH="$LIBTORCH"); fi
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release "${prefix[@]}"
cmake --build "$here/build" -j"$(nproc)"
echo "built $here/build/libseqforecast_torch.so"
