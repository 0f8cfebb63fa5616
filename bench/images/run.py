#!/usr/bin/python3
"""bench/images: decode + resize of JPEGs to 224x224, images/s on one core.

flowrun's jpeg-decode -> resize-224 (through the real plugins, one thread)
beside Pillow's Image.open().convert("RGB").resize((224, 224), FILTER) on
the same make-fruits images, read into memory first, in the same run.
Checks that both gave the same pixels (Pillow-exact filters), then prints
images/s of each and the ratio, by CPU time (what one core spent: the
figure to quote on a shared machine) and by wall time.

    /usr/bin/python3 bench/images/run.py --build BUILD [--count 1000]
        [--filter bilinear] [--rounds 3]
"""
import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
DUMP = 20  # outputs compared with Pillow's


def pillow_round(blobs, flt):
    """(wall seconds, CPU seconds) of one round."""
    t0, c0 = time.perf_counter(), time.process_time()
    for b in blobs:
        Image.open(io.BytesIO(b)).convert("RGB").resize((224, 224), resample=flt)
    return time.perf_counter() - t0, time.process_time() - c0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="the CMake build directory")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--filter", choices=FILTERS, default="bilinear")
    ap.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    args = ap.parse_args()
    bench = os.path.join(args.build, "bin", "bench-images")
    make_fruits = os.path.join(args.build, "bin", "make-fruits")
    env = {**os.environ, "FLOWRUN_PLUGIN_PATH": os.path.join(args.build, "lib", "flowrun",
                                                              "plugins")}
    tmp = tempfile.mkdtemp(prefix="bench-images-")
    try:
        data = os.path.join(tmp, "fruits")
        subprocess.run([make_fruits, "--count", str(args.count), data], check=True,
                       capture_output=True)
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(data) for f in fs
                       if f.endswith(".jpg"))
        blobs = [open(f, "rb").read() for f in files]
        dump = os.path.join(tmp, "dump.rgb")

        # Alternate the two so that both see the same machine load.
        flow_s, pil_s = [], []
        for _ in range(args.rounds):
            out = subprocess.run([bench, args.filter, "1", str(DUMP), dump, *files], env=env,
                                 capture_output=True, text=True, check=True)
            res = json.loads(out.stdout)
            flow_s.append((res["seconds"], res["cpu_seconds"]))
            pil_s.append(pillow_round(blobs, FILTERS[args.filter]))

        got = np.fromfile(dump, np.uint8).reshape(-1, 224, 224, 3)
        same = sum(
            np.array_equal(g, np.asarray(Image.open(f).convert("RGB").resize(
                (224, 224), resample=FILTERS[args.filter])))
            for g, f in zip(got, files))
        n = len(files)
        print(f"{n} make-fruits 100x100 JPEGs -> 224x224 {args.filter}, one thread, "
              f"best of {args.rounds} alternating rounds")
        for i, what in ((1, "CPU time (per core)"), (0, "wall time")):
            flow = n / min(t[i] for t in flow_s)
            pil = n / min(t[i] for t in pil_s)
            print(f"  {what}:")
            print(f"    flowrun jpeg-decode + resize-224:  {flow:8.0f} images/s "
                  f"({1e6 / flow:.0f} us/image)")
            print(f"    Pillow open+convert('RGB')+resize: {pil:8.0f} images/s "
                  f"({1e6 / pil:.0f} us/image)")
            print(f"    ratio: {flow / pil:.2f}x Pillow")
        print(f"  identical outputs: {same}/{min(DUMP, n)} checked images equal Pillow's")
        if same != min(DUMP, n):
            sys.exit("flowrun's output differs from Pillow's")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
