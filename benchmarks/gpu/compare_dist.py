"""Compares the distributed worker's weight files in a folder: 2 ranks against each other and against one process,
and one process on resident windows against uploaded batches. A missing file is named, with its .error beside it."""
import os
import sys

folder = sys.argv[1]


def load(name):
    path = os.path.join(folder, f"dist-{name}.bin")
    if not os.path.exists(path):
        error = path + ".error"
        reason = open(error).read() if os.path.exists(error) else "no .error file either"
        print(f"missing {path}: {reason}")
        return None
    import numpy as np  # only once there is something to compare: a failed run still names its errors

    return np.fromfile(path, dtype=np.float32)


a, b, c, r = load("r0"), load("r1"), load("one"), load("resident")
if a is not None and b is not None and c is not None:
    print(f"2 ranks on cuda:0, Gloo: ranks agree to {abs(a - b).max():.2e}; "
          f"against one process on the combined batch {abs(a - c).max():.2e} (tolerance 1e-5)")
if r is not None and c is not None:
    print(f"one process on cuda:0, resident windows against uploaded batches: {abs(r - c).max():.2e} (expected 0)")
sys.exit(0 if all(x is not None for x in (a, b, c, r)) else 1)
