#!/usr/bin/env python3
"""Makes loss_fixtures.json: golden values from PyTorch for the losses that forecasters add beside MSE/MAE/Huber.

- "pinball": the quantile (pinball) loss over several levels, max(tau*u, (tau-1)*u) with u = y - q, mean over every
  term, and its gradient with respect to the predictions (torch.autograd);
- "smape": the sMAPE-like loss in original units (x' = x*scale + offset), 200*|p'-y'|/(|p'|+|y'|), and its gradient;
- "scaledMae": the MASE-like loss, mean(weight[window]*scale*|p - y|), and its gradient;
- "network": a 2-layer LSTM (batch_first) with a Linear head of horizon x levels outputs trained with the pinball loss:
  its weights, inputs, targets, outputs, loss and every parameter gradient after one backward.

Run from the repository root with Debian's python3-torch (1.13):
    /usr/bin/python3 tests/SeqForecast.Tests/Fixtures/make_loss_fixtures.py
Read by tests/SeqForecast.Tests/Training/LossFunctionsTests.cs and tests/SeqForecast.LibTorch.Tests/ParityTests.cs.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = [0.1, 0.5, 0.9]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def pinball(pred, target, levels):
    # pred [batch, K*Q] with element (k, q) at k*Q + q; target [batch, K]
    q = len(levels)
    tau = torch.tensor(levels, dtype=torch.float32)
    p = pred.reshape(pred.shape[0], -1, q)
    u = target.unsqueeze(-1) - p
    return torch.maximum(tau * u, (tau - 1) * u).mean()


def loss_cases():
    torch.manual_seed(7)
    batch, k = 4, 5
    pred = torch.randn(batch, k * len(LEVELS), requires_grad=True)
    target = torch.randn(batch, k)
    value = pinball(pred, target, LEVELS)
    value.backward()
    cases = [{"kind": "pinball", "levels": LEVELS, "predictions": flat(pred), "targets": flat(target), "loss": float(value), "gradient": flat(pred.grad)}]

    pred = torch.randn(batch, k, requires_grad=True)
    target = torch.randn(batch, k)
    scale = torch.rand(batch, k) * 3 + 0.5
    offset = torch.randn(batch, k) * 4 + 6
    p_orig, y_orig = pred * scale + offset, target * scale + offset
    value = (200 * (p_orig - y_orig).abs() / (p_orig.abs() + y_orig.abs())).mean()
    value.backward()
    cases.append({"kind": "smape", "predictions": flat(pred), "targets": flat(target), "scale": flat(scale), "offset": flat(offset),
                  "weight": [1.0] * batch, "loss": float(value), "gradient": flat(pred.grad)})

    pred = torch.randn(batch, k, requires_grad=True)
    target = torch.randn(batch, k)
    scale = torch.rand(batch, k) * 3 + 0.5
    weight = torch.rand(batch) + 0.2
    value = (weight.unsqueeze(-1) * scale * (pred - target).abs()).mean()
    value.backward()
    cases.append({"kind": "scaledMae", "predictions": flat(pred), "targets": flat(target), "scale": flat(scale), "offset": [0.0] * (batch * k),
                  "weight": flat(weight), "loss": float(value), "gradient": flat(pred.grad)})
    return cases


class Net(torch.nn.Module):
    def __init__(self, inputs, hidden, layers, outputs):
        super().__init__()
        self.rnn = torch.nn.LSTM(inputs, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, outputs)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


def network_case():
    torch.manual_seed(11)
    inputs, hidden, layers, horizon, batch, time = 2, 6, 2, 3, 4, 5
    net = Net(inputs, hidden, layers, horizon * len(LEVELS))
    x = torch.randn(batch, time, inputs)
    y = torch.randn(batch, horizon)
    out = net(x)
    value = pinball(out, y, LEVELS)
    value.backward()
    return {
        "inputSize": inputs, "hiddenSize": hidden, "layers": layers, "horizon": horizon, "batch": batch, "timeSteps": time,
        "levels": LEVELS, "parameters": {k: flat(v) for k, v in net.state_dict().items()}, "input": flat(x), "target": flat(y),
        "output": flat(out), "loss": float(value), "gradients": {k: flat(p.grad) for k, p in net.named_parameters()},
    }


def main():
    torch.set_num_threads(1)
    out = {"generator": f"torch {torch.__version__}", "losses": loss_cases(), "network": network_case()}
    with open(os.path.join(HERE, "loss_fixtures.json"), "w") as f:
        json.dump(out, f)
    print("wrote loss_fixtures.json")


if __name__ == "__main__":
    main()
