#!/usr/bin/python3
"""bench/ops — what operating a run costs: pipelines/fruits.yaml with the
metrics endpoint on (scraped every second, as Prometheus would) and JSON logs,
against the same run with both off, interleaved in one bench run.

    /usr/bin/python3 bench/ops/run.py BUILD [--images N] [--rounds R]

BUILD is a build tree (BUILD/bin/flowrun, make-fruits, make-resnet50, the
plugins).  It generates N make-fruits images and a ResNet50 (make-resnet50),
then runs R rounds of both modes, in alternating order, each from a fresh
state directory.  Per run: wall seconds from start to exit, images per second,
CPU seconds (user + system, of flowrun and its threads) per image.  The
figures are the medians per mode and their ratios; the load average is
printed before and after (a loaded machine bends wall time much more than
CPU time).

--engine-records M adds the same comparison on an engine-only chain
(gen-source -> passthrough x2 replicas -> null-sink, M records of 64 bytes,
the test plugins): the engine's own cost per record is tiny there, so it is
the upper bound of what the snapshots, the endpoint and the logs cost.

--callgrind M runs that chain with M records once per mode under valgrind's
callgrind (scraped every second all the same) and prints the instructions
executed per record in each mode: a count that does not move with the load of
a shared machine, unlike wall and CPU time (callgrind runs the threads one at
a time, so it says nothing of contention).
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode:
        sys.exit("%s failed:\n%s" % (cmd[0], r.stderr))


class Scraper(threading.Thread):
    """GETs /metrics every second until stopped; counts the answers."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.scrapes = port, threading.Event(), 0

    def run(self):
        while not self.stop.wait(1.0):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port,
                                            timeout=5) as r:
                    r.read()
                    self.scrapes += 1
            except OSError:
                pass  # not listening yet, or already gone


ENGINE = """
name: engine-chain
stages:
  src:  {plugin: gen-source, count: %d}
  mid:  {plugin: passthrough, inputs: src, replicas: 2}
  sink: {plugin: null-sink, inputs: mid}
"""


def one_run(a, work, env, mode, n, pipeline=None, wrap=()):
    base = os.path.join(work, mode)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(os.path.join(base, "out"))
    env = dict(env, XDG_STATE_HOME=os.path.join(base, "state"),
               FRUITS_OUTPUT=os.path.join(base, "out"))
    cmd = [*wrap, os.path.join(a.build, "bin", "flowrun"), "run", "--no-progress",
           pipeline or os.path.join(ROOT, "pipelines", "fruits.yaml"),
           "--summary", os.path.join(base, "summary.json")]
    scraper = None
    if mode == "on":
        port = free_port()
        at = len(wrap) + 2
        cmd[at:at] = ["--metrics", "127.0.0.1:%d" % port, "--log-format", "json"]
        scraper = Scraper(port)
        scraper.start()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(base, "stderr"), "w"))
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    scrapes = 0
    if scraper:
        scraper.stop.set()
        scraper.join()
        scrapes = scraper.scrapes
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        with open(os.path.join(base, "stderr")) as f:
            sys.exit("flowrun (%s) exited %d:\n%s" % (mode, code, f.read()[-3000:]))
    with open(os.path.join(base, "summary.json")) as f:
        records = json.load(f)["records_in"]
    if records != n:
        sys.exit("%s: %d records in, %d images" % (mode, records, n))
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "rate": n / wall, "cpu_per_image": cpu / n, "scrapes": scrapes}


def compare(a, work, env, n, what, unit, pipeline=None):
    """Both modes, interleaved, a.rounds rounds; prints each run and the medians."""
    before = load()
    runs = {"off": [], "on": []}
    for r in range(a.rounds):
        for mode in (("off", "on") if r % 2 == 0 else ("on", "off")):
            got = one_run(a, work, env, mode, n, pipeline)
            runs[mode].append(got)
            print("  round %d %-3s: %6.2f s, %8.1f %ss/s, CPU %.4g s/%s%s" % (
                r + 1, mode, got["wall"], got["rate"], unit, got["cpu_per_image"], unit,
                ", %d scrapes" % got["scrapes"] if mode == "on" else ""), flush=True)
    after = load()
    med = {m: {k: statistics.median(x[k] for x in runs[m]) for k in ("rate", "cpu_per_image")}
           for m in runs}
    print("\nbench/ops: %s, %d rounds (medians)" % (what, a.rounds))
    print("  off: %.1f %ss/s, CPU %.4g s/%s" % (med["off"]["rate"], unit,
                                               med["off"]["cpu_per_image"], unit))
    print("  on (metrics scraped every 1 s, JSON logs): %.1f %ss/s, CPU %.4g s/%s" % (
        med["on"]["rate"], unit, med["on"]["cpu_per_image"], unit))
    print("  throughput cost %.2f %% (target <= 1 %%), CPU per %s cost %.2f %%" % (
        100 * (1 - med["on"]["rate"] / med["off"]["rate"]), unit,
        100 * (med["on"]["cpu_per_image"] / med["off"]["cpu_per_image"] - 1)))
    print("  load average before %s, after %s\n" % (before, after), flush=True)


def instructions(a, work, env, path):
    """Instructions per record of each mode, counted by callgrind."""
    got = {}
    for mode in ("off", "on"):
        log = os.path.join(work, "callgrind-%s.log" % mode)
        wrap = ["valgrind", "--tool=callgrind", "--log-file=" + log,
                "--callgrind-out-file=" + os.path.join(work, "callgrind-%s.out" % mode)]
        run = one_run(a, work, env, mode, a.callgrind, path, wrap)
        scrapes = run["scrapes"]
        with open(log) as f:
            total = [line for line in f if "Collected :" in line]
        got[mode] = int(total[-1].split(":")[-1]) / a.callgrind
        print("  %-3s: %.0f instructions/record%s" % (
            mode, got[mode], ", %d scrapes" % run["scrapes"] if mode == "on" else ""), flush=True)
    print("\nbench/ops: engine-only chain of %d records under callgrind" % a.callgrind)
    print("  instructions per record: off %.0f, on %.0f, cost %.2f %%" % (
        got["off"], got["on"], 100 * (got["on"] / got["off"] - 1)))
    # callgrind runs ~50x slower, so it gets ~50x the scrapes per record of a real run
    print("  on - off per scrape, if all of it is the scrapes: %.0f instructions\n" % (
        (got["on"] - got["off"]) * a.callgrind / max(scrapes, 1)), flush=True)


def fruits(a, work, env):
    """Generates the images and the model (unless kept in --work), compares."""
    data = os.path.join(work, "fruits-%d" % a.images)
    if not os.path.isdir(os.path.join(data, "Training")):
        sh([os.path.join(a.build, "bin", "make-fruits"), "--count", a.images * 4 // 3 + 1,
            "--classes", 40, data])
    images = os.path.join(data, "Training")
    n = sum(len(fs) for _, _, fs in os.walk(images))
    model = os.path.join(work, "resnet50-keras.onnx")
    if not os.path.exists(model):
        sh([os.path.join(a.build, "bin", "make-resnet50"), "--variant", "keras", model])
    env = dict(env, FRUITS_INPUT=images, FRUITS_MODEL=model,
               FLOWRUN_PLUGIN_PATH=os.path.join(a.build, "lib", "flowrun", "plugins"))
    compare(a, work, env, n, "fruits.yaml on %d make-fruits images" % n, "image")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", help="keep the images and model here (default: a temp dir)")
    ap.add_argument("--engine-records", type=int, default=0,
                    help="also an engine-only chain of this many records (0: not)")
    ap.add_argument("--skip-fruits", action="store_true", help="only the engine-only chain")
    ap.add_argument("--callgrind", type=int, default=0,
                    help="also count the engine-only chain's instructions per record, "
                         "with this many records, under callgrind (0: not)")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    work = os.path.abspath(a.work or tempfile.mkdtemp(prefix="flowrun-bench-ops-"))
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="2")
    if not a.skip_fruits:
        fruits(a, work, env)
    env = dict(env, FLOWRUN_PLUGIN_PATH=os.path.join(a.build, "lib", "flowrun", "test-plugins"))
    for records, measure in ((a.engine_records, compare), (a.callgrind, instructions)):
        if not records:
            continue
        path = os.path.join(work, "engine-chain-%d.yaml" % records)
        with open(path, "w") as f:
            f.write(ENGINE % records)
        if measure is compare:
            compare(a, work, env, records, "engine-only chain of %d records" % records, "record",
                    path)
        else:
            instructions(a, work, env, path)
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
