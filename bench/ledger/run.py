#!/usr/bin/python3
"""bench/ledger: what the ledger costs (docs/durable-runs.md).

  /usr/bin/python3 bench/ledger/run.py BUILD [--keys 1000000] [--records 300000] [--reps 3]

1. Resume with KEYS done keys: a gen-source -> passthrough -> null-sink run
   stops (passthrough fails on purpose) after KEYS records were committed;
   the rerun resumes, skipping them by the sorted merge, and reads the
   last few.  Printed: the rerun's time to `data flowing`, and its whole
   wall time (an upper bound of the time before the first new record
   flows).  Target: <= 5 s.
2. Overhead: the same cheap pipeline (RECORDS records of 8 KiB tensors, no
   real work per record: the worst case for a per-record cost) with the
   ledger and with --no-ledger, interleaved, REPS times each, best CPU time
   (user+sys) and wall time; the ratio and the cost per record.  A
   fruits.yaml image costs ~100 ms of CPU (ResNet50), so the per-record
   cost divided by that is the ledger's share there (target <= 2 %).
Machines are noisy: record `uptime` with the figures.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def args():
    build = sys.argv[1]
    opts = dict(keys=1000000, records=300000, reps=3)
    rest = sys.argv[2:]
    for i in range(0, len(rest), 2):
        opts[rest[i].lstrip("-")] = int(rest[i + 1])
    return build, opts


def run(flowrun, env, argv):
    """Runs flowrun -v; returns (exit code, seconds to `data flowing`, wall s, cpu s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.Popen([flowrun, "-v", *argv, "--no-progress"], stderr=subprocess.PIPE,
                            text=True, env=env)
    flowing = None
    for line in proc.stderr:
        if flowing is None and "data flowing" in line:
            flowing = time.monotonic() - t0
    code = proc.wait()
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return code, flowing, wall, cpu


def resume_startup(flowrun, env, tmp, keys):
    p = os.path.join(tmp, "resume.yaml")
    with open(p, "w") as f:
        f.write(f"""
name: bench-resume
state: {tmp}/resume-state
dead_letters: {tmp}/resume-dead.jsonl
stages:
  gen:  {{plugin: gen-source, count: {keys + 10}, size: 16}}
  pass: {{plugin: passthrough, inputs: gen, fatal_after: {keys + 1}}}
  sink: {{plugin: null-sink, inputs: pass}}
""")
    code, _, wall, _ = run(flowrun, env, [p])
    print(f"first run: {keys + 10} keys, stopped on purpose after {keys}: exit {code}, "
          f"{wall:.1f} s")
    done = subprocess.run(["sqlite3", f"{tmp}/resume-state/ledger.db",
                           "SELECT count(*) FROM keys WHERE state = 1"],
                          capture_output=True, text=True).stdout.strip()
    code, flowing, wall, cpu = run(flowrun, env, [p])
    print(f"resume with {done} done keys: exit {code}, data flowing after {flowing:.2f} s, "
          f"whole run {wall:.2f} s (cpu {cpu:.2f} s)  [target: <= 5 s]")


def overhead(flowrun, env, tmp, records, reps):
    p = os.path.join(tmp, "overhead.yaml")
    with open(p, "w") as f:
        f.write(f"""
name: bench-overhead
state: {tmp}/overhead-state
dead_letters: {tmp}/overhead-dead.jsonl
stages:
  gen:  {{plugin: gen-source, count: {records}, kind: tensor, size: 8KiB}}
  pass: {{plugin: passthrough, inputs: gen}}
  sink: {{plugin: null-sink, inputs: pass}}
""")
    best = {"ledger": [1e9, 1e9], "no-ledger": [1e9, 1e9]}
    for _ in range(reps):
        for name, extra in (("ledger", ["--fresh"]), ("no-ledger", ["--no-ledger"])):
            code, _, wall, cpu = run(flowrun, env, ["run", *extra, p])
            assert code == 0, (name, code)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    (lw, lc), (nw, nc) = best["ledger"], best["no-ledger"]
    per_record = (lc - nc) / records * 1e6
    print(f"{records} records, best of {reps}: with ledger wall {lw:.2f} s cpu {lc:.2f} s; "
          f"without wall {nw:.2f} s cpu {nc:.2f} s")
    print(f"  ratio with/without: wall {lw / nw:.3f}, cpu {lc / nc:.3f}; "
          f"ledger cpu per record {per_record:.1f} us")
    print(f"  on fruits.yaml (~100 ms cpu per image): {per_record / 1e5 * 100:.4f} % "
          f"[target: <= 2 %]")


def main():
    build, opts = args()
    flowrun = os.path.join(build, "bin", "flowrun")
    env = {**os.environ, "FLOWRUN_PLUGIN_PATH": os.path.join(build, "lib", "flowrun", "plugins")}
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    tmp = tempfile.mkdtemp(prefix="bench-ledger-")
    try:
        overhead(flowrun, env, tmp, opts["records"], opts["reps"])
        resume_startup(flowrun, env, tmp, opts["keys"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
