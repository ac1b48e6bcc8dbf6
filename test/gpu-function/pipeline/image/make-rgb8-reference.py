"""Writes rgb8-reference.json: VAE-decoder-like float32 values and the bytes diffusers makes of them.
Run with the team's Python reference environment (numpy 2.4):

    /work/team/pyref/bin/python test/gpu-function/pipeline/image/make-rgb8-reference.py

The expected pixels come from diffusers' own expressions, copied verbatim:
    image = np.clip(image / 2 + 0.5, 0, 1)            # OnnxStableDiffusionPipeline.__call__
    image = image.transpose((0, 2, 3, 1))
    images = (images * 255).round().astype("uint8")   # DiffusionPipeline.numpy_to_pil
The input holds every value that lands exactly on a half level (n + 0.5 after the float32
arithmetic), where numpy's half-to-even and JavaScript's Math.round disagree for even n, plus
clipping edges, signed zeros, infinities, subnormals and random draws.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH, HEIGHT, WIDTH = 2, 10, 11
f32 = np.float32


def pipeline_x(v):
    return f32(f32(v) / 2 + f32(0.5))


def half_level_inputs():
    """For each n, a float32 v whose pipeline value x satisfies float32(x * 255) == n + 0.5."""
    out = []
    for n in range(255):
        target = f32((n + 0.5) / 255)
        candidates = [target]
        lo = hi = target
        for _ in range(64):
            lo = np.nextafter(lo, f32(-1), dtype=f32)
            hi = np.nextafter(hi, f32(2), dtype=f32)
            candidates += [lo, hi]
        hit = None
        for x in candidates:
            if f32(x * f32(255)) != f32(n + 0.5):
                continue
            v0 = f32((x - f32(0.5)) * f32(2))
            for v in [v0, np.nextafter(v0, f32(-2), dtype=f32), np.nextafter(v0, f32(2), dtype=f32)]:
                if pipeline_x(v) == x:
                    hit = v
                    break
            if hit is not None:
                break
        if hit is not None:
            out.append(float(hit))
    return out


def main():
    values = half_level_inputs()
    values += [0.0, -0.0, 1.0, -1.0, 1.0000001, -1.0000001, 3.5, -3.5, float("inf"), float("-inf"),
               1e-45, -1e-45, 1.17e-38, -1.17e-38, 0.99999994, -0.99999994, 0.003921569, -0.996078431]
    count = BATCH * 3 * HEIGHT * WIDTH
    rng = np.random.RandomState(1234)
    values += (rng.randn(count - len(values)) * 0.8).tolist()
    data = np.array(values[:count], dtype=np.float32).reshape(BATCH, 3, HEIGHT, WIDTH)

    image = np.clip(data / 2 + 0.5, 0, 1)
    image = image.transpose((0, 2, 3, 1))
    images = (image * 255).round().astype("uint8")

    def encode(v):
        v = float(v)
        return v if np.isfinite(v) else ("Infinity" if v > 0 else "-Infinity")

    out = {
        "generated_by": "test/gpu-function/pipeline/image/make-rgb8-reference.py",
        "numpy_version": np.__version__,
        "shape": [BATCH, 3, HEIGHT, WIDTH],
        "half_level_inputs": len(half_level_inputs()),
        "input_float32": [encode(v) for v in data.reshape(-1)],
        "rgb8": [images[b].reshape(-1).tolist() for b in range(BATCH)],
    }
    with open(os.path.join(HERE, "rgb8-reference.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
