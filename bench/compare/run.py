#!/usr/bin/python3
"""bench/compare — two versions of flowrun on pipelines/fruits.yaml, in one run:

    /usr/bin/python3 bench/compare/run.py [--old REV] [--new REV] [--images 150]
                     [--rounds 5] [--old-args ARGS] [--new-args ARGS]
                     [--work DIR] [--jobs 2]

Builds each version (a git revision of this repository, or the working tree
as it is: --new . , the default) in its own build tree under WORK: a
revision is exported with `git archive` into WORK/src/SHA (the repository and
its worktrees are not touched), configured without tests and benchmarks, in
the default build type, and only `flowrun` and the plugins that version's
pipelines/fruits.yaml names are built.  ccache is used when it is on PATH.

Then it generates --images make-fruits images and a seeded Keras ResNet50
(make-resnet50 of the new version: both versions run on the very same files)
and runs each version's own pipelines/fruits.yaml on them --rounds times,
old and new alternating (old first in odd rounds, new first in even ones),
each run from a fresh state and output folder.  Per run: wall seconds from
start to exit and CPU seconds (user + system of flowrun and all its threads,
from wait4).  Each run must take in every image and write a CSV row for each.

Printed: every run; the medians per version and the spread (max/min) of
each version's runs; new/old of the medians; new/old round by round (the
two runs of a round are neighbours in time, so a machine whose load changes
bends both alike: on a shared machine, the figure to read); and each
stage's median busy seconds (the run summary's: where a difference comes
from).  --old-args/--new-args add `flowrun run` options to one side
(--new-args=--no-ledger: the comparison without what the durable-runs
ledger costs).  The load average is printed before and after; a JSON copy
of the figures goes to WORK/results.json.

The default --old is d2c836c, the last commit before the issue-22
restructuring (exports, source and fitted bases, engine folders, run
snapshots); bench/compare/README.md has the figures.
"""
import argparse
import csv
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "common"))
import fruits_data  # noqa: E402
from fruits_data import load, sh  # noqa: E402

DEFAULT_OLD = "d2c836c"
DATA_TOOLS = ["make-fruits", "make-resnet50"]


class Version:
    """One side of the comparison: its source tree, build tree and name."""

    def __init__(self, rev, work, run_args=""):
        self.run_args = shlex.split(run_args)
        if rev == ".":
            self.name, self.src = "worktree", ROOT
            self.label = "working tree (HEAD %s%s)" % (
                git("rev-parse", "--short", "HEAD"),
                ", with changes" if git("status", "--porcelain", "--untracked-files=no") else "")
        else:
            sha = git("rev-parse", "--verify", rev + "^{commit}")
            self.name, self.label = sha[:12], "%s (%s)" % (rev, git("log", "-1", "--format=%h %s",
                                                                     sha)[:72])
            self.src = os.path.join(work, "src", self.name)
            if not os.path.isdir(self.src):
                export(sha, self.src)
        if self.run_args:
            self.label += ", run with " + " ".join(self.run_args)
        self.build = os.path.join(work, "build", self.name)
        self.pipeline = os.path.join(self.src, "pipelines", "fruits.yaml")

    def plugins(self):
        with open(self.pipeline) as f:
            return sorted(set(re.findall(r"^\s+plugin:\s*([\w-]+)", f.read(), re.M)))

    def make(self, jobs, extra_targets=()):
        if not os.path.exists(os.path.join(self.build, "CMakeCache.txt")):
            cmd = ["cmake", "-S", self.src, "-B", self.build, "-DFLOWRUN_TESTS=OFF",
                   "-DFLOWRUN_BENCH=OFF"]
            if shutil.which("ccache"):
                cmd.append("-DCMAKE_C_COMPILER_LAUNCHER=ccache")
            sh(cmd)
        targets = ["flowrun-cli"] + ["plugin-" + p for p in self.plugins()] + list(extra_targets)
        t0 = time.perf_counter()
        sh(["cmake", "--build", self.build, "-j", jobs, "--target"] + targets)
        print("built %s: %s in %.0f s" % (self.name, self.label, time.perf_counter() - t0),
              flush=True)


def git(*args):
    return sh(["git", "-C", ROOT] + list(args)).strip()


def export(sha, dest):
    """The tree of commit `sha` into `dest` (made here; removed again on failure)."""
    os.makedirs(dest)
    archive = subprocess.Popen(["git", "-C", ROOT, "archive", sha], stdout=subprocess.PIPE)
    untar = subprocess.run(["tar", "-x", "-C", dest], stdin=archive.stdout)
    archive.stdout.close()
    if archive.wait() or untar.returncode:
        shutil.rmtree(dest, ignore_errors=True)
        sys.exit("git archive %s into %s failed" % (sha, dest))


def one_run(v, work, env, n):
    """Runs v's fruits.yaml once; returns its wall and CPU seconds."""
    base = os.path.join(work, "runs", v.name)
    shutil.rmtree(base, ignore_errors=True)
    out = os.path.join(base, "out")
    os.makedirs(out)
    env = dict(env, XDG_STATE_HOME=os.path.join(base, "state"), FRUITS_OUTPUT=out,
               FLOWRUN_PLUGIN_PATH=os.path.join(v.build, "lib", "flowrun", "plugins"))
    summary = os.path.join(base, "summary.json")
    cmd = [os.path.join(v.build, "bin", "flowrun"), "run", "--no-progress", "--summary",
           summary, *v.run_args, v.pipeline]
    with open(os.path.join(base, "stderr"), "w") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with open(os.path.join(base, "stderr")) as f:
            sys.exit("%s: flowrun exited %d:\n%s" % (v.name, code, f.read()[-3000:]))
    with open(summary) as f:
        summary = json.load(f)
    records = summary["records_in"]
    with open(os.path.join(out, "features.csv"), newline="") as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
    if records != n or rows != n:
        sys.exit("%s: %d images, %d records in, %d CSV rows" % (v.name, n, records, rows))
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "busy": {name: st.get("busy_seconds", 0.0) for name, st in summary["stages"].items()}}


def stage_busy(runs):
    """{stage: (old median, new median)} of busy seconds, for the stages both
    versions' summaries name: where a difference comes from."""
    names = [s for s in runs["old"][0]["busy"] if s in runs["new"][0]["busy"]]
    return {s: tuple(statistics.median(r["busy"][s] for r in runs[v]) for v in ("old", "new"))
            for s in names}


def spread(xs):
    return max(xs) / min(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--old", default=DEFAULT_OLD, help="the older revision (default %(default)s)")
    ap.add_argument("--new", default=".", help="the newer revision; '.': the working tree "
                    "(default)")
    ap.add_argument("--old-args", default="", help="more `flowrun run` options for the old "
                    "version (e.g. --queue 32)")
    ap.add_argument("--new-args", default="", help="more `flowrun run` options for the new "
                    "version (e.g. --no-ledger, to see what the ledger costs)")
    ap.add_argument("--images", type=int, default=150, help="make-fruits images (about)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work", help="build trees, images and runs go here and stay (default: a "
                    "temporary folder, removed at the end)")
    ap.add_argument("--jobs", default="2", help="parallel build jobs (default %(default)s)")
    a = ap.parse_args()
    work = fruits_data.work_dir(a.work, "compare")

    old, new = Version(a.old, work, a.old_args), Version(a.new, work, a.new_args)
    if old.name == new.name:
        sys.exit("--old and --new are the same version (%s)" % old.name)
    new.make(a.jobs, DATA_TOOLS)
    old.make(a.jobs)
    images = fruits_data.images(new.build, work, a.images)
    model = fruits_data.keras_model(new.build, work)
    n = sum(len(fs) for _, _, fs in os.walk(images))
    env = dict(os.environ, OMP_NUM_THREADS="2", FRUITS_INPUT=images, FRUITS_MODEL=model)
    for k in ("FRUITS_DEAD_LETTERS", "FRUITS_STATS", "FRUITS_PRECISION", "FLOWRUN_FAILPOINT"):
        env.pop(k, None)

    before = load()
    print("\nbench/compare: fruits.yaml on %d make-fruits images, %d rounds; load average %s"
          % (n, a.rounds, " ".join(before)), flush=True)
    runs = {"old": [], "new": []}
    for r in range(a.rounds):
        for side in (("old", "new") if r % 2 == 0 else ("new", "old")):
            got = one_run(old if side == "old" else new, work, env, n)
            runs[side].append(got)
            print("  round %d %s: wall %6.2f s  cpu %6.2f s" % (r + 1, side, got["wall"],
                                                                  got["cpu"]), flush=True)
    after = load()

    med = {s: {k: statistics.median(x[k] for x in runs[s]) for k in ("wall", "cpu")}
           for s in runs}
    spr = {s: {k: spread([x[k] for x in runs[s]]) for k in ("wall", "cpu")} for s in runs}
    print("\n  old = %s\n  new = %s" % (old.label, new.label))
    for s in ("old", "new"):
        print("  %s: median wall %.2f s, cpu %.2f s (%.1f ms/image); spread wall %.3fx, cpu "
              "%.3fx" % (s, med[s]["wall"], med[s]["cpu"], 1000 * med[s]["cpu"] / n,
                         spr[s]["wall"], spr[s]["cpu"]))
    ratio = {k: med["new"][k] / med["old"][k] for k in ("wall", "cpu")}
    print("  new/old of the medians: cpu %.3f, wall %.3f" % (ratio["cpu"], ratio["wall"]))
    paired = {k: sorted(n_[k] / o[k] for o, n_ in zip(runs["old"], runs["new"]))
              for k in ("wall", "cpu")}
    for k in ("cpu", "wall"):
        print("  new/old round by round: %s median %.3f (%.3f to %.3f)"
              % (k, statistics.median(paired[k]), paired[k][0], paired[k][-1]))
    busy = stage_busy(runs)
    print("  median busy seconds per stage (wall time at work, the run summary's):")
    for name, (o, n_) in busy.items():
        print("    %-10s old %7.3f  new %7.3f  %s" % (name, o, n_, "new/old %.3f" % (n_ / o)
                                                     if o > 0.05 else ""))
    print("  load average before %s, after %s" % (" ".join(before), " ".join(after)), flush=True)

    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"old": old.label, "new": new.label, "images": n, "rounds": a.rounds,
                   "runs": runs, "median": med, "spread": spr, "ratio_new_old": ratio, "paired_ratios": paired,
                   "stage_busy": busy,
                   "load_before": before, "load_after": after}, f, indent=1)
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
