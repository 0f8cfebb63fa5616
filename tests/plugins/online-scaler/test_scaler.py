"""online-scaler through the harness: fit batch (both flavors) against
scikit-learn and Spark's formulas, fit stream against the prefix fits and
model versions, save -> fit: none -> identical rows; each check also fed a
deliberate bug.  The spill file never appears in spill_dir."""
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/lib/stats"))
import reference as R  # noqa: E402

N, D, EVERY = 3000, 65, 700


def spark_scale(x):
    return R.spark_reference(x, 1)[0]


def main():
    failures = []
    x = R.make_data(N, D)
    with tempfile.TemporaryDirectory() as tmp:
        spill = os.path.join(tmp, "spill")
        os.mkdir(spill)
        model = os.path.join(tmp, "scaler.stats")
        for flavor in ("spark", "sklearn"):
            ref = R.sklearn_reference(x, 1)[0] if flavor == "sklearn" else spark_scale(x)
            out, meta, before, _ = R.run_stage(tmp, "online-scaler", x, D, flavor=flavor,
                                               fit="batch", model=model, spill_dir=spill)
            R.check(f"{flavor} batch: rows as the reference", R.rows_close(out, ref), failures)
            R.check(f"{flavor} batch: catches a 1e-4 error in one column",
                    not R.rows_close(out + np.eye(D, dtype=np.float32)[7] * 1e-4 * abs(ref).max(),
                                     ref), failures)
            if flavor == "spark":
                n = float(N)
                R.check("spark: catches the population std",
                        not R.rows_close(out * np.sqrt((n - 1) / n), ref), failures)
            R.check(f"{flavor} batch: nothing emitted before the end", before == 0, failures)
            R.check(f"{flavor} batch: ids, keys, labels, version 1",
                    meta == R.expected_meta(N, [1] * N), failures)
            again, meta2, _, _ = R.run_stage(tmp, "online-scaler", x, D, flavor=flavor,
                                             fit="none", model=model)
            R.check(f"{flavor} save -> fit: none: identical rows", np.array_equal(again, out),
                    failures)
            R.check(f"{flavor} fit: none: stamped with the model's version",
                    meta2 == R.expected_meta(N, [1] * N), failures)

        out, meta, before, _ = R.run_stage(tmp, "online-scaler", x, D, flavor="spark",
                                           fit="stream", refit_every=EVERY, spill_dir=spill)
        versions = [r // EVERY + 1 for r in range(N)]
        R.check("stream: versions by refit", meta == R.expected_meta(N, versions), failures)
        R.check("stream: rows wait only until the next refit", before == (N // EVERY) * EVERY,
                failures)
        ok = True
        for v in range(1, versions[-1] + 1):
            rows = [r for r in range(N) if versions[r] == v]
            prefix = x[: min(N, v * EVERY)]
            std = prefix.astype(np.float64).std(axis=0, ddof=1)
            ref = x[rows] * np.where(std != 0, 1 / np.where(std != 0, std, 1), 0)
            ok = ok and R.rows_close(out[rows], ref)
            R.check(f"stream: version {v} is not the full fit",
                    v == versions[-1] or not R.rows_close(out[rows], spark_scale(x)[rows]),
                    failures)
        R.check("stream: each row scaled by the first fit that saw it", ok, failures)
        R.check("spill_dir left empty", os.listdir(spill) == [], failures)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
