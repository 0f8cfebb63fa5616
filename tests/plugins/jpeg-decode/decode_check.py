#!/usr/bin/python3
"""jpeg-decode against Pillow's Image.open().convert("RGB"), bit for bit.

    decode_check.py DECODE_FILES          the default config must equal Pillow
    decode_check.py DECODE_FILES --buggy  decode with dct=ifast (a deliberate
                                          deviation): the check must see it
    decode_check.py DECODE_FILES --exif   orientation=exif must equal Pillow's
                                          ImageOps.exif_transpose(...).convert("RGB")
    decode_check.py DECODE_FILES --exif --buggy
                                          orientation left at ignore: the check
                                          must see every rotated file

The corpus is written here with Pillow and jpegtran: baseline 4:4:4, 4:2:2,
4:2:0, odd sizes, grayscale, progressive, restart markers, CMYK, and files
carrying each EXIF orientation 1..8 (the default config ignores them, as
Pillow's convert("RGB") does).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageOps

from decode_results import decode_results


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
    im = picture(37, 53, 3)
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        save(f"exif-orientation-{o}-37x53.jpg", im, quality=90, exif=exif.tobytes())
    big_endian = os.path.join(d, "exif-orientation-6-big-endian.jpg")
    # The same picture with a hand-written big-endian ("MM") EXIF block
    # holding orientation 6 after another tag.
    tiff = (b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x02"
            + b"\x01\x0f\x00\x02\x00\x00\x00\x02ab\x00\x00"  # Make = "ab"
            + b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00"  # Orientation = 6
            + b"\x00\x00\x00\x00")
    app1 = b"Exif\x00\x00" + tiff
    im.save(big_endian, "JPEG", quality=90)
    with open(big_endian, "rb") as f:
        data = f.read()
    with open(big_endian, "wb") as f:
        f.write(data[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + data[2:])
    files.append(big_endian)
    return files


def decode_all(driver, files, config):
    """Per file: its pixels as an H x W x 3 array, or the driver's REJECT line."""
    return [np.frombuffer(px[2], np.uint8).reshape(px[0], px[1], 3) if px else line
            for line, px in decode_results(driver, files, config)]


def reference(path, exif):
    im = Image.open(path)
    return np.asarray((ImageOps.exif_transpose(im) if exif else im).convert("RGB"))


def main():
    driver, buggy, exif = sys.argv[1], "--buggy" in sys.argv[2:], "--exif" in sys.argv[2:]
    if exif:
        config = [] if buggy else ["orientation=exif"]
    else:
        config = ["dct=ifast"] if buggy else []
    with tempfile.TemporaryDirectory() as d:
        files = corpus(d)
        if not files:
            sys.exit("empty corpus: nothing would be checked")
        results = decode_all(driver, files, config)
        mismatched = []
        for path, got in zip(files, results):
            want = reference(path, exif)
            name = os.path.basename(path)
            if isinstance(got, str):
                mismatched.append(name)
                print(f"{name}: {got}")
            elif got.shape != want.shape or (got != want).any():
                mismatched.append(name)
                n = np.count_nonzero(got != want) if got.shape == want.shape else "all"
                print(f"{name}: differs from Pillow in {n} values")
    what = "exif_transpose().convert('RGB')" if exif else "convert('RGB')"
    print(f"{len(files) - len(mismatched)}/{len(files)} files equal Pillow's {what}")
    if buggy and exif:
        rotated = {os.path.basename(f) for f in files if "exif-orientation" in f
                   and "orientation-1-" not in f}
        if not rotated <= set(mismatched):
            sys.exit(f"the check did not see {sorted(rotated - set(mismatched))} left as stored")
        print("the check caught every rotated file left as stored")
    elif buggy:
        if not mismatched:
            sys.exit("the check did not see the ifast IDCT")
        print("the check caught the deliberate deviation")
    elif mismatched:
        sys.exit("jpeg-decode differs from Pillow")


if __name__ == "__main__":
    main()
