#!/usr/bin/python3
"""bench/engine: flowrun's cost per hop against raw libzmq, measured in one run.

A hop is one stage receiving a record and passing it on.  Each peer runs a
chain of 2 stages (source → sink) and of 4 stages (source → pass → pass →
sink) over the same N records; the difference is 2 hops × N records, so
source, sink and start-up costs cancel:

    CPU µs per hop = (CPU(4 stages) - CPU(2 stages)) / (2 N)

flowrun runs gen-source → passthrough* → null-sink (threads over inproc, or
every stage on its own node, one process each, over tcp on 127.0.0.1, and the
same with CURVE on every link: `curve`); the peer is raw_chain.c,
the same chain written directly on libzmq (header + payload frames,
received messages forwarded without a copy; `curve`: libzmq's CURVE on
every link too; over tcp and curve each stage a process of its own, as
flowrun's nodes are: threads of one process cost less per hop, 190-200 µs
against 260-350 µs for 602 KB at load 19).  CPU is the process's
user+system time.  Each case runs --repeat times, interleaved; the median
is kept.  Payloads: 64 B and 602,112 B (a 224×224×3 float32 tensor... of
uint8 pixels, 150,528 × 4 bytes).

  usage: /usr/bin/python3 bench/engine/run.py BUILD_DIR [--repeat K] [--only tcp,curve]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

CASES = [("inproc", 64, 200000), ("inproc", 602112, 4000),
         ("tcp", 64, 100000), ("tcp", 602112, 2000), ("curve", 602112, 2000)]


def child_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def pipeline(transport, size, count, stages, tmp):
    names = ["gen"] + ["p%d" % k for k in range(1, stages - 1)] + ["sink"]
    nodes, place = "", [""] * stages
    if transport != "inproc":
        keys = ""
        if transport == "curve":
            nodes = "cluster: {security: curve}\n"
            keys = ", public_key: %s/n%%d.pub, secret_key: %s/n%%d.key" % (tmp, tmp)
        nodes += "nodes:\n" + "".join(('  n%d: {endpoint: "tcp://127.0.0.1:%d"' + keys + '}\n')
                                      % ((k, 17700 + 10 * k) + ((k, k) if keys else ()))
                                      for k in range(stages))
        place = [", node: n%d" % k for k in range(stages)]
    lines = ["  gen: {plugin: gen-source, count: %d, size: %d%s}" % (count, size, place[0])]
    for k in range(1, stages - 1):
        lines.append("  %s: {plugin: passthrough, inputs: %s%s}" % (names[k], names[k - 1], place[k]))
    lines.append("  sink: {plugin: null-sink, inputs: %s%s}" % (names[-2], place[-1]))
    path = os.path.join(tmp, "bench%d.yaml" % stages)
    with open(path, "w") as f:
        f.write("name: bench\ndead_letters: %s/dead.jsonl\n%sstages:\n%s\n"
                % (tmp, nodes, "\n".join(lines)))
    return path


def run_flowrun(build, transport, size, count, stages, tmp):
    """inproc: one process; tcp and curve: one process per stage (a split run)."""
    path = pipeline(transport, size, count, stages, tmp)
    flowrun = os.path.join(build, "bin/flowrun")
    env = {**os.environ, "FLOWRUN_PLUGIN_PATH": os.path.join(build, "lib/flowrun/test-plugins")}
    if transport == "curve":
        for k in range(stages):
            subprocess.run([flowrun, "keygen", "--force", os.path.join(tmp, "n%d" % k)],
                           check=True, capture_output=True)
    cpu0, t0 = child_cpu(), time.monotonic()
    if transport == "inproc":
        subprocess.run([flowrun, "-q", path], check=True, env=env)
    else:
        procs = [subprocess.Popen([flowrun, "-q", "run", "--node", "n%d" % k, path], env=env)
                 for k in range(stages)]
        if any(p.wait() != 0 for p in procs):
            sys.exit("a node of the split run failed")
    return time.monotonic() - t0, child_cpu() - cpu0


def run_raw(build, transport, size, count, stages, tmp):
    # Over tcp, a process per stage, as flowrun's split run has one per node.
    shape = ["processes"] if transport != "inproc" else []
    out = subprocess.run([os.path.join(build, "bench/bench-raw-chain"), transport, str(stages),
                          str(count), str(size)] + shape, check=True, capture_output=True,
                         text=True)
    _, wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


def measure(args, transport, size, count, tmp):
    samples = {"flowrun": [], "raw": []}
    walls = {"flowrun": [], "raw": []}
    for _ in range(args.repeat):  # interleaved, so drift hits both peers alike
        for name, fn in (("flowrun", run_flowrun), ("raw", run_raw)):
            w2, c2 = fn(args.build, transport, size, count, 2, tmp)
            w4, c4 = fn(args.build, transport, size, count, 4, tmp)
            samples[name].append((c4 - c2) / (2 * count) * 1e6)
            walls[name].append(count / w4)
    return ({k: statistics.median(v) for k, v in samples.items()},
            {k: statistics.median(v) for k, v in walls.items()})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--repeat", type=int, default=5, help="runs per case (median kept)")
    ap.add_argument("--only", help="comma-separated links to run (inproc, tcp, curve)")
    args = ap.parse_args()
    rows = []
    print("4-stage chain; CPU µs per hop = (CPU(4 stages) - CPU(2 stages)) / (2 x records)")
    print("%-7s %8s %8s | %11s %9s | %11s %9s | %s" % (
        "link", "bytes", "records", "flowrun r/s", "µs/hop", "libzmq r/s", "µs/hop",
        "flowrun/libzmq"))
    with tempfile.TemporaryDirectory() as tmp:
        for transport, size, count in CASES:
            if args.only and transport not in args.only.split(","):
                continue
            hop, rate = measure(args, transport, size, count, tmp)
            row = dict(transport=transport, bytes=size, records=count,
                       flowrun_records_per_s=rate["flowrun"], flowrun_us_per_hop=hop["flowrun"],
                       raw_records_per_s=rate["raw"], raw_us_per_hop=hop["raw"],
                       ratio=hop["flowrun"] / hop["raw"] if hop["raw"] > 0 else float("nan"))
            rows.append(row)
            print("%-7s %8d %8d | %11.0f %9.2f | %11.0f %9.2f | %.2f" % (
                transport, size, count, rate["flowrun"], hop["flowrun"], rate["raw"],
                hop["raw"], row["ratio"]))
            sys.stdout.flush()
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
