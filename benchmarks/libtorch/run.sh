#!/usr/bin/env bash
# Builds and runs the plain C++ libtorch loop (binding-overhead reference). Usage: benchmarks/libtorch/run.sh [threads]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release ${LIBTORCH:+-DCMAKE_PREFIX_PATH="$LIBTORCH"} > /dev/null
cmake --build "$here/build" -j"$(nproc)" > /dev/null
"$here/build/bench_libtorch" "${1:-1}"
