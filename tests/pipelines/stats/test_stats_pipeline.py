"""online-scaler and incremental-pca with replicas, through the flowrun
binary: rows-source -> online-scaler -> incremental-pca, both written with
csv-sink.  Replicas of a stage merge their statistics, so 1 and 3 replicas
write the same numbers, and both equal numpy's Spark formulas and
scikit-learn.  The check is shown to catch the bug it is for: replicas that
each fit on their own rows (computed here in numpy) differ from the merged
fit far beyond the tolerance.  fit: stream with replicas: every row of
model version v is scaled by the statistics of exactly the rows stamped
with versions <= v (the rounds merge all replicas' rows)."""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/lib/stats"))
import reference as R  # noqa: E402

FLOWRUN = os.environ["FLOWRUN_BIN"]
N, D, K = 6000, 65, 8
# Tolerances, relative to the largest magnitude of the column / component.
# Scaler: the moments are double sums of float32 rows, in any order and
# about any shift row: the std agrees to ~1e-15, and a float32 output to one
# rounding (6e-8), written with 9 digits: 1e-6 leaves 16x margin.
SCALE_RTOL = 1e-6
# PCA: within a replica the cross-product is summed in float32 blocks of up
# to 1024 rows (ssyrk, relative error ~ sqrt(1024) x 6e-8 = 2e-6 of the
# block's terms), and the blocks differ with the split; the eigenvectors of
# the pair 0.5 % apart move by that error over the gap (2e-6 / 5e-3 = 4e-4
# of the pair's mixing at worst, much less in practice).  1e-4 is the
# per-component bound against the float64 references that the stats tests
# hold (docs/architecture.md, "Numerics"), so 1 vs 3 replicas agree to 2e-4
# (both within 1e-4 of the same reference).
PCA_RTOL = 1e-4


def write_rows(path, x):
    with open(path, "wb") as f:
        f.write(np.array(x.shape, dtype="<u4").tobytes())
        f.write(x.astype("<f4").tobytes())


def pipeline(tmp, name, replicas, fit="batch", flavor="spark", refit_every=1000):
    out = os.path.join(tmp, name)
    y = f"""name: {name}
stages:
  rows:
    plugin: rows-source
    path: {tmp}/in.f32
  scale:
    plugin: online-scaler
    inputs: rows
    flavor: {flavor}
    fit: {fit}
    refit_every: {refit_every}
    replicas: {replicas}
  pca:
    plugin: incremental-pca
    inputs: scale
    components: {K}
    flavor: {flavor}
    fit: batch
    replicas: {replicas}
  scaled:
    plugin: csv-sink
    inputs: scale
    path: {out}-scaled.csv
    mode: overwrite
    model_version: true
  projected:
    plugin: csv-sink
    inputs: pca
    path: {out}-pca.csv
    mode: overwrite
"""
    p = os.path.join(tmp, name + ".yaml")
    with open(p, "w") as f:
        f.write(y)
    summary = os.path.join(tmp, name + ".summary.json")
    run = subprocess.run([FLOWRUN, p, "--summary", summary], capture_output=True, text=True,
                         timeout=300)
    if run.returncode != 0:
        print(run.stderr)
        raise SystemExit(f"{name}: flowrun exited {run.returncode}")
    return read_csv(out + "-scaled.csv", version=True), read_csv(out + "-pca.csv")


def read_csv(path, version=False):
    """Rows ordered by key (replicas emit in any order): values, versions."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head, rows = rows[0], sorted(rows[1:], key=lambda r: r[0])
    assert [r[0] for r in rows] == [f"rec-{i:06d}" for i in range(N)], path
    assert all(r[1] == f"class-{i % 3}" for i, r in enumerate(rows)), path
    cols = [j for j, h in enumerate(head) if h.startswith("c")]
    vals = np.array([[float(r[j]) for j in cols] for r in rows])
    vers = np.array([int(r[head.index("model_version")]) for r in rows]) if version else None
    return vals, vers


def close(a, b, rtol):
    """Per column: max |a - b| <= rtol * max |b| (columns of zeros: <= 1e-30)."""
    return all(np.max(np.abs(a[:, j] - b[:, j])) <= rtol * max(np.max(np.abs(b[:, j])), 1e-30)
               for j in range(b.shape[1]))


def per_replica(x, parts, fit):
    """The old behaviour, in numpy: each replica fits on its own rows."""
    out = np.zeros((x.shape[0], K if fit == "pca" else x.shape[1]))
    for r in range(parts):
        rows = np.arange(r, x.shape[0], parts)
        z, s = R.spark_reference(x[rows], K)[:2]
        out[rows] = s if fit == "pca" else z
    return out


def main():
    failures = []
    x = R.make_data(N, D)
    z_ref, s_ref = R.spark_reference(x, K)[:2]
    with tempfile.TemporaryDirectory() as tmp:
        write_rows(os.path.join(tmp, "in.f32"), x)
        (z1, v1), (s1, _) = pipeline(tmp, "one", 1)
        (z3, v3), (s3, _) = pipeline(tmp, "three", 3)
        R.check("1 replica: scaled as Spark's formulas", close(z1, z_ref, SCALE_RTOL), failures)
        R.check("1 replica: scores as Spark's PCA (up to sign)",
                R.scores_close(s1, s_ref, PCA_RTOL), failures)
        R.check("3 replicas: scaled rows equal 1 replica's", close(z3, z1, SCALE_RTOL), failures)
        R.check("3 replicas: scores equal 1 replica's (same signs)",
                close(s3, s1, 2 * PCA_RTOL), failures)
        R.check("3 replicas: one model, version 1", set(v3) == {1} and set(v1) == {1}, failures)
        print("max relative difference 1 vs 3 replicas: scaler "
              f"{max(np.max(np.abs(z3[:, j] - z1[:, j])) / max(np.max(np.abs(z1[:, j])), 1e-30) for j in range(D)):.2e}"
              f", pca {max(np.max(np.abs(s3[:, j] - s1[:, j])) / np.max(np.abs(s1[:, j])) for j in range(K)):.2e}")
        R.check("catches replicas fitting alone: scaler",
                not close(per_replica(x, 3, "scale"), z1, SCALE_RTOL), failures)
        R.check("catches replicas fitting alone: PCA",
                not R.scores_close(per_replica(R.spark_reference(x, K)[0].astype(np.float32), 3,
                                               "pca"), s1, 2 * PCA_RTOL), failures)

        (zs, vs), (ss, _) = pipeline(tmp, "sk", 2, flavor="sklearn")
        zk, sk = R.sklearn_reference(x, K)[:2]
        R.check("sklearn, 2 replicas: scaled as StandardScaler", close(zs, zk, SCALE_RTOL),
                failures)
        R.check("sklearn, 2 replicas: scores as PCA(full) (up to sign)",
                R.scores_close(ss, sk, PCA_RTOL), failures)

        (zt, vt), _ = pipeline(tmp, "stream", 3, fit="stream", refit_every=900)
        ok = vt.min() == 1 and set(vt) == set(range(1, vt.max() + 1)) and vt.max() >= 2
        for v in range(1, vt.max() + 1):
            seen = x[vt <= v].astype(np.float64)
            std = seen.std(axis=0, ddof=1)
            ref = x[vt == v] * np.where(std != 0, 1 / np.where(std != 0, std, 1), 0)
            ok = ok and close(zt[vt == v], ref, SCALE_RTOL)
        R.check("stream: the check catches replicas fitting alone",
                not close(per_replica(x[vt <= 1], 3, "scale"), zt[vt <= 1], SCALE_RTOL), failures)
        R.check(f"stream, 3 replicas: {vt.max()} versions, rows of version v scaled by the "
                "rows of versions <= v", ok, failures)
        # How many rows a round holds depends on timing (a round closes when
        # every replica has given its share; rows meanwhile wait for the
        # next), so only "more than one version" is asserted (in ok).
        with open(os.path.join(tmp, "stream.summary.json")) as f:
            R.check("stream: run summary written", "scale" in json.load(f)["stages"], failures)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
