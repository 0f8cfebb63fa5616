"""bench/pca/reference.py: which side is off when flowrun's PCA scores and
scikit-learn's exact solver disagree at full size.

Runs flowrun (bench-pca, flavor sklearn) and scikit-learn's
StandardScaler + PCA(svd_solver="full") on run.py's data, and computes a
float64 reference: the standardised rows and their covariance in float64
(chunked), numpy's eigh, scores z @ v.  Prints, for the components where
flowrun and scikit-learn differ most, each one's error from the float64
reference (relative, per component, up to sign, as run.py).

    /usr/bin/python3 bench/pca/reference.py --bench BUILD/bin/bench-pca
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

CHUNK = 8192


def component_errors(ours, ref):
    err = np.empty(ref.shape[1])
    for j in range(ref.shape[1]):
        sign = 1.0 if np.dot(ours[:, j], ref[:, j]) >= 0 else -1.0
        err[j] = np.max(np.abs(sign * ours[:, j] - ref[:, j])) / np.max(np.abs(ref[:, j]))
    return err


def float64_reference(path, rows, dim, k):
    x = np.memmap(path, np.float32, "r", shape=(rows, dim))
    total, sq = np.zeros(dim), np.zeros(dim)
    for s in range(0, rows, CHUNK):
        c = x[s:s + CHUNK].astype(np.float64)
        total += c.sum(axis=0)
    mean = total / rows
    for s in range(0, rows, CHUNK):
        c = x[s:s + CHUNK].astype(np.float64) - mean
        sq += (c * c).sum(axis=0)
    std = np.sqrt(sq / rows)  # StandardScaler: population std
    std[std == 0] = 1
    cov = np.zeros((dim, dim))
    for s in range(0, rows, CHUNK):
        z = (x[s:s + CHUNK].astype(np.float64) - mean) / std
        cov += z.T @ z
    cov /= rows - 1
    w, v = np.linalg.eigh(cov)
    order = np.argsort(w)[::-1][:k]
    w, v = w[order], v[:, order]
    scores = np.empty((rows, k))
    for s in range(0, rows, CHUNK):
        scores[s:s + CHUNK] = ((x[s:s + CHUNK].astype(np.float64) - mean) / std) @ v
    return w, scores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--rows", type=int, default=90483)
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--k", type=int, default=200)
    ap.add_argument("--workdir", default="/var/tmp")
    ap.add_argument("--show", type=int, default=8, help="components listed")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=a.workdir) as tmp:
        data = os.path.join(tmp, "x.f32")
        run.make_data(data, a.rows, a.dim)
        env = dict(os.environ, TMPDIR=tmp)
        out = os.path.join(tmp, "flowrun.f32")
        subprocess.run([a.bench, data, str(a.rows), str(a.dim), str(a.k), "sklearn", out],
                       check=True, env=env, capture_output=True)
        ours = np.fromfile(out, np.float32).reshape(a.rows, a.k)
        full = os.path.join(tmp, "full.f32")
        subprocess.run([sys.executable, run.__file__, "--bench", a.bench, "--rows", str(a.rows),
                        "--dim", str(a.dim), "--k", str(a.k), "--data", data,
                        "--sklearn-child", "full", full], check=True, env=env,
                       capture_output=True)
        sk = np.fromfile(full, np.float32).reshape(a.rows, a.k)
        w, ref = float64_reference(data, a.rows, a.dim, a.k)
    e_ours, e_sk, e_pair = component_errors(ours, ref), component_errors(sk, ref), \
        component_errors(ours, sk.astype(np.float64))
    print(f"data: {a.rows} x {a.dim} -> {a.k}; errors relative per component, up to sign")
    print(f"{'component':>9s} {'eigenvalue':>11s} {'gap to next':>11s} {'flowrun-sklearn':>15s} "
          f"{'flowrun-f64':>11s} {'sklearn-f64':>11s}")
    gap = np.abs(np.diff(np.append(w, w[-1]))) / w
    for j in sorted(np.argsort(e_pair)[::-1][: a.show]):
        print(f"{j:9d} {w[j]:11.4g} {gap[j]:11.2e} {e_pair[j]:15.2e} {e_ours[j]:11.2e} "
              f"{e_sk[j]:11.2e}")
    print(f"worst over all {a.k}: flowrun-sklearn {e_pair.max():.2e}, flowrun-f64 "
          f"{e_ours.max():.2e} (component {e_ours.argmax()}), sklearn-f64 {e_sk.max():.2e} "
          f"(component {e_sk.argmax()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
