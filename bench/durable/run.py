#!/usr/bin/python3
"""bench/durable — what a crash costs: pipelines/fruits.yaml killed with
SIGKILL at random moments and run again until it exits 0, against the same
run uninterrupted, in one bench run:

    /usr/bin/python3 bench/durable/run.py BUILD [--images 1000] [--kills 5]
                     [--seed 1] [--work DIR]

BUILD is a (Release or default) build tree: BUILD/bin/flowrun, make-fruits,
make-resnet50, BUILD/lib/flowrun/plugins.  It generates --images make-fruits
images in a local directory (s3-source with a plain path) and a seeded Keras
ResNet50 (make-resnet50), then:

 1. runs fruits.yaml uninterrupted on a fresh state directory
    (XDG_STATE_HOME under WORK): its CPU time (user + system of the flowrun
    process, from wait4) and its wall time after the "data flowing" line;
 2. on another fresh state directory, draws --kills moments (seeded,
    uniform over the uninterrupted run's wall time after "data flowing"),
    sorted; attempt k (a rerun resumes about where the last was killed) is
    killed (SIGKILL) the gap between moments k-1 and k after its "data
    flowing" line; then the command runs once more until it exits 0 (an
    attempt that ends before its kill is the last);
 3. prints the CPU time of all the attempts together over the uninterrupted
    run's (target <= 1.5x), and checks the outputs: features.csv of both
    hold the same keys, once each, and the same values (within 1e-4 of the
    largest magnitude: float rounding of sums formed in another order).

The machine is shared: the load average is printed before and after; the
ratio of one bench run is what counts, not the absolute numbers.  A JSON
copy of the results goes to WORK/results.json.
"""
import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "common"))
import fruits_data  # noqa: E402
from fruits_data import load  # noqa: E402


class Bench:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.work = fruits_data.work_dir(a.work, "durable")
        self.flowrun = os.path.join(self.build, "bin", "flowrun")
        self.env = fruits_data.flowrun_env(self.build)

    def data(self):
        self.images = fruits_data.images(self.build, self.work, self.a.images)
        self.n = sum(len(fs) for _, _, fs in os.walk(self.images))
        self.model = fruits_data.keras_model(self.build, self.work)

    def scenario_env(self, name):
        """A fresh state directory and output folder for one scenario."""
        base = os.path.join(self.work, name)
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(os.path.join(base, "out"))
        return dict(self.env, XDG_STATE_HOME=os.path.join(base, "state"),
                    FRUITS_INPUT=self.images, FRUITS_MODEL=self.model,
                    FRUITS_OUTPUT=os.path.join(base, "out"))

    def attempt(self, env, kill_after=None):
        """One flowrun run: (exit code, CPU seconds, wall seconds after "data
        flowing"), killed kill_after seconds after that line if given."""
        p = subprocess.Popen([self.flowrun, "-v", os.path.join(ROOT, "pipelines/fruits.yaml")],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
        flowing, tail = [], []

        def read():  # drain stderr; the kill timer starts at the "data flowing" line
            for line in p.stderr:
                tail.append(line)
                del tail[:-40]
                if "data flowing" in line and not flowing:
                    flowing.append(time.perf_counter())
                    if kill_after is not None:
                        threading.Timer(kill_after, lambda: p.send_signal(signal.SIGKILL)).start()
        reader = threading.Thread(target=read)
        reader.start()
        _, status, usage = os.wait4(p.pid, 0)
        end = time.perf_counter()
        reader.join()
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, -signal.SIGKILL):
            sys.exit(f"flowrun exited {code}:\n{''.join(tail)}")
        return code, usage.ru_utime + usage.ru_stime, end - flowing[0] if flowing else 0.0

    def run(self):
        a = self.a
        load0 = load()
        self.data()
        env = self.scenario_env("uninterrupted")
        code, cpu0, wall0 = self.attempt(env)
        reference = read_csv(os.path.join(env["FRUITS_OUTPUT"], "features.csv"))
        # --kills moments of the job, uniform over the uninterrupted run's
        # time after "data flowing"; each attempt (which resumes about where
        # the last one was killed) is killed at the next one.
        rng = random.Random(a.seed)
        moments = sorted(rng.uniform(0, wall0) for _ in range(a.kills))
        delays = [t - s for s, t in zip([0.0] + moments, moments)]
        env = self.scenario_env("killed")
        attempts, kills = [], 0
        while True:
            delay = delays[kills] if kills < a.kills else None
            code, cpu, wall = self.attempt(env, delay)
            attempts.append({"kill_after": delay, "exit": code, "cpu_seconds": cpu})
            print(f"  attempt {len(attempts)}: {'killed after %.1f s' % delay if code else 'exit 0'}"
                  f", CPU {cpu:.1f} s", flush=True)
            kills += code != 0
            if code == 0:
                break
        got = read_csv(os.path.join(env["FRUITS_OUTPUT"], "features.csv"))
        same, why = compare(got, reference)
        cpu_all = sum(x["cpu_seconds"] for x in attempts)
        load1 = load()
        result = {"images": self.n, "kills": kills, "seed": a.seed,
                  "uninterrupted_cpu_seconds": cpu0, "uninterrupted_wall_after_flowing": wall0,
                  "attempts": attempts, "cpu_seconds_all_attempts": cpu_all,
                  "ratio": cpu_all / cpu0, "output_equal": same, "difference": why,
                  "load_before": load0, "load_after": load1}
        with open(os.path.join(self.work, "results.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(f"\nbench/durable: fruits.yaml on {self.n} make-fruits images, seed {a.seed}\n"
              f"  uninterrupted: CPU {cpu0:.1f} s\n"
              f"  {kills} SIGKILLs, {len(attempts)} attempts: CPU {cpu_all:.1f} s\n"
              f"  ratio {cpu_all / cpu0:.2f}x (target <= 1.5x)\n"
              f"  output equal to the uninterrupted run's: {'yes' if same else 'NO: ' + why}\n"
              f"  load average before {' '.join(load0)}, after {' '.join(load1)}")
        return 0 if same else 1


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, strict=True))
    return rows[0], rows[1:]


def compare(got, want):
    """Same header, same keys once each, same labels, values within 1e-4 of
    the largest magnitude.  With fewer rows than components, those past
    rank rows - 1 span the null space, arbitrary in any run: left out."""
    (gh, grows), (wh, wrows) = got, want
    columns = 2 + min(len(wh) - 2, len(wrows) - 1)
    grows = [r[:columns] for r in grows]
    wrows = [r[:columns] for r in wrows]
    if gh != wh:
        return False, "headers differ"
    gkeys, wkeys = [r[0] for r in grows], [r[0] for r in wrows]
    if len(set(gkeys)) != len(gkeys):
        return False, f"{len(gkeys) - len(set(gkeys))} keys more than once"
    if sorted(gkeys) != sorted(wkeys):
        return False, f"{len(set(gkeys) ^ set(wkeys))} keys in one output only"
    wmap = {r[0]: r for r in wrows}
    scale = max(abs(float(v)) for r in wrows for v in r[2:]) or 1.0
    worst = 0.0
    for r in grows:
        w = wmap[r[0]]
        if r[1] != w[1]:
            return False, f"{r[0]}: label {r[1]} vs {w[1]}"
        worst = max([worst] + [abs(float(x) - float(y)) for x, y in zip(r[2:], w[2:])])
    if worst > 1e-4 * scale:
        return False, f"values differ by {worst:.3g} (scale {scale:.3g})"
    return True, ""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("build")
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--kills", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--work")
    sys.exit(Bench(p.parse_args()).run())


if __name__ == "__main__":
    main()
