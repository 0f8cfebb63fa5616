"""flowrun-stats scaler -> PCA against scikit-learn and Spark's formulas,
single pass and merged from 2 and 5 partial states; every comparison is
also fed a deliberate bug and must reject it."""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as R  # noqa: E402

N, D, K = 3000, 65, 8
TOOL = os.path.join(os.environ["FLOWRUN_BUILD_DIR"], "tests", "test-stats-tool")


def run_tool(tmp, x, flavor, parts):
    inp = os.path.join(tmp, "x.f32")
    x.tofile(inp)
    out = [os.path.join(tmp, f) for f in ("z.f32", "s.f32", "v.f64")]
    subprocess.run([TOOL, flavor, str(K), str(parts), str(N), str(D), inp] + out, check=True)
    z = np.fromfile(out[0], np.float32).reshape(N, D)
    s = np.fromfile(out[1], np.float32).reshape(N, K)
    v = np.fromfile(out[2], np.float64)
    return z, s, v[:K], v[K:]


def main():
    failures = []
    x = R.make_data(N, D)
    with tempfile.TemporaryDirectory() as tmp:
        for flavor, ref_fn in (("sklearn", R.sklearn_reference), ("spark", R.spark_reference)):
            rz, rs, rv, rr = ref_fn(x, K)
            single = None
            for parts in (1, 2, 5):
                z, s, v, r = run_tool(tmp, x, flavor, parts)
                tag = f"{flavor} parts={parts}"
                R.check(f"{tag}: scaled rows", R.rows_close(z, rz), failures)
                R.check(f"{tag}: scores", R.scores_close(s, rs), failures)
                R.check(f"{tag}: explained variance", np.allclose(v, rv, rtol=1e-5), failures)
                R.check(f"{tag}: ratio", np.allclose(r, rr, rtol=1e-5), failures)
                if single is None:
                    single = s
                else:
                    R.check(f"{tag}: merged == single pass", R.rows_close(s, single), failures)
            if flavor == "sklearn":
                # scikit-learn 1.2's svd_flip: same signs, not only up to sign.
                R.check("sklearn: signs as svd_flip", R.rows_close(s, rs, 1e-4), failures)
            # Deliberate bugs the checks must catch.
            n = float(N)
            wrong_ddof = z * np.sqrt((n - 1) / n) if flavor == "spark" else z * np.sqrt(n / (n - 1))
            R.check(f"{flavor}: catches the other std", not R.rows_close(wrong_ddof, rz), failures)
            swapped = s.copy()
            swapped[:, [2, 3]] = swapped[:, [3, 2]]
            R.check(f"{flavor}: catches swapped near-equal components",
                    not R.scores_close(swapped, rs), failures)
            shifted = s + (1 if flavor == "spark" else -1) * (s.mean(axis=0) + 1e-2 * s.std(axis=0))
            R.check(f"{flavor}: catches (un)centred scores", not R.scores_close(shifted, rs), failures)
            R.check(f"{flavor}: catches a 1e-3 error in one component",
                    not R.scores_close(s * np.r_[np.ones(K - 1), 1.001], rs), failures)
            R.check(f"{flavor}: zero-variance column as the reference",
                    np.all(z[:, R.ZERO_COLUMN] == rz[:, R.ZERO_COLUMN]), failures)
        gaps = np.diff(-rv) / rv[:-1]
        print("relative eigen gaps (spark):", np.round(gaps, 4))
        R.check("data has near-equal eigenvalues (< 2 %)", gaps.min() < 0.02, failures)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
