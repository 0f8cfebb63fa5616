#!/usr/bin/python3
"""jpeg-decode against Pillow's Image.open().convert("RGB"), bit for bit.

    decode_check.py DECODE_FILES          the default config must equal Pillow
    decode_check.py DECODE_FILES --buggy  decode with dct=ifast (a deliberate
                                          deviation): the check must see it

The corpus is written here with Pillow and jpegtran: baseline 4:4:4, 4:2:2,
4:2:0, odd sizes, grayscale, progressive, restart markers, CMYK.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image


def picture(w, h, seed):
    """Smooth colour ramps plus noise: every DCT coefficient matters."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (w + h) + 64], axis=2)
    rgb += rng.normal(0, 18, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def corpus(d):
    files = []

    def save(name, im, **kw):
        path = os.path.join(d, name)
        im.save(path, "JPEG", **kw)
        files.append(path)
        return path

    for w, h in ((100, 100), (37, 53), (641, 479)):
        im = picture(w, h, w)
        for sub, tag in ((0, "444"), (1, "422"), (2, "420")):
            save(f"baseline-{tag}-{w}x{h}.jpg", im, quality=90, subsampling=sub)
        save(f"progressive-{w}x{h}.jpg", im, quality=85, progressive=True)
        save(f"gray-{w}x{h}.jpg", im.convert("L"), quality=90)
        save(f"cmyk-{w}x{h}.jpg", im.convert("CMYK"), quality=90)
        src = save(f"q50-{w}x{h}.jpg", im, quality=50)
        rst = os.path.join(d, f"restart-{w}x{h}.jpg")
        subprocess.run(["jpegtran", "-restart", "1", "-outfile", rst, src], check=True)
        files.append(rst)
    return files


def decode_all(driver, files, config):
    out = subprocess.run([driver, *config, *files], capture_output=True, check=False)
    if out.returncode != 0:
        sys.exit(f"{driver} failed: {out.stderr.decode()}")
    data, pos, results = out.stdout, 0, []
    for _ in files:
        end = data.index(b"\n", pos)
        head = data[pos:end].decode().split(" ", 2)
        pos = end + 1
        if head[0] == "OK":
            h, w = int(head[1]), int(head[2])
            px = np.frombuffer(data[pos:pos + h * w * 3], np.uint8).reshape(h, w, 3)
            pos += h * w * 3
            results.append(px)
        else:
            results.append(" ".join(head))
    return results


def main():
    driver, buggy = sys.argv[1], "--buggy" in sys.argv[2:]
    with tempfile.TemporaryDirectory() as d:
        files = corpus(d)
        results = decode_all(driver, files, ["dct=ifast"] if buggy else [])
        mismatched = []
        for path, got in zip(files, results):
            want = np.asarray(Image.open(path).convert("RGB"))
            name = os.path.basename(path)
            if isinstance(got, str):
                mismatched.append(name)
                print(f"{name}: {got}")
            elif got.shape != want.shape or (got != want).any():
                mismatched.append(name)
                n = np.count_nonzero(got != want) if got.shape == want.shape else "all"
                print(f"{name}: differs from Pillow in {n} values")
    print(f"{len(files) - len(mismatched)}/{len(files)} files equal Pillow's convert('RGB')")
    if buggy:
        if not mismatched:
            sys.exit("the check did not see the ifast IDCT")
        print("the check caught the deliberate deviation")
    elif mismatched:
        sys.exit("jpeg-decode differs from Pillow")


if __name__ == "__main__":
    main()
