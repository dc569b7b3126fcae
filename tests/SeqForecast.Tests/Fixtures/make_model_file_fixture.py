#!/usr/bin/env python3
"""Makes pytorch_gru.safetensors and pytorch_gru_expected.json: a GRU forecaster trained in PyTorch, saved in the
safetensors layout with SeqForecast's metadata, and the forecasts PyTorch makes with it.

The safetensors file is written by hand (8-byte header length, JSON header, float32 data), byte-compatible with the
`safetensors` package, which Debian does not ship. Run from the repository root with Debian's python3-torch:
    /usr/bin/python3 tests/SeqForecast.Tests/Fixtures/make_model_file_fixture.py
Read by tests/SeqForecast.Tests/Serialization/ModelFileTests.cs.
"""
import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
LOOKBACK, HORIZON, HIDDEN, LAYERS = 8, 3, 12, 2


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(1, HIDDEN, LAYERS, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN, HORIZON)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


def series(n, phase, level):
    return [level + 10 * math.sin(2 * math.pi * t / 7 + phase) + 0.1 * t for t in range(n)]


def main():
    torch.manual_seed(3)
    torch.set_num_threads(1)
    raw = {"a": series(60, 0.0, 50.0), "b": series(60, 1.3, 80.0)}
    # Min-max scaling to [0, 1] per series, fitted on all 60 points (this fixture has no holdout).
    transforms = {}
    scaled = {}
    for key, values in raw.items():
        lo, hi = min(values), max(values)
        scale = 1.0 / (hi - lo)
        transforms[key] = [scale, -lo * scale]
        scaled[key] = [v * scale - lo * scale for v in values]
    xs, ys = [], []
    for values in scaled.values():
        for s in range(len(values) - LOOKBACK - HORIZON + 1):
            xs.append(values[s:s + LOOKBACK])
            ys.append(values[s + LOOKBACK:s + LOOKBACK + HORIZON])
    x = torch.tensor(xs, dtype=torch.float32).unsqueeze(-1)
    y = torch.tensor(ys, dtype=torch.float32)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(150):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()

    net.eval()
    with torch.no_grad():
        last = torch.tensor([scaled[k][-LOOKBACK:] for k in raw], dtype=torch.float32).unsqueeze(-1)
        out = net(last).tolist()
    expected = {}
    for key, row in zip(raw, out):
        scale, offset = transforms[key]
        expected[key] = [(v - offset) / scale for v in row]

    config = {
        "Network": {"Cell": "Gru", "InputSize": 1, "HiddenSize": HIDDEN, "Layers": LAYERS, "OutputSize": HORIZON, "Dropout": 0.0},
        "Lookback": LOOKBACK, "Horizon": HORIZON, "Stride": 1, "Targets": ["value"], "Features": [], "Calendar": "None",
        "Scaler": {"Kind": "MinMax", "Scope": "PerSeries", "Columns": ["value"], "PerSeries": {k: [v] for k, v in transforms.items()}, "Global": None},
        "TrainedOn": f"pytorch {torch.__version__}",
    }
    header = {"__metadata__": {"format": "seqforecast-model", "format_version": "1", "config": json.dumps(config)}}
    blobs, offset = [], 0
    for name, tensor in net.state_dict().items():
        data = tensor.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(HERE, "pytorch_gru.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    with open(os.path.join(HERE, "pytorch_gru_expected.json"), "w") as f:
        json.dump({"series": raw, "forecast": expected, "trainingLoss": float(loss)}, f, indent=1)
    print("final loss", float(loss))


if __name__ == "__main__":
    main()
