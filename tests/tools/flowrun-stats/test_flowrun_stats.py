"""flowrun-stats merge and show.  Each stage is fitted (fit: batch) on 2 and on
5 disjoint shards of the rows, one model file per shard as hosts would save
them; the merged file applied with fit: none must give the outputs of one fit
over all rows (PCA: up to the sign of each component, as the merge documents).
Each comparison is fed deliberate bugs (a shard left out, a shard merged
twice) and must fail on them.  Then the errors (kinds, columns, missing and
damaged files, usage) and show's text and JSON."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.decomposition import PCA

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/lib/stats"))
import reference as R  # noqa: E402

N, D, K = 3000, 65, 8
TOOL = sys.argv[1]
# Merged moments equal the single run's up to double rounding, so the outputs
# agree to float32 rounding (measured: identical); the deliberate bugs move
# them by 7e-3 (scaler) to 0.2 (PCA) of their largest value.
RTOL = 1e-6


class Stage:
    """A stage's configuration and input, run on all rows or on shards."""

    def __init__(self, tmp, plugin, x, out_dim, **config):
        self.tmp, self.plugin, self.x, self.out_dim = tmp, plugin, x, out_dim
        self.config = dict(config, spill_dir=os.path.join(tmp, "spill"))

    def path(self, name):
        return os.path.join(self.tmp, f"{self.plugin}-{name}.stats")

    def fit(self, name, rows):
        R.run_stage(self.tmp, self.plugin, self.x[rows], self.out_dim, fit="batch",
                    model=self.path(name), **self.config)
        return self.path(name)

    def apply(self, model):
        return R.run_stage(self.tmp, self.plugin, self.x, self.out_dim, fit="none", model=model,
                           **self.config)[0]

    def shards(self, parts):
        return [self.fit(f"part{parts}-{i}", rows)
                for i, rows in enumerate(np.array_split(np.arange(N), parts))]


def tool(*args):
    """Runs flowrun-stats.  A sanitizer report also exits 1, the code of the
    file errors expected below, so it is caught here by its text."""
    r = subprocess.run([TOOL, *args], capture_output=True, text=True)
    if "Sanitizer" in r.stderr:
        raise RuntimeError(f"flowrun-stats {args}: {r.stderr}")
    return r


def merge(out, inputs):
    r = tool("merge", "-o", out, *inputs)
    if r.returncode != 0:
        raise RuntimeError(f"merge {inputs}: exit {r.returncode}: {r.stderr}")
    return out


def merged_output(stage, name, inputs):
    return stage.apply(merge(stage.path(name), inputs))


def check_merges(stage, close, failures):
    """2 and 5 shards merged == all rows; a missing or doubled shard is caught."""
    single = stage.apply(stage.fit("single", np.arange(N)))
    for parts in (2, 5):
        files = stage.shards(parts)
        out = merged_output(stage, f"merged{parts}", files)
        R.check(f"{stage.plugin}: {parts} shards merged == one fit on all rows",
                close(out, single), failures)
        info = json.loads(tool("show", "--json", stage.path(f"merged{parts}")).stdout)
        R.check(f"{stage.plugin}: {parts} shards: rows {N}, version 2",
                (info["rows"], info["model_version"]) == (N, 2), failures)
    missing = merged_output(stage, "missing", files[:4])
    R.check(f"{stage.plugin}: catches a shard left out", not close(missing, single), failures)
    twice = merged_output(stage, "twice", files + files[2:3])
    R.check(f"{stage.plugin}: catches a shard merged twice", not close(twice, single), failures)
    return files


def check_fails(what, args, path, failures, code=1, also=""):
    r = tool(*args)
    ok = r.returncode == code and path in r.stderr and also in r.stderr
    R.check(f"{what}: exit {code}, stderr has {os.path.basename(path)!r}", ok, failures)
    if not ok:
        print(f"     exit {r.returncode}, stderr: {r.stderr.strip()}")


def check_errors(tmp, scaler, pca_files, scaler_files, failures):
    out = os.path.join(tmp, "never.stats")
    check_fails("scaler file with a PCA file", ["merge", "-o", out, scaler_files[0], pca_files[1]],
                pca_files[1], failures)
    narrow = Stage(tmp, "online-scaler", scaler.x[:, :33].copy(), 33, **scaler.config)
    narrow_file = narrow.fit("narrow", np.arange(100))
    check_fails("different column counts", ["merge", "-o", out, scaler_files[0], narrow_file],
                narrow_file, failures)
    missing = os.path.join(tmp, "no-such.stats")
    check_fails("missing file", ["merge", "-o", out, pca_files[0], missing], missing, failures)
    truncated = os.path.join(tmp, "truncated.stats")
    with open(pca_files[1], "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[: len(data) // 2])
    check_fails("truncated file", ["merge", "-o", out, pca_files[0], truncated], truncated,
                failures, also="truncated")
    flipped = os.path.join(tmp, "flipped.stats")
    with open(flipped, "wb") as f:
        f.write(data[:200] + bytes([data[200] ^ 1]) + data[201:])
    check_fails("damaged file", ["merge", "-o", out, pca_files[0], flipped], flipped, failures,
                also="checksum")
    check_fails("show: a missing file among good ones", ["show", pca_files[0], missing], missing,
                failures)
    R.check("no output written on errors", not os.path.exists(out), failures)
    check_fails("one input", ["merge", "-o", out, pca_files[0]], "at least 2", failures, code=2)
    check_fails("no -o", ["merge", *pca_files], "-o OUT", failures, code=2)
    check_fails("--components 0", ["merge", "--components", "0", "-o", out, *pca_files],
                "--components", failures, code=2)
    check_fails("unknown command", ["split"], "split", failures, code=2)


def check_show(pca, z, failures):
    ratio = PCA(n_components=K, svd_solver="full").fit(z.astype(np.float64))
    ratio = ratio.explained_variance_ratio_
    merged = pca.path("merged5")
    text = tool("show", merged)
    R.check("show: exit 0, components and explained variance",
            text.returncode == 0 and f"components     {K}" in text.stdout
            and f"component 1    {ratio[0]:.6f}  cumulative {ratio[0]:.6f}" in text.stdout
            and f"cumulative {ratio[:2].sum():.6f}" in text.stdout, failures)
    lines = tool("show", "--json", merged, pca.path("single")).stdout.splitlines()
    info = [json.loads(line) for line in lines]
    R.check("show --json: one object per file, rows, columns, components",
            [(i["rows"], i["columns"], i["components"], i["pca"]) for i in info]
            == [(N, D, K, True)] * 2, failures)
    R.check("show --json: explained variance ratio as scikit-learn",
            np.allclose(info[0]["explained_variance_ratio"], ratio, rtol=1e-5)
            and np.allclose(info[0]["cumulative_explained_variance_ratio"], np.cumsum(ratio),
                            rtol=1e-5), failures)
    helps = [tool(*a) for a in (["--help"], ["show", "-h"], ["merge", "--help"])]
    R.check("--help on the command and each subcommand",
            all(h.returncode == 0 and "Usage: flowrun-stats" in h.stdout for h in helps)
            and "loadings rule" in helps[2].stdout, failures)


def main():
    failures = []
    tmp = tempfile.mkdtemp(prefix="fstats-")
    try:
        os.mkdir(os.path.join(tmp, "spill"))
        x = R.make_data(N, D)
        # incremental-pca's input is the scaler's output, as in the pipeline.
        z = R.sklearn_reference(x, 1)[0].astype(np.float32)
        pca = Stage(tmp, "incremental-pca", z, K, components=K, flavor="sklearn")
        pca_files = check_merges(pca, lambda a, b: R.scores_close(a, b, RTOL), failures)
        scaler = Stage(tmp, "online-scaler", x, D, flavor="sklearn")
        scaler_files = check_merges(scaler, lambda a, b: R.rows_close(a, b, RTOL), failures)
        check_errors(tmp, scaler, pca_files, scaler_files, failures)
        check_show(pca, z, failures)
        R.check("spill_dir left empty", os.listdir(os.path.join(tmp, "spill")) == [], failures)
    finally:
        shutil.rmtree(tmp)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
