#!/usr/bin/python3
"""resize-224's stb_image_resize filters: how close they come to Pillow's
closest filter, and that edge mode and colour space are the configured ones.

    stb_check.py RESIZE_RAW MAKE_FRUITS

Agreement is measured on make-fruits images upsampled 100x100 -> 224x224
and on noisy photo-like 640x480 pictures shrunk to 224x224: mean |diff|,
max |diff| and the share of equal values, against Pillow 9's resize with
the matching filter (stb-triangle ~ BILINEAR, stb-catmullrom ~ BICUBIC,
both Keys a = -0.5 / the tent).  The figures are the ones stated in
`flowrun describe resize-224`; the bounds asserted here are those figures
with a small margin.  The check is shown to catch a wrong filter: the
other stb filters, held to the same bounds, must fail them.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

RESIZE_RAW, MAKE_FRUITS = sys.argv[1], sys.argv[2]

# stb filter -> (Pillow filter, {case: (max mean |diff|, max |diff|, min % equal)})
BOUNDS = {
    "stb-triangle": (Image.BILINEAR, {"up": (0.12, 1, 89.0), "down": (0.20, 5, 83.0)}),
    "stb-catmullrom": (Image.BICUBIC, {"up": (0.15, 20, 88.0), "down": (0.20, 5, 82.0)}),
}
NAMES = {Image.BILINEAR: "BILINEAR", Image.BICUBIC: "BICUBIC"}
WRONG = {"stb-box": Image.BILINEAR, "stb-mitchell": Image.BICUBIC,
         "stb-cubicbspline": Image.BICUBIC}


def resize(img, out_w, out_h, flt, edge="clamp", space="linear"):
    in_h, in_w, _ = img.shape
    args = [RESIZE_RAW, str(in_w), str(in_h), str(out_w), str(out_h), flt, edge, space]
    res = subprocess.run(args, input=img.tobytes(), capture_output=True, check=False)
    if res.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {res.stderr.decode()}")
    return np.frombuffer(res.stdout, np.uint8).reshape(out_h, out_w, 3)


def picture(w, h, seed):
    """Smooth colour ramps plus noise, like a photo's detail."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (w + h) + 64], axis=2)
    rgb += rng.normal(0, 18, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def corpus():
    d = tempfile.mkdtemp(prefix="stb-check-")
    try:
        subprocess.run([MAKE_FRUITS, "--count", "40", "--classes", "20", d], check=True,
                       capture_output=True)
        files = sorted(os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs)
        up = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {"up": up, "down": [picture(640, 480, s) for s in range(4)]}


def agreement(images, stb, pil):
    d = np.stack([np.abs(resize(im, 224, 224, stb).astype(int) - np.asarray(
        Image.fromarray(im).resize((224, 224), resample=pil)).astype(int)) for im in images])
    return d.mean(), int(d.max()), 100.0 * np.count_nonzero(d == 0) / d.size


def within(fig, bound):
    return fig[0] <= bound[0] and fig[1] <= bound[1] and fig[2] >= bound[2]


def main():
    failures = []
    images = corpus()
    for stb, (pil, bounds) in BOUNDS.items():
        for case, bound in bounds.items():
            fig = agreement(images[case], stb, pil)
            print(f"{stb} vs Pillow {NAMES[pil]} {case}: "
                  f"mean |diff| {fig[0]:.3f}, max {fig[1]}, {fig[2]:.1f}% equal")
            if not within(fig, bound):
                failures.append(f"{stb} {case}: {fig} outside {bound}")
    # The check tells a wrong filter from the right one.
    for stb, pil in WRONG.items():
        fig = agreement(images["up"], stb, pil)
        print(f"control: {stb} up: mean |diff| {fig[0]:.3f}, max {fig[1]}, {fig[2]:.1f}% equal")
        bound = BOUNDS["stb-triangle" if pil == Image.BILINEAR else "stb-catmullrom"][1]["up"]
        if within(fig, bound):
            failures.append(f"the agreement check did not catch {stb} posing as {NAMES[pil]}")

    # A constant image stays constant for every filter, edge mode clamp.
    flat = np.full((37, 53, 3), 200, np.uint8)
    for stb in list(BOUNDS) + list(WRONG):
        if not (resize(flat, 224, 224, stb) == 200).all():
            failures.append(f"{stb}: a constant image did not stay constant")

    # Edge mode: zero darkens the border of a bright image, clamp does not;
    # the interior (beyond the filter's reach) is the same.
    bright = np.full((100, 100, 3), 240, np.uint8)
    clamp = resize(bright, 224, 224, "stb-catmullrom", "clamp").astype(int)
    zero = resize(bright, 224, 224, "stb-catmullrom", "zero").astype(int)
    if not (zero[0, 0] < clamp[0, 0] - 20).all():
        failures.append(f"edge zero: border {zero[0, 0]} not darker than clamp's {clamp[0, 0]}")
    if not (zero[10:-10, 10:-10] == clamp[10:-10, 10:-10]).all():
        failures.append("edge zero vs clamp: the interior differs")

    # Colour space: srgb filters in linear light, which brightens the mean of
    # a black/white pattern shrunk to grey; linear gives the plain average.
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::2] = 255
    lin = resize(stripes, 32, 32, "stb-box", "clamp", "linear")
    srgb = resize(stripes, 32, 32, "stb-box", "clamp", "srgb")
    print(f"black/white stripes halved: linear {lin.mean():.1f}, srgb {srgb.mean():.1f}")
    if not (abs(lin.mean() - 127.5) < 1.5 and srgb.mean() > 180):
        failures.append(f"colour space: linear mean {lin.mean()}, srgb mean {srgb.mean()}")

    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
