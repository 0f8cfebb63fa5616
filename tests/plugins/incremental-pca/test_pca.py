"""incremental-pca through the harness: fit batch (both flavors) against
scikit-learn's PCA(svd_solver="full") (same signs: svd_flip) and Spark's
formulas (up to sign), explained variance in the report, fit stream against
the prefix fits, save -> fit: none -> identical rows; each check also fed a
deliberate bug.  The spill file never appears in spill_dir."""
import os
import sys
import tempfile

import numpy as np
from sklearn.decomposition import PCA

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/lib/stats"))
import reference as R  # noqa: E402

N, D, K, EVERY = 3000, 65, 8, 1200


def spark_pca(z, k):
    w, v = np.linalg.eigh(np.cov(z.astype(np.float64), rowvar=False))
    order = np.argsort(w)[::-1][:k]
    return z.astype(np.float64) @ v[:, order], w[order] / w.sum()


def batch(tmp, spill, failures):
    x = R.make_data(N, D)
    model = os.path.join(tmp, "pca.stats")
    for flavor in ("spark", "sklearn"):
        # The stage's input is the scaler's output, as in the pipeline.
        z = (R.sklearn_reference(x, 1) if flavor == "sklearn" else R.spark_reference(x, 1))[0]
        z = z.astype(np.float32)
        if flavor == "sklearn":
            ref_pca = PCA(n_components=K, svd_solver="full")
            ref = ref_pca.fit_transform(z.astype(np.float64))
            ratio = ref_pca.explained_variance_ratio_
        else:
            ref, ratio = spark_pca(z, K)
        out, meta, before, report = R.run_stage(tmp, "incremental-pca", z, K, components=K,
                                                flavor=flavor, model=model, spill_dir=spill)
        R.check(f"{flavor}: scores up to sign", R.scores_close(out, ref), failures)
        if flavor == "sklearn":
            R.check("sklearn: signs as svd_flip", R.rows_close(out, ref, 1e-4), failures)
            R.check("sklearn: catches one flipped sign",
                    not R.rows_close(out * np.r_[1, -1, np.ones(K - 2)], ref, 1e-4), failures)
        swapped = out[:, [0, 1, 3, 2] + list(range(4, K))]
        R.check(f"{flavor}: catches swapped near-equal components",
                not R.scores_close(swapped, ref), failures)
        other = out - out.mean(axis=0) if flavor == "spark" else out + 0.05 * out.std(axis=0)
        R.check(f"{flavor}: catches the other centring", not R.scores_close(other, ref), failures)
        R.check(f"{flavor}: explained variance ratio in the report",
                np.allclose(report["explained_variance_ratio"], ratio, rtol=1e-5), failures)
        R.check(f"{flavor}: nothing emitted before the end", before == 0, failures)
        R.check(f"{flavor}: ids, keys, labels, version 1", meta == R.expected_meta(N, [1] * N),
                failures)
        again, _, _, _ = R.run_stage(tmp, "incremental-pca", z, K, components=K, flavor=flavor,
                                     fit="none", model=model)
        R.check(f"{flavor}: save -> fit: none: identical rows", np.array_equal(again, out),
                failures)
    return z


def stream(tmp, spill, z, failures):
    out, meta, before, _ = R.run_stage(tmp, "incremental-pca", z, K, components=K,
                                       flavor="spark", fit="stream", refit_every=EVERY,
                                       spill_dir=spill)
    versions = [r // EVERY + 1 for r in range(N)]
    R.check("stream: versions by refit", meta == R.expected_meta(N, versions), failures)
    R.check("stream: rows wait only until the next refit", before == (N // EVERY) * EVERY,
            failures)
    ok, caught = True, True
    for v in range(1, versions[-1] + 1):
        rows = [r for r in range(N) if versions[r] == v]
        ref = spark_pca(z[: v * EVERY], K)[0]
        ok = ok and R.scores_close(out[rows], ref[rows])
        if v * EVERY < N:
            caught = caught and not R.scores_close(out[rows], spark_pca(z, K)[0][rows])
    R.check("stream: each row projected by the first fit that saw it", ok, failures)
    R.check("stream: catches rows projected by the final fit", caught, failures)


def main():
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        spill = os.path.join(tmp, "spill")
        os.mkdir(spill)
        z = batch(tmp, spill, failures)
        stream(tmp, spill, z, failures)
        R.check("spill_dir left empty", os.listdir(spill) == [], failures)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
