#!/usr/bin/env python3
"""Makes network_fixtures.json: golden values from PyTorch for the managed engine's tests.

For each case: a torch.nn.LSTM/GRU (batch_first) + torch.nn.Linear head on the last hidden state, float32, with
seeded random weights, inputs and targets. It records the parameters (state_dict names), the forward outputs, the
loss, every gradient after one backward, and the parameters after 5 optimizer steps on the same batch.

Run from the repository root with Debian's python3-torch (1.13):
    /usr/bin/python3 tests/SeqForecast.Tests/Fixtures/make_network_fixtures.py
Read by tests/SeqForecast.Tests/Engine/Managed/PyTorchParityTests.cs.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
HIDDEN, TIME, BATCH, OUTPUT = 5, 4, 3, 2


class Net(torch.nn.Module):
    def __init__(self, cell, inputs, hidden, layers, outputs):
        super().__init__()
        rnn = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
        self.rnn = rnn(inputs, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, outputs)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make_loss(kind):
    return {"mse": torch.nn.MSELoss(), "mae": torch.nn.L1Loss(), "huber": torch.nn.HuberLoss(delta=1.0)}[kind]


def make_optimizer(spec, params):
    kind = spec["kind"]
    if kind == "adam":
        return torch.optim.Adam(params, lr=spec["lr"], weight_decay=spec.get("weightDecay", 0.0))
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=spec["lr"], weight_decay=spec["weightDecay"])
    return torch.optim.SGD(params, lr=spec["lr"], momentum=spec["momentum"], nesterov=spec["nesterov"])


def case(name, cell, inputs, layers, loss="mse", optimizer=None, clip=None, seed=0):
    optimizer = optimizer or {"kind": "adam", "lr": 0.01}
    torch.manual_seed(seed)
    net = Net(cell, inputs, HIDDEN, layers, OUTPUT)
    x = torch.randn(BATCH, TIME, inputs)
    y = torch.randn(BATCH, OUTPUT)
    initial = {k: flat(v) for k, v in net.state_dict().items()}

    out = net(x)
    value = make_loss(loss)(out, y)
    value.backward()
    gradients = {k: flat(p.grad) for k, p in net.named_parameters()}

    opt = make_optimizer(optimizer, net.parameters())
    losses = []
    for _ in range(5):
        opt.zero_grad()
        step_loss = make_loss(loss)(net(x), y)
        step_loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        opt.step()
        losses.append(float(step_loss))
    return {
        "name": name, "cell": cell, "inputSize": inputs, "hiddenSize": HIDDEN, "layers": layers, "outputSize": OUTPUT,
        "batch": BATCH, "timeSteps": TIME, "loss": loss, "optimizer": optimizer, "clip": clip,
        "parameters": initial, "input": flat(x), "target": flat(y), "output": flat(out), "lossValue": float(value),
        "gradients": gradients, "stepLosses": losses, "after": {k: flat(v) for k, v in net.state_dict().items()},
    }


def main():
    torch.set_num_threads(1)
    cases = []
    seed = 1
    for cell in ("lstm", "gru"):
        for layers in (1, 2, 3):
            for inputs in (1, 3):
                cases.append(case(f"{cell}-{layers}l-{inputs}f", cell, inputs, layers, seed=seed))
                seed += 1
    cases.append(case("lstm-2l-3f-mae", "lstm", 3, 2, loss="mae", seed=seed + 1))
    cases.append(case("gru-2l-1f-huber", "gru", 1, 2, loss="huber", seed=seed + 2))
    cases.append(case("lstm-2l-1f-adamw", "lstm", 1, 2, optimizer={"kind": "adamw", "lr": 0.01, "weightDecay": 0.05}, seed=seed + 3))
    cases.append(case("gru-1l-3f-adam-l2", "gru", 3, 1, optimizer={"kind": "adam", "lr": 0.01, "weightDecay": 0.05}, seed=seed + 4))
    cases.append(case("gru-2l-3f-sgd-nesterov", "gru", 3, 2, optimizer={"kind": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, seed=seed + 5))
    cases.append(case("lstm-1l-1f-sgd-momentum-clip", "lstm", 1, 1, optimizer={"kind": "sgd", "lr": 0.1, "momentum": 0.5, "nesterov": False}, clip=0.05, seed=seed + 6))
    out = {"generator": f"torch {torch.__version__}", "cases": cases}
    with open(os.path.join(HERE, "network_fixtures.json"), "w") as f:
        json.dump(out, f)
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
