"""Writes numpy-reference.json, the pinned numpy.random.RandomState draws the RandomState port is
tested against. Run with the team's Python reference environment (numpy 2.4):

    /work/team/pyref/bin/python test/gpu-function/pipeline/random/make-numpy-reference.py

Long draws are stored compactly: the sha256 of the little-endian float32 bytes of
`randn(n).astype(np.float32)` (what diffusers feeds the UNet), the sha256 of the float64 bytes of
`random_sample(n)` (no transcendental functions, so exact in any port), and a few sampled values.
"""
import hashlib
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
COUNT = 100_000
SEEDS = [0, 1, 42, 2024, 2**31 - 1, 2**31, 4294967295]
SAMPLE_AT = [0, 1, 2, 3, 623, 624, 625, 1247, 1248, 50_001, COUNT - 1]
# Calls of odd sizes, so the cached second gaussian of legacy_gauss carries across calls.
INTERLEAVED_SIZES = [1, 3, 2, 7, 1, 1, 624, 5, 999, 1, 2, 313]


def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()).hexdigest()


def main():
    long_draws = []
    for seed in SEEDS:
        randn64 = np.random.RandomState(seed).randn(COUNT)
        randn32 = randn64.astype(np.float32)
        uniform = np.random.RandomState(seed).random_sample(COUNT)
        long_draws.append({
            "seed": seed,
            "count": COUNT,
            "randn_float32_sha256": sha256(randn32),
            "random_sample_float64_sha256": sha256(uniform),
            "samples": [
                {"index": i, "randn_float32": float(randn32[i]), "randn_float64": float(randn64[i]),
                 "random_sample": float(uniform[i])}
                for i in SAMPLE_AT
            ],
        })

    interleaved = []
    for seed in [7, 4294967295]:
        rs = np.random.RandomState(seed)
        calls = []
        for size in INTERLEAVED_SIZES:
            values = rs.randn(size).astype(np.float32)
            calls.append({"size": size, "float32_sha256": sha256(values), "first": float(values[0]), "last": float(values[-1])})
        interleaved.append({"seed": seed, "calls": calls})

    # randn and random_sample share one stream: a gaussian cached by randn survives a
    # random_sample call in between (legacy_gauss keeps it in the generator state).
    rs = np.random.RandomState(3)
    mixed = {"seed": 3, "steps": []}
    for kind, size in [("randn", 3), ("random_sample", 2), ("randn", 1), ("randn", 4), ("random_sample", 1), ("randn", 2)]:
        values = rs.randn(size) if kind == "randn" else rs.random_sample(size)
        mixed["steps"].append({"kind": kind, "size": size, "float64": [float(v) for v in values]})

    out = {
        "generated_by": "test/gpu-function/pipeline/random/make-numpy-reference.py",
        "numpy_version": np.__version__,
        "long_draws": long_draws,
        "interleaved": interleaved,
        "mixed": mixed,
    }
    with open(os.path.join(HERE, "numpy-reference.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
