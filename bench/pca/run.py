"""bench/pca: fit + transform of ROWS x DIM float32 rows to K components.

flowrun's scaler -> PCA (fit: batch, flavor sklearn, rows spilled to disk)
beside scikit-learn 1.2's StandardScaler + PCA(svd_solver="full" and
"randomized") on the same data in the same run, each in its own process so
that its peak RSS is its own.  Prints times, ratios, peak RSS, the BLAS
kernels, and how far flowrun's scores are from the exact solver's.

    /usr/bin/python3 bench/pca/run.py --bench BUILD/bin/bench-pca [--rows 90483]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_data(path, rows, dim, seed=7):
    """Embedding-like rows (non-negative, decaying spectrum), written in
    chunks so the generator never holds the whole matrix."""
    rng = np.random.default_rng(seed)
    rank = 512
    basis = rng.standard_normal((rank, dim)) * (1.0 / (1 + np.arange(rank)) ** 0.8)[:, None]
    with open(path, "wb") as f:
        for start in range(0, rows, 8192):
            n = min(8192, rows - start)
            x = rng.standard_normal((n, rank)) @ basis + 0.05 * rng.standard_normal((n, dim))
            np.maximum(x + 0.3, 0).astype(np.float32).tofile(f)


def peak_rss_mb():
    """VmHWM: starts afresh at exec, unlike ru_maxrss (kept across fork)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1.0


def sklearn_child(solver, path, rows, dim, k, out):
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_info

    x = np.fromfile(path, np.float32).reshape(rows, dim)
    t0 = time.monotonic()
    z = StandardScaler().fit_transform(x)
    scores = PCA(n_components=k, svd_solver=solver, random_state=0).fit_transform(z)
    seconds = time.monotonic() - t0
    scores.astype(np.float32).tofile(out)
    peak = peak_rss_mb()
    core = next((i.get("architecture", "") for i in threadpool_info() if i["user_api"] == "blas"), "")
    print(json.dumps({"seconds": round(seconds, 3), "peak_rss_mb": round(peak, 1), "blas_core": core}))


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def worst_component_error(ours, ref):
    worst = 0.0
    for j in range(ref.shape[1]):
        sign = 1.0 if np.dot(ours[:, j], ref[:, j]) >= 0 else -1.0
        err = np.max(np.abs(sign * ours[:, j] - ref[:, j])) / np.max(np.abs(ref[:, j]))
        worst = max(worst, err)
    return worst


def print_floor(a, fastest):
    """What an exact fit cannot go below: the cross-product's rows x dim^2
    flops (syrk) at this machine's peak, measured now (bench/peak)."""
    peak = subprocess.run([os.path.join(os.path.dirname(a.bench), "cpu-peak"), "2", "3"],
                          capture_output=True, text=True, check=True).stdout.split()
    fp32, fp64 = float(peak[peak.index("fp32") + 1]), float(peak[peak.index("fp64") + 1])
    gflop = a.rows * a.dim ** 2 / 1e9
    print(f"cross-product alone: {gflop:.0f} GFLOP, >= {gflop / fp64:.2f} s in double at the "
          f"measured fp64 peak ({fp64:.0f} GFLOP/s, 2 threads), >= {gflop / fp32:.2f} s in float32 "
          f"({fp32:.0f}); 3x the fastest scikit-learn solver is {fastest / 3:.2f} s for everything")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True, help="path of the bench-pca binary")
    ap.add_argument("--rows", type=int, default=90483)
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--k", type=int, default=200)
    ap.add_argument("--workdir", default="/var/tmp")
    ap.add_argument("--sklearn-child", nargs=2, metavar=("SOLVER", "OUT"))
    ap.add_argument("--data")
    a = ap.parse_args()
    if a.sklearn_child:
        return sklearn_child(a.sklearn_child[0], a.data, a.rows, a.dim, a.k, a.sklearn_child[1])

    with tempfile.TemporaryDirectory(dir=a.workdir) as tmp:
        data = os.path.join(tmp, "x.f32")
        make_data(data, a.rows, a.dim)
        size_mb = a.rows * a.dim * 4 / 2**20
        print(f"data: {a.rows} x {a.dim} float32 = {size_mb:.0f} MB -> {a.k} components")
        results, scores = {}, {}
        env = dict(os.environ, TMPDIR=tmp)
        env.pop("OPENBLAS_CORETYPE", None)
        for name, extra in (("flowrun", {}), ("flowrun (Haswell kernels)", {"OPENBLAS_CORETYPE": "Haswell"})):
            out = os.path.join(tmp, "flowrun.f32")
            results[name] = run_json([a.bench, data, str(a.rows), str(a.dim), str(a.k), "sklearn", out],
                                     dict(env, **extra))
            scores.setdefault("flowrun", np.fromfile(out, np.float32).reshape(a.rows, a.k))
        for solver in ("full", "randomized"):
            out = os.path.join(tmp, solver + ".f32")
            results[f"sklearn {solver}"] = run_json(
                [sys.executable, __file__, "--bench", a.bench, "--rows", str(a.rows), "--dim", str(a.dim),
                 "--k", str(a.k), "--data", data, "--sklearn-child", solver, out], env)
            scores[solver] = np.fromfile(out, np.float32).reshape(a.rows, a.k)

    base = results["flowrun"]["seconds"]
    print(f"{'':28s} {'seconds':>8s} {'vs flowrun':>10s} {'peak RSS MB':>12s}  BLAS kernels")
    for name, r in results.items():
        print(f"{name:28s} {r['seconds']:8.2f} {r['seconds'] / base:9.2f}x {r['peak_rss_mb']:12.0f}  {r['blas_core']}")
    r = results["flowrun"]
    print(f"flowrun split: scaler + moments {r['scaler_and_moments_seconds']:.2f} s, "
          f"PCA fit + sign pass + transform {r['pca_fit_and_emit_seconds']:.2f} s")
    fastest = min(results["sklearn full"]["seconds"], results["sklearn randomized"]["seconds"])
    print(f"speed-up over scikit-learn's fastest solver: {fastest / base:.2f}x")
    print_floor(a, fastest)
    print(f"flowrun vs sklearn full, worst component (relative, up to sign): "
          f"{worst_component_error(scores['flowrun'], scores['full']):.2e}")
    print(f"sklearn randomized vs full, worst component: "
          f"{worst_component_error(scores['randomized'], scores['full']):.2e}")
    same_sign = np.all(np.sum(scores["flowrun"] * scores["full"], axis=0) > 0)
    print(f"signs as scikit-learn 1.2's svd_flip: {'yes' if same_sign else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
