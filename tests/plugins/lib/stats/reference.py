"""Shared by the stats and plugin tests: generated data with a realistic
spectrum, the references (scikit-learn, Spark's formulas in numpy) and the
comparison, each comparison proven to catch a deliberate bug."""
import numpy as np
from scipy.linalg import hadamard
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

ZERO_COLUMN = 5


def make_data(n, d, seed=6):
    """float32 rows: decaying spectrum with a near-equal pair (ranks 3 and 4,
    0.5 % apart), a large mean, and a zero-variance column.  The basis is a
    Hadamard matrix (d - 1 a power of 2, the constant column inserted at
    ZERO_COLUMN): every other column then has the same
    variance, so standardising keeps the spectrum's shape; the latent
    scores are whitened so that the sample spectrum is exactly lam (random
    sampling would split the pair by a few %)."""
    rng = np.random.default_rng(seed)
    m = d - 1
    lam = 40.0 * 0.7 ** np.arange(m)
    lam[3] = lam[2] * 0.995
    q = hadamard(m) / np.sqrt(m)
    g = rng.standard_normal((n, m))
    g, _ = np.linalg.qr(g - g.mean(axis=0))
    x = (g * np.sqrt((n - 1) * lam)) @ q.T
    x += rng.normal(0, 20, m)
    x = np.insert(x, ZERO_COLUMN, 3.0, axis=1)
    return x.astype(np.float32)


def sklearn_reference(x, k):
    """StandardScaler + PCA(svd_solver="full") in float64."""
    z = StandardScaler().fit_transform(x.astype(np.float64))
    pca = PCA(n_components=k, svd_solver="full")
    scores = pca.fit_transform(z)
    return z, scores, pca.explained_variance_, pca.explained_variance_ratio_


def spark_reference(x, k):
    """Spark ML, independently in numpy: StandardScaler(withMean=False,
    withStd=True) with the n-1 std and 0 for zero-variance columns; PCA from
    the centred covariance, transform = components^T x without centring."""
    x = x.astype(np.float64)
    std = x.std(axis=0, ddof=1)
    z = x * np.where(std != 0, 1 / np.where(std != 0, std, 1), 0)
    w, v = np.linalg.eigh(np.cov(z, rowvar=False))
    order = np.argsort(w)[::-1][:k]
    return z, z @ v[:, order], w[order], w[order] / w.sum()


def scores_close(ours, ref, rtol=1e-4):
    """Per component, up to sign: max |ours - ref| <= rtol * max |ref|."""
    for j in range(ref.shape[1]):
        sign = 1.0 if np.dot(ours[:, j], ref[:, j]) >= 0 else -1.0
        if np.max(np.abs(sign * ours[:, j] - ref[:, j])) > rtol * np.max(np.abs(ref[:, j])):
            return False
    return True


def rows_close(ours, ref, rtol=1e-5):
    return np.max(np.abs(ours - ref)) <= rtol * max(np.max(np.abs(ref)), 1e-30)


def check(name, ok, failures):
    print(("ok   " if ok else "FAIL ") + name)
    if not ok:
        failures.append(name)


def run_stage(tmp, plugin, x, out_dim, **config):
    """Pushes x's rows through the plugin (harness driver stage_rows.c).
    Returns (outputs, [(id, key, label, version)], emitted_before_flush,
    report json or None)."""
    out, meta, counts, _ = run_stage_env(tmp, plugin, x, out_dim, {}, **config)
    return out, meta, counts["emitted_before_flush"], counts.get("report")


def run_stage_env(tmp, plugin, x, out_dim, env, **config):
    """run_stage with the driver's environment (STAGE_ROWS_STATE, _FROM,
    _KILL_AFTER: a crash and its rerun).  Returns (outputs, meta, counts:
    {"emitted_before_flush", "checkpointed", "rows_reloaded",
    "duplicates_skipped", "rows_seen_again", "report"}, the driver's return code); outputs and
    meta are None when the driver was killed."""
    import json
    import os
    import subprocess

    tool = os.path.join(os.environ["FLOWRUN_BUILD_DIR"], "tests", "test-stats-stage-rows")
    paths = [os.path.join(tmp, f) for f in ("in.f32", "out.f32", "meta.txt")]
    x.astype(np.float32).tofile(paths[0])
    args = [f"{k}={v}" for k, v in config.items()]
    run = subprocess.run([tool, plugin, str(x.shape[0]), str(x.shape[1])] + paths + args,
                         env=dict(os.environ, **env))
    if run.returncode != 0:
        return None, None, {}, run.returncode
    meta, counts = [], {}
    with open(paths[2]) as f:
        for line in f:
            word, _, rest = line.rstrip("\n").partition(" ")
            if word == "report":
                counts[word] = json.loads(rest)
            elif len(line.split()) == 2:
                counts[word] = int(rest)
            else:
                i, k, label, version = line.split()
                meta.append((i, k, label, int(version)))
    out = np.fromfile(paths[1], np.float32).reshape(len(meta), out_dim)
    return out, meta, counts, 0


def expected_meta(n, versions):
    return [(f"src:{r}", f"k/{r}", f"L{r % 3}", versions[r]) for r in range(n)]
