#!/usr/bin/python3
"""Checks a resize-224 resampler against Pillow on every pixel.

    pillow_check.py DRIVER            every case must equal Pillow exactly
    pillow_check.py DRIVER --buggy    DRIVER has a deliberate bug: the check
                                      must report it for every filter it affects

DRIVER is a program `DRIVER IN_W IN_H OUT_W OUT_H FILTER < rgb > rgb`.  The
inputs are generated here (seeded noise, which exercises every rounding, and
hard black/white edges, which make bicubic overshoot and clip), for
upsampling, downsampling with widened support, odd sizes, and the cases where
Pillow skips a pass.
"""
import subprocess
import sys

import numpy as np
from PIL import Image

FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}

# (in_w, in_h, out_w, out_h)
CASES = [
    (100, 100, 224, 224),  # Fruits-360 -> ResNet input
    (1600, 1200, 224, 224),  # a photo shrunk 7x: support widened
    (640, 480, 223, 97),  # shrink, unequal odd factors
    (37, 53, 224, 224),  # odd up
    (224, 224, 17, 301),  # shrink one axis, grow the other
    (7, 5, 224, 224),  # tiny up: most taps clipped at the borders
    (1, 1, 224, 224),
    (224, 224, 224, 224),  # Pillow copies
    (100, 224, 224, 224),  # vertical pass skipped
    (300, 200, 300, 100),  # horizontal pass skipped
    (3, 1000, 2, 3),  # extreme shrink
    (9, 7, 2, 3),  # shrink with a support wider than the image
    (640, 480, 500, 400),  # mild shrink: 5 and 7 taps
]


def inputs(in_w, in_h, seed):
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (in_h, in_w, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:in_h, 0:in_w]
    edges = np.where(((yy // 3) + (xx // 2)) % 2 == 0, 255, 0).astype(np.uint8)
    edges = np.repeat(edges[:, :, None], 3, axis=2)
    edges[:, :, 1] = 255 - edges[:, :, 1]
    return {"noise": noise, "edges": edges}


def run_driver(driver, img, out_w, out_h, name):
    in_h, in_w, _ = img.shape
    args = [driver, str(in_w), str(in_h), str(out_w), str(out_h), name]
    res = subprocess.run(args, input=img.tobytes(), capture_output=True, check=False)
    if res.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {res.stderr.decode()}")
    return np.frombuffer(res.stdout, dtype=np.uint8).reshape(out_h, out_w, 3)


def compare(driver):
    """Returns {filter: number of mismatching cases}, printing each mismatch."""
    bad = {name: 0 for name in FILTERS}
    for seed, (in_w, in_h, out_w, out_h) in enumerate(CASES):
        for pattern, img in inputs(in_w, in_h, seed).items():
            for name, flt in FILTERS.items():
                want = np.asarray(Image.fromarray(img).resize((out_w, out_h), resample=flt))
                got = run_driver(driver, img, out_w, out_h, name)
                diff = np.abs(want.astype(int) - got.astype(int))
                if diff.any():
                    bad[name] += 1
                    y, x, c = np.argwhere(diff)[0]
                    print(f"MISMATCH {name} {in_w}x{in_h}->{out_w}x{out_h} {pattern}: "
                          f"{np.count_nonzero(diff)} of {diff.size} values, max |diff| "
                          f"{diff.max()}, first at y={y} x={x} c={c}: got {got[y, x, c]}, "
                          f"Pillow {want[y, x, c]}")
    return bad


def main():
    driver = sys.argv[1]
    buggy = "--buggy" in sys.argv[2:]
    bad = compare(driver)
    runs = len(CASES) * 2
    for name, n in bad.items():
        print(f"{name}: {runs - n}/{runs} cases equal Pillow on every pixel")
    if buggy:
        # The rounding bug touches the separable filters, not nearest.
        missed = [name for name in ("bilinear", "bicubic") if bad[name] == 0]
        if missed:
            sys.exit(f"the check did not catch the deliberate bug for {missed}")
        print("the check caught the deliberate bug")
    elif any(bad.values()):
        sys.exit("resampler differs from Pillow")


if __name__ == "__main__":
    main()
