#!/usr/bin/env python3
"""PyTorch side of the managed-engine benchmarks: the same configurations, measured the same way.

One training step = forward, MSE loss, backward, Adam step (torch.optim.Adam, lr 1e-3), batch_first LSTM/GRU with a
Linear head on the last hidden state. Predict = one window, batch of one, under torch.no_grad().
Run with Debian's python3-torch:  /usr/bin/python3 benchmarks/pytorch/bench_pytorch.py [--threads N]
On a GPU:  python3 benchmarks/pytorch/bench_pytorch.py --device cuda [--precision float32|tf32|amp]
(adds the 2x256 L64 B1024 config; every timing waits for the device). Precision: float32 with TF32 off (the default,
as the shim computes), tf32 (TF32 matrix products and cuDNN), or amp (autocast, float16 with a GradScaler on CUDA,
bfloat16 on the CPU), the counterparts of the shim's LibTorchPrecision modes.
"""
import argparse
import statistics
import time

import torch

CONFIGS = [("reference 2x64 L30 B64", 64, 2, 30, 64), ("large 2x256 L64 B256", 256, 2, 64, 256)]
GPU_CONFIGS = CONFIGS + [("gpu 2x256 L64 B1024", 256, 2, 64, 1024)]


class Net(torch.nn.Module):
    def __init__(self, cell, hidden, layers):
        super().__init__()
        self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(1, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


def timed(fn, seconds, sync=lambda: None):
    for _ in range(3):
        fn()
    sync()
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        start = time.perf_counter()
        fn()
        sync()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--precision", choices=("float32", "tf32", "amp"), default="float32")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
        torch.backends.cudnn.allow_tf32 = args.precision == "tf32"
    elif args.precision == "tf32":
        parser.error("--precision tf32 needs --device cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    amp = args.precision == "amp"
    amp_dtype = torch.float16 if cuda else torch.bfloat16
    where = torch.cuda.get_device_name(device) if cuda else "cpu"
    print(f"torch {torch.__version__} on {where}, threads {torch.get_num_threads()}, precision {args.precision}")
    print("| cell | config | train step (ms) | samples/s | predict one window (us) |")
    print("|---|---|---:|---:|---:|")
    for cell in ("lstm", "gru"):
        for name, hidden, layers, lookback, batch in GPU_CONFIGS if cuda else CONFIGS:
            torch.manual_seed(1)
            net = Net(cell, hidden, layers).to(device)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            scaler = torch.cuda.amp.GradScaler(enabled=amp and cuda)
            x = torch.sin(torch.arange(batch * lookback, dtype=torch.float32) * 0.1).reshape(batch, lookback, 1).to(device)
            y = torch.cos(torch.arange(batch, dtype=torch.float32) * 0.3).reshape(batch, 1).to(device)
            loss_fn = torch.nn.MSELoss()

            def step():
                opt.zero_grad()
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                    loss = loss_fn(net(x).float(), y)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()

            step_time = timed(step, args.seconds, sync)
            window = x[:1]
            with torch.no_grad(), torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                predict_time = timed(lambda: net(window), args.seconds / 2, sync)
            print(f"| {cell.upper()} | {name} | {step_time * 1e3:.2f} | {batch / step_time:,.0f} | {predict_time * 1e6:.1f} |")


if __name__ == "__main__":
    main()
