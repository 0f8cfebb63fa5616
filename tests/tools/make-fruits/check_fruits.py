#!/usr/bin/python3
"""Checks tools/make-fruits: the Fruits-360 layout, determinism for a seed,
decodable 100x100 RGB JPEGs on white, and classes a simple classifier tells
apart.

    check_fruits.py MAKE_FRUITS
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

CLASSES = 131
PER_CLASS = 8  # 6 Training, 2 Test


def generate(tool, out, seed, count=CLASSES * PER_CLASS, classes=CLASSES):
    subprocess.run([tool, "--count", str(count), "--classes", str(classes), "--seed", str(seed),
                    out], check=True, stdout=subprocess.DEVNULL)


def tree(root):
    """{relative path: bytes} of every file under root."""
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, root)] = f.read()
    return files


def features(path):
    """Colour and texture statistics of the fruit (the non-white pixels)."""
    px = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    fruit = px[(px < 235).any(axis=2)]
    hist, _ = np.histogramdd(fruit, bins=(4, 4, 4), range=((0, 256),) * 3)
    return np.concatenate([fruit.mean(0), fruit.std(0), [len(fruit) / 100.0],
                           hist.ravel() * (100.0 / len(fruit))])


def check_layout(files, failures):
    names = sorted({p.split("/")[1] for p in files})
    if len(names) != CLASSES or "Apple Braeburn" not in names or "Strawberry" not in names:
        failures.append(f"expected the {CLASSES} Fruits-360 class names, got {names[:5]}...")
    for split, n in (("Training", 6), ("Test", 2)):
        for name in names:
            want = {f"{split}/{name}/{i}_100.jpg" for i in range(n)}
            got = {p for p in files if p.startswith(f"{split}/{name}/")}
            if got != want:
                failures.append(f"{split}/{name}: expected {sorted(want)}, got {sorted(got)}")


def check_images(root, files, failures):
    for p in files:
        im = Image.open(os.path.join(root, p))
        if im.format != "JPEG" or im.mode != "RGB" or im.size != (100, 100):
            failures.append(f"{p}: {im.format} {im.mode} {im.size}, expected JPEG RGB 100x100")
        elif min(im.getpixel((0, 0))) < 235:
            failures.append(f"{p}: corner {im.getpixel((0, 0))} is not white")


def check_separable(root, failures):
    """Nearest centroid on Training, scored on Test: must be near perfect."""
    names = sorted(os.listdir(os.path.join(root, "Training")))
    train = {n: [features(os.path.join(root, "Training", n, f))
                 for f in os.listdir(os.path.join(root, "Training", n))] for n in names}
    centroids = np.array([np.mean(train[n], axis=0) for n in names])
    scale = np.std(np.concatenate([train[n] for n in names]), axis=0) + 1e-9
    right = total = 0
    for k, n in enumerate(names):
        for f in os.listdir(os.path.join(root, "Test", n)):
            x = features(os.path.join(root, "Test", n, f))
            right += np.argmin((((centroids - x) / scale) ** 2).sum(1)) == k
            total += 1
    print(f"nearest-centroid accuracy on Test: {right}/{total}")
    if right < 0.9 * total:
        failures.append(f"classes not separable: {right}/{total} right")


def main():
    tool = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        a, b, c = (os.path.join(tmp, x) for x in "abc")
        generate(tool, a, 7)
        generate(tool, b, 7)
        generate(tool, c, 8)
        fa, fb, fc = tree(a), tree(b), tree(c)
        if fa != fb:
            failures.append("two runs with --seed 7 differ")
        if sorted(fa) != sorted(fc) or any(fa[p] == fc[p] for p in fa):
            failures.append("--seed 8 should give the same files with other pixels")
        check_layout(fa, failures)
        check_images(a, fa, failures)
        check_separable(a, failures)
        bad = subprocess.run([tool, "--classes", "132", os.path.join(tmp, "d")],
                             capture_output=True, text=True, check=False)
        if bad.returncode != 2 or "--classes: expected 1..131" not in bad.stderr:
            failures.append(f"--classes 132: exit {bad.returncode}, {bad.stderr!r}")
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
