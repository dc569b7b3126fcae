#!/usr/bin/env bash
# There: the whole GPU run in one command, on a machine with a CUDA GPU, pip's torch and cmake/g++ but no dotnet.
# Carry out/gpu.txz (made here by benchmarks/gpu/pack.sh); this unpacks it, builds the shim against pip's libtorch and
# runs, each step bounded: the CUDA parity and precision checks, BenchmarkDotNet (libtorch on CUDA in float32, TF32 and
# mixed; --inProcess, as there is no SDK; float32 on resident windows too), PyTorch's own script in the three precisions, a 2-process Gloo run on the one
# GPU against one process on the combined batch, and the sample on CUDA in float32 and mixed precision. `run.sh all` adds
# the CPU rows (FMA peak, contention, scaling, breakdown, the managed engine over Gloo in two processes) under a deadline.
# Results: $OUT (or ./gpu-results): log.txt as it goes, results.tgz with every output so far after each step.
# About 7-8 minutes in all (the steps' limits add up to more): give the run tool timeout_s=600.
# `run.sh cpu` runs the CPU part instead (about 6 minutes, no GPU or shim needed): the cores' FMA peak (probe-fma), the
# managed engine's thread scaling on that machine's cores (probe-scaling, 1 s rounds) and PyTorch's CPU script at the same thread counts, the figures
# the CPU targets (vs PyTorch 2.11 at equal threads, 2-to-16 efficiency) need.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$PWD/gpu-results}
work=$(mktemp -d)
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1
[ -x out/gpu/SeqForecast.DeviceCheck ] || tar xJf out/gpu.txz
export LIBTORCH=${LIBTORCH:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
export LD_LIBRARY_PATH=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export SEQFORECAST_TORCH_NATIVE=$PWD/src/SeqForecast.LibTorch/native/build
export DOTNET_CLI_TELEMETRY_OPTOUT=1 PYTHONUNBUFFERED=1

pack() { tar czf "$out/results.tgz" -C "$work" --exclude='*.bin' --exclude='*.safetensors' --exclude='*.png' --exclude='*.log' . 2>/dev/null; }

# RUN_DEADLINE_SECONDS (optional): no step runs past this many seconds from the start; a step that would get under 15 s
# is skipped. For a lease shorter than the whole run: `run.sh all` orders the steps by priority under such a deadline.
deadline=${RUN_DEADLINE_SECONDS:-0}
step() {  # step NAME SECONDS COMMAND...: output to $work/NAME.txt, the tail to the log; results.tgz refreshed after each
    local name=$1 limit=$2 start=$SECONDS
    shift 2
    if [ "$deadline" -gt 0 ]; then
        local left=$((deadline - SECONDS))
        if [ "$left" -lt 15 ]; then echo "== $name skipped: ${left} s left before the deadline"; return 0; fi
        [ "$left" -lt "$limit" ] && limit=$left
    fi
    echo "== $name ($(date -u +%H:%M:%S))"
    timeout "$limit" "$@" > "$work/$name.txt" 2>&1
    echo "   exit $?, $((SECONDS - start)) s"
    tail -n "${TAIL:-4}" "$work/$name.txt" | sed 's/^/   /'
    pack
}

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; echo "cores $(nproc)"
  grep -m1 'model name' /proc/cpuinfo || true; grep -q avx512f /proc/cpuinfo && echo 'cpu has avx512f' || echo 'cpu has no avx512f'
  lscpu 2>/dev/null | grep -E '^(Model name|Thread|Core|Socket|NUMA|L1d|L2|L3|CPU max MHz)' || true
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; date -u; } | tee "$work/machine.txt"
# pip's torch ships no Gloo headers, so the main shim builds there without process groups; a second build against the
# carried Debian headers (out/gloo-include, see pack.sh) serves the distributed step, in parallel with the first.
native=$PWD/src/SeqForecast.LibTorch/native
build_shims() {
    dist_native=$native/build distpid=
    if ! python3 -c 'import torch, os, sys; sys.exit(not os.path.exists(os.path.join(os.path.dirname(torch.__file__), "include", "gloo", "algorithm.h")))' \
        && [ -d out/gloo-include/gloo ]; then
        echo "== pip's torch has no Gloo headers: building a second shim against out/gloo-include for the distributed step"
        (SHIM_BUILD_DIR=$native/build-dist GLOO_INCLUDE=$PWD/out/gloo-include timeout "$1" bash "$native/build.sh" > "$work/shim-build-dist.txt" 2>&1; \
            echo "exit $?" >> "$work/shim-build-dist.txt") &
        distpid=$!
        dist_native=$native/build-dist
    fi
    step shim-build "$1" bash "$native/build.sh"
    [ -z "$distpid" ] || wait "$distpid"  # not a bare wait: that would wait for the log's tee too
    grep -h "SeqForecast shim:" "$work"/shim-build*.txt | sed 's/^/   /'
    if [ "$dist_native" != "$native/build" ]; then tail -n 3 "$work/shim-build-dist.txt" | sed 's/^/   dist build: /'; fi
}

# Two ranks on cuda:0 (Gloo, CUDA tensors through the host) against one process on the combined batch, and one process
# on resident windows against uploaded batches; compare_dist.py compares them and names any rank's .error.
dist_all() {
    local r
    worker() {  # worker RANK WORLD PORT NAME [LOSS]
        SEQFORECAST_TORCH_NATIVE=$dist_native RANK=$1 WORLD_SIZE=$2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$3 SEQFORECAST_DIST_DEVICE=cuda:0 \
            SEQFORECAST_DIST_TIMEOUT_SECONDS=40 out/gpu/SeqForecast.LibTorch.DistributedWorker session "${5:-mse}" 10 -1 "$work/dist-$4.bin"
    }
    for r in 0 1; do worker "$r" 2 29611 "r$r" & done
    wait
    worker 0 1 29612 one
    worker 0 1 29613 resident mse-resident
    python3 benchmarks/gpu/compare_dist.py "$work"
}
export -f dist_all

if [ "${1:-gpu}" = cpu ]; then
    TAIL=7 step fma 30 out/gpu/SeqForecast.Benchmarks probe-fma
    TAIL=30 PROBE_ROUND_SECONDS=1 step managed-scaling 360 out/gpu/SeqForecast.Benchmarks probe-scaling
    for threads in 1 2 4 8 16; do
        TAIL=6 step "torch-cpu-$threads" 60 python3 benchmarks/pytorch/bench_pytorch.py --device cpu --threads "$threads" --seconds 1.5
    done
    pack
    ls -l "$out"
    exit 0
fi
if [ "${1:-gpu}" = all ]; then
    # The GPU rows first, then the 16-core CPU rows of the large configs, then the rest; each step bounded by the deadline.
    build_shims 240
    export work dist_native
    TAIL=12 step distributed 60 bash -c dist_all
    SEQFORECAST_BENCH_BACKENDS=libtorch-cuda,libtorch-cuda-tf32,libtorch-cuda-mixed \
        step bdn-train 200 out/gpu/SeqForecast.Benchmarks --filter 'SeqForecast.Benchmarks.TrainingBenchmarks*' --inProcess --warmupCount 2 --iterationCount 5 --artifacts "$work/bdn"
    find "$work/bdn" -name '*.TrainingBenchmarks-report-github.md' -exec cp {} "$work/bdn-train-summary.md" \; 2>/dev/null
    cat "$work/bdn-train-summary.md" 2>/dev/null
    for precision in float32 tf32 amp; do
        TAIL=8 step "torch-cuda-$precision" 60 python3 benchmarks/pytorch/bench_pytorch.py --device cuda --precision "$precision" --seconds 1
    done
    SEQFORECAST_BENCH_BACKENDS=libtorch-cuda \
        step bdn-resident 90 out/gpu/SeqForecast.Benchmarks --filter '*ResidentTrainingBenchmarks*' --inProcess --warmupCount 2 --iterationCount 5 --artifacts "$work/bdn-resident"
    find "$work/bdn-resident" -name '*ResidentTrainingBenchmarks-report-github.md' -exec cp {} "$work/bdn-resident-summary.md" \; 2>/dev/null
    cat "$work/bdn-resident-summary.md" 2>/dev/null
    # Does the machine itself slow a core when the others work? One micro-batch's large LSTM step on one thread, in 1, 2,
    # 8 and 16 processes at once (one per core): what the 2-to-16 efficiency can be at best, whatever the engine splits.
    contention() {
        local n i
        for n in 1 2 8 16; do
            for i in $(seq 0 $((n - 1))); do
                PROBE_CELL=Lstm PROBE_HIDDEN=256 PROBE_BATCHES=32 PROBE_THREADS=1 PROBE_ROUND_SECONDS=1 \
                    taskset -c "$i" out/gpu/SeqForecast.Benchmarks probe-steps > "$work/contention-$n-$i.txt" 2>&1 &
            done
            wait
            echo "$n processes at once: $(grep -h '^| Lstm' "$work"/contention-"$n"-*.txt | awk -F'|' '{print $6}' | sort -n | tr -s ' \n' ' ')"
        done
    }
    export -f contention
    # The cores' FMA peak from registers alone, 1, 2, 8 and 16 threads at once: the ceiling of a one-thread GEMM here,
    # and how much each core slows when all of them work (clock, sibling hyperthreads).
    TAIL=7 step fma 30 out/gpu/SeqForecast.Benchmarks probe-fma
    TAIL=3 step contention 60 bash -c contention
    TAIL=40 step sample-cuda-float32 120 out/gpu/SalesForecast --device cuda --model gru --output "$work/sample-float32"
    grep -h "^GRU,overall\|^AR,overall\|^Seasonal naive,overall" "$work/sample-float32/metrics.csv" 2>/dev/null | sed "s/^/float32: /" | tee "$work/sample-overall.txt"
    TAIL=40 step device-check 120 out/gpu/SeqForecast.DeviceCheck cuda:0
    PROBE_HIDDEN=256 PROBE_ROUND_SECONDS=1 TAIL=30 step managed-scaling-large 150 out/gpu/SeqForecast.Benchmarks probe-scaling
    for threads in 1 2 16; do
        TAIL=6 step "torch-cpu-$threads" 45 python3 benchmarks/pytorch/bench_pytorch.py --device cpu --threads "$threads" --seconds 1
    done
    TAIL=40 step sample-cuda-mixed 120 out/gpu/SalesForecast --device cuda --model gru --precision mixed --output "$work/sample-mixed"
    grep -h "^GRU,overall\|^AR,overall\|^Seasonal naive,overall" "$work/sample-mixed/metrics.csv" 2>/dev/null | sed "s/^/mixed: /" | tee -a "$work/sample-overall.txt"
    PROBE_HIDDEN=64 PROBE_ROUND_SECONDS=1 TAIL=30 step managed-scaling-ref 100 out/gpu/SeqForecast.Benchmarks probe-scaling
    # Forward and backward apart at the large config's batch of 256, 2 and 16 threads: which of them scales worse.
    PROBE_HIDDEN=256 PROBE_BATCH=256 PROBE_THREADS=2,16 TAIL=6 step breakdown-large 60 out/gpu/SeqForecast.Benchmarks probe-breakdown
    # The managed engine over Gloo: two processes with half the cores each (pinned) against one process on all of them,
    # large LSTM: whether processes scale where the threads of one process do not.
    ddp_cores() {
        local r half=$(($(nproc) / 2))
        SEQFORECAST_THREADS=$((2 * half)) PROBE_CELL=Lstm PROBE_HIDDEN=256 PROBE_DDP_STEPS=3 out/gpu/SeqForecast.Benchmarks probe-ddp
        for r in 0 1; do
            SEQFORECAST_TORCH_NATIVE=$dist_native OMP_NUM_THREADS=1 RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29614 \
                SEQFORECAST_DIST_TIMEOUT_SECONDS=40 SEQFORECAST_THREADS=$half PROBE_CELL=Lstm PROBE_HIDDEN=256 PROBE_DDP_STEPS=3 \
                taskset -c $((half * r))-$((half * r + half - 1)) out/gpu/SeqForecast.Benchmarks probe-ddp > "$work/ddp-rank$r.txt" 2>&1 &
        done
        wait
        cat "$work/ddp-rank0.txt"
    }
    export -f ddp_cores
    TAIL=10 step ddp-cores 60 bash -c ddp_cores
    # If time is left: PyTorch at 4 and 8 threads too, for the ratio at every thread count of the scaling table.
    for threads in 4 8; do
        TAIL=6 step "torch-cpu-$threads" 45 python3 benchmarks/pytorch/bench_pytorch.py --device cpu --threads "$threads" --seconds 1
    done
    # Last, if time is left: the same peak and large-LSTM scaling with the 256-bit kernels. Where the many-core loss is
    # an AVX-512 clock, the 256-bit peak falls less from 1 to 16 threads, and the 256-bit step may scale better.
    DOTNET_EnableAVX512=0 TAIL=7 step fma-256 30 out/gpu/SeqForecast.Benchmarks probe-fma
    DOTNET_EnableAVX512=0 PROBE_CELL=Lstm PROBE_HIDDEN=256 PROBE_ROUND_SECONDS=1 TAIL=12 step managed-scaling-large-256 100 out/gpu/SeqForecast.Benchmarks probe-scaling
    pack
    ls -l "$out"
    exit 0
fi
build_shims 300
TAIL=40 step device-check 150 out/gpu/SeqForecast.DeviceCheck cuda:0
SEQFORECAST_BENCH_BACKENDS=libtorch-cuda,libtorch-cuda-tf32,libtorch-cuda-mixed \
    step bdn-train 200 out/gpu/SeqForecast.Benchmarks --filter 'SeqForecast.Benchmarks.TrainingBenchmarks*' --inProcess --warmupCount 2 --iterationCount 6 --artifacts "$work/bdn"
find "$work/bdn" -name '*.TrainingBenchmarks-report-github.md' -exec cp {} "$work/bdn-train-summary.md" \; 2>/dev/null
# The same steps on windows kept in GPU memory (indices sent, not batches), float32.
SEQFORECAST_BENCH_BACKENDS=libtorch-cuda \
    step bdn-resident 90 out/gpu/SeqForecast.Benchmarks --filter '*ResidentTrainingBenchmarks*' --inProcess --warmupCount 2 --iterationCount 6 --artifacts "$work/bdn-resident"
find "$work/bdn-resident" -name '*ResidentTrainingBenchmarks-report-github.md' -exec cp {} "$work/bdn-resident-summary.md" \; 2>/dev/null
for precision in float32 tf32 amp; do
    TAIL=8 step "torch-cuda-$precision" 90 python3 benchmarks/pytorch/bench_pytorch.py --device cuda --precision "$precision" --seconds 1.5
done

export work dist_native
TAIL=12 step distributed 90 bash -c dist_all

TAIL=40 step sample-cuda-float32 150 out/gpu/SalesForecast --device cuda --model gru --output "$work/sample-float32"
TAIL=40 step sample-cuda-mixed 150 out/gpu/SalesForecast --device cuda --model gru --precision mixed --output "$work/sample-mixed"
for p in float32 mixed; do grep -h "^GRU,overall\|^AR,overall\|^Seasonal naive,overall" "$work/sample-$p/metrics.csv" | sed "s/^/$p: /"; done | tee "$work/sample-overall.txt"
pack
ls -l "$out"
