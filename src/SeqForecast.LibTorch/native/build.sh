#!/usr/bin/env bash
# Builds libseqforecast_torch.so into src/SeqForecast.LibTorch/native/build/ (Release).
# Needs cmake, g++ and libtorch: Debian's libtorch-dev, or any libtorch / pip torch named by LIBTORCH or CMAKE_PREFIX_PATH
# (for pip's torch: LIBTORCH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# SHIM_BUILD_DIR (optional): another build folder. GLOO_INCLUDE (optional): a folder holding gloo/ headers, for a
# libtorch that links Gloo but ships without its headers (pip's torch): Debian's libgloo-dev headers serve there.
build=${SHIM_BUILD_DIR:-$here/build}
prefix=()
if [ -n "${LIBTORCH:-}" ]; then prefix=(-DCMAKE_PREFIX_PATH="$LIBTORCH"); fi
if [ -n "${GLOO_INCLUDE:-}" ]; then prefix+=(-DSF_GLOO_INCLUDE="$GLOO_INCLUDE"); fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release "${prefix[@]}"
cmake --build "$build" -j"$(nproc)"
echo "built $build/libseqforecast_torch.so"
