#!/usr/bin/python3
"""check_agreement — the plugin's agreement measures (agreement.c, which
precision: auto holds its choice to) against numpy's, on features perturbed
by known amounts: minimum cosine per row, and the minimum correlation of the
leading 8 scores under the reference's PCA(16) (numpy's SVD of the centred
rows).  Each must match to 1e-6; and a deliberately broken agreement (the
rows of the perturbed side shuffled) must score low on both.

    check_agreement.py AGREEMENT_TOOL
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np


def numpy_measures(ref, got):
    a, b = ref.astype(np.float64), got.astype(np.float64)
    cos = ((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min()
    k = min(16, len(a) - 1)
    mean = a.mean(0)
    _, _, vt = np.linalg.svd(a - mean, full_matrices=False)
    sa, sb = (a - mean) @ vt[:k].T, (b - mean) @ vt[:k].T
    pca = min(np.corrcoef(sa[:, i], sb[:, i])[0, 1] for i in range(min(8, k)))
    return cos, pca


def tool_measures(tool, tmp, ref, got):
    paths = [os.path.join(tmp, n) for n in ("ref.f32", "got.f32")]
    ref.astype(np.float32).tofile(paths[0])
    got.astype(np.float32).tofile(paths[1])
    out = subprocess.run([tool, *paths, str(len(ref)), str(ref.shape[1])], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[1]), float(out[3])


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(7)
    # Features like a ResNet's: non-negative, a few strong directions.
    base = np.abs(rng.normal(size=(32, 6)) @ rng.normal(size=(6, 2048)) +
                  0.3 * rng.normal(size=(32, 2048))).astype(np.float32)
    tmp = tempfile.mkdtemp(prefix="agreement-")
    ok = True
    try:
        for noise in (0.01, 0.3, 1.0, 3.0):
            got = base + noise * rng.normal(size=base.shape).astype(np.float32) * base.std()
            want, have = numpy_measures(base, got), tool_measures(tool, tmp, base, got)
            close = abs(want[0] - have[0]) < 1e-6 and abs(want[1] - have[1]) < 1e-6
            print("noise %.3f: numpy cosine %.7f pca %.7f; plugin %.7f %.7f -> %s" % (
                noise, *want, *have, "ok" if close else "DIFFERENT"))
            ok &= close
        shuffled = base[rng.permutation(len(base))]
        have = tool_measures(tool, tmp, base, shuffled)
        caught = have[0] < 0.99 and have[1] < 0.99
        print("rows shuffled: plugin cosine %.4f pca %.4f -> %s" % (
            *have, "caught" if caught else "MISSED"))
        ok &= caught
    finally:
        shutil.rmtree(tmp)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
