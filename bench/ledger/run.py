#!/usr/bin/python3
"""bench/ledger: what the ledger costs (docs/durable-runs.md).

  /usr/bin/python3 bench/ledger/run.py BUILD [--keys 1000000] [--records 300000] [--reps 3]
                                          [--fruits 200]

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
3. fruits.yaml itself with the ledger and with --no-ledger, in the same
   bench run, interleaved, REPS times each: FRUITS make-fruits images and a
   seeded Keras ResNet50 (make-resnet50), CPU time (user+sys) and wall time
   of each run from its `data flowing` line to its end (the throughput: the
   start-up, the model's load and its fingerprint, is once per run, not per
   image); the median ratios with/without (target: <= 1.02, i.e. the
   ledger costs <= 2 % of the throughput).  --fruits 0 skips it.
Machines are noisy: record `uptime` with the figures.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def args():
    build = sys.argv[1]
    opts = dict(keys=1000000, records=300000, reps=3, fruits=200)
    rest = sys.argv[2:]
    for i in range(0, len(rest), 2):
        opts[rest[i].lstrip("-")] = int(rest[i + 1])
    return build, opts


def process_cpu(pid):
    """CPU seconds (user + system, every thread) a running process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(flowrun, env, argv, after_flowing=False):
    """Runs flowrun -v; returns (exit code, seconds to `data flowing`, wall s,
    cpu s); with after_flowing, wall and cpu count from `data flowing` on:
    what the data costs, without the start-up (model load, fingerprint)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.Popen([flowrun, "-v", *argv, "--no-progress"], stderr=subprocess.PIPE,
                            text=True, env=env)
    flowing, cpu_at_flowing = None, 0.0
    for line in proc.stderr:
        if flowing is None and "data flowing" in line:
            flowing = time.monotonic() - t0
            cpu_at_flowing = process_cpu(proc.pid) if after_flowing else 0.0
    code = proc.wait()
    wall = time.monotonic() - t0 - (flowing if after_flowing else 0.0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) - cpu_at_flowing
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


def with_and_without(flowrun, env, pipeline, reps, after_flowing=False):
    """Runs pipeline with the ledger (--fresh) and with --no-ledger, in turn,
    reps times each: {"ledger": [(wall, cpu), ...], "no-ledger": [...]}."""
    runs = {"ledger": [], "no-ledger": []}
    for _ in range(reps):
        for name, extra in (("ledger", ["--fresh"]), ("no-ledger", ["--no-ledger"])):
            code, _, wall, cpu = run(flowrun, env, ["run", *extra, pipeline], after_flowing)
            assert code == 0, (name, code)
            runs[name].append((wall, cpu))
    return runs


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
    runs = with_and_without(flowrun, env, p, reps)
    (lw, lc), (nw, nc) = [(min(w for w, _ in runs[k]), min(c for _, c in runs[k]))
                          for k in ("ledger", "no-ledger")]
    per_record = (lc - nc) / records * 1e6
    print(f"{records} records, best of {reps}: with ledger wall {lw:.2f} s cpu {lc:.2f} s; "
          f"without wall {nw:.2f} s cpu {nc:.2f} s")
    print(f"  ratio with/without: wall {lw / nw:.3f}, cpu {lc / nc:.3f}; "
          f"ledger cpu per record {per_record:.1f} us")
    print(f"  on fruits.yaml (~100 ms cpu per image): {per_record / 1e5 * 100:.4f} % "
          f"[target: <= 2 %]")


def fruits(build, flowrun, env, tmp, images, reps):
    data, model = os.path.join(tmp, "fruits"), os.path.join(tmp, "resnet50-keras.onnx")
    # about 3/4 of make-fruits' --count lands in Training/
    subprocess.run([os.path.join(build, "bin", "make-fruits"), "--count", str(images * 4 // 3 + 1),
                    "--classes", "20", data], check=True, capture_output=True)
    subprocess.run([os.path.join(build, "bin", "make-resnet50"), "--variant", "keras", model],
                   check=True, capture_output=True)
    env = {**env, "OMP_NUM_THREADS": "2", "FRUITS_INPUT": os.path.join(data, "Training"),
           "FRUITS_MODEL": model, "FRUITS_OUTPUT": os.path.join(tmp, "fruits-out"),
           "XDG_STATE_HOME": os.path.join(tmp, "fruits-state")}
    n = sum(len(fs) for _, _, fs in os.walk(env["FRUITS_INPUT"]))
    pipeline = os.path.join(os.path.dirname(os.path.dirname(HERE)), "pipelines", "fruits.yaml")
    runs = with_and_without(flowrun, env, pipeline, reps, after_flowing=True)
    (lw, lc), (nw, nc) = [(statistics.median(w for w, _ in runs[k]),
                           statistics.median(c for _, c in runs[k])) for k in ("ledger", "no-ledger")]
    print(f"fruits.yaml on {n} images, median of {reps}, from `data flowing` to the end: "
          f"with ledger wall {lw:.1f} s cpu {lc:.1f} s; without wall {nw:.1f} s cpu {nc:.1f} s")
    print(f"  ratio with/without: cpu {lc / nc:.3f}, wall {lw / nw:.3f} [target: <= 1.02]")
    spread = max(c for _, c in runs["no-ledger"]) / min(c for _, c in runs["no-ledger"])
    print(f"  noise: the --no-ledger runs' CPU times spread {spread:.3f}x (max/min)")


def main():
    build, opts = args()
    flowrun = os.path.join(build, "bin", "flowrun")
    # the test plugins (gen-source, passthrough, null-sink) and the real ones
    env = {**os.environ, "FLOWRUN_PLUGIN_PATH": os.path.join(build, "lib", "flowrun",
                                                             "test-plugins")}
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    tmp = tempfile.mkdtemp(prefix="bench-ledger-")
    try:
        overhead(flowrun, env, tmp, opts["records"], opts["reps"])
        resume_startup(flowrun, env, tmp, opts["keys"])
        if opts["fruits"]:
            fruits(build, flowrun, env, tmp, opts["fruits"], opts["reps"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
