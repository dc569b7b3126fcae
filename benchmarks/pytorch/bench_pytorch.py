#!/usr/bin/env python3
"""PyTorch side of the managed-engine benchmarks: the same configurations, measured the same way.

One training step = forward, MSE loss, backward, Adam step (torch.optim.Adam, lr 1e-3), float32, batch_first
LSTM/GRU with a Linear head on the last hidden state. Predict = one window, batch of one, under torch.no_grad().
Run with Debian's python3-torch:  /usr/bin/python3 benchmarks/pytorch/bench_pytorch.py [--threads N]
"""
import argparse
import statistics
import time

import torch

CONFIGS = [("reference 2x64 L30 B64", 64, 2, 30, 64), ("large 2x256 L64 B256", 256, 2, 64, 256)]


class Net(torch.nn.Module):
    def __init__(self, cell, hidden, layers):
        super().__init__()
        self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(1, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


def timed(fn, seconds):
    for _ in range(3):
        fn()
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("| cell | config | train step (ms) | samples/s | predict one window (us) |")
    print("|---|---|---:|---:|---:|")
    for cell in ("lstm", "gru"):
        for name, hidden, layers, lookback, batch in CONFIGS:
            torch.manual_seed(1)
            net = Net(cell, hidden, layers)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            x = torch.sin(torch.arange(batch * lookback, dtype=torch.float32) * 0.1).reshape(batch, lookback, 1)
            y = torch.cos(torch.arange(batch, dtype=torch.float32) * 0.3).reshape(batch, 1)
            loss_fn = torch.nn.MSELoss()

            def step():
                opt.zero_grad()
                loss = loss_fn(net(x), y)
                loss.backward()
                opt.step()

            step_time = timed(step, args.seconds)
            window = x[:1]
            with torch.no_grad():
                predict_time = timed(lambda: net(window), args.seconds / 2)
            print(f"| {cell.upper()} | {name} | {step_time * 1e3:.2f} | {batch / step_time:,.0f} | {predict_time * 1e6:.1f} |")


if __name__ == "__main__":
    main()
