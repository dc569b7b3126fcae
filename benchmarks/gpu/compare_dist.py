"""Compares the distributed worker's weight files in a folder: 2 ranks against each other and against one process."""
import os
import sys

import numpy as np

folder = sys.argv[1]
load = lambda name: np.fromfile(os.path.join(folder, f"dist-{name}.bin"), dtype=np.float32)
a, b, c = load("r0"), load("r1"), load("one")
print(f"2 ranks on cuda:0, Gloo: ranks agree to {abs(a - b).max():.2e}; "
      f"against one process on the combined batch {abs(a - c).max():.2e} (tolerance 1e-5)")
