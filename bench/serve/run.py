#!/usr/bin/python3
"""bench/serve — flowrun serve against the Python peer (peer.py), same model
architecture, same photos, in one run:

- latency of one photo at concurrency 1 (p50, p99 over --requests photos,
  the two servers' requests interleaved);
- throughput at concurrency 8 (requests/s over --seconds, each in turn);
- resident memory (VmRSS and its peak VmHWM) of each server process after.

    bench/serve/run.py BUILD [--count 300] [--classes 10] [--threads 2]
                       [--requests 60] [--seconds 20] [--max-batch 4]
                       [--precision auto|fp32|bf16|int8]

Generates photos (tools/make-fruits) and a seeded ResNet50 (make-resnet50),
trains the bundle with `flowrun train` in --precision (the peer fits its scaler, PCA and
classifier at start-up on the same Training photos), then measures.  Prints
the figures, the ratios against the targets (p50 <= 0.5x the peer's,
throughput >= 2x) and the machine's load (uptime) before and after.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def start(cmd, pattern, env=None):
    """(process, port, precision) once its ready line appeared."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    for line in proc.stdout:
        m = re.search(pattern, line)
        if m:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain
            return proc, int(m.group(1)), m.group(2)
    sys.exit(f"{cmd[0]} did not start")


def post(port, photo):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t = time.perf_counter()
    c.request("POST", "/v1/classify?top=1", body=photo)
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != 200:
        sys.exit(f"port {port}: HTTP {r.status}")
    return time.perf_counter() - t


def percentile(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def throughput(port, photos, seconds, clients=8):
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def client(i):
        while time.perf_counter() < stop:
            post(port, photos[(i + done[i] * clients) % len(photos)])
            done[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sum(done) / (time.perf_counter() - t)


def memory(pid):
    with open(f"/proc/{pid}/status") as f:
        s = dict(line.split(":", 1) for line in f)
    return int(s["VmRSS"].split()[0]) / 1024, int(s["VmHWM"].split()[0]) / 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--requests", type=int, default=60)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--max-batch", type=int, default=4)
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "int8"),
                   help="the bundle's network precision (FRUITS_PRECISION)")
    a = p.parse_args()
    build = os.path.abspath(a.build)
    flowrun = os.path.join(build, "bin", "flowrun")
    env = dict(os.environ, FLOWRUN_PLUGIN_PATH=os.path.join(build, "lib/flowrun/plugins"),
               OMP_NUM_THREADS=str(a.threads))
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    tmp = tempfile.mkdtemp(prefix="bench-serve-")
    try:
        data, model, bundle = (os.path.join(tmp, n) for n in ("data", "m.onnx", "bundle"))
        subprocess.run([os.path.join(build, "bin/make-fruits"), "--count", str(a.count),
                        "--classes", str(a.classes), data], check=True, capture_output=True)
        subprocess.run([os.path.join(build, "bin/make-resnet50"), "--variant", "keras", model],
                       check=True, capture_output=True)
        tenv = dict(env, FRUITS_INPUT=os.path.join(data, "Training"), FRUITS_MODEL=model,
                    FRUITS_BUNDLE=bundle, FRUITS_PRECISION=a.precision)
        subprocess.run([flowrun, "-q", "train", os.path.join(SOURCE, "pipelines/fruits-train.yaml")],
                       env=tenv, check=True, capture_output=True)
        test = sorted(os.path.join(d, n) for d, _, ns in os.walk(os.path.join(data, "Test"))
                      for n in ns)
        photos = [open(t, "rb").read() for t in test]
        ours, our_port, our_prec = start([flowrun, "serve", "--listen", "127.0.0.1:0", "--threads",
                                str(a.threads), "--max-batch", str(a.max_batch), bundle],
                               r"listening on http://127\.0\.0\.1:(\d+) .*precision (.*)\)",
                               env)
        peer, peer_port, peer_prec = start(["/usr/bin/python3", os.path.join(HERE, "peer.py"),
                                 os.path.join(data, "Training"), "--port", "0", "--threads",
                                 str(a.threads)], r"listening on (\d+) \(precision (.*)\)",
                                dict(env, GLIBC_TUNABLES="glibc.malloc.hugetlb=1"))
        print(f"precision: flowrun {our_prec}; peer {peer_prec}")
        first = {port: post(port, photos[0]) for port in (our_port, peer_port)}
        for port in (our_port, peer_port):  # warm
            for ph in photos[:4]:
                post(port, ph)
        lat = {our_port: [], peer_port: []}
        for i in range(a.requests):
            for port in ((our_port, peer_port) if i % 2 == 0 else (peer_port, our_port)):
                lat[port].append(post(port, photos[i % len(photos)]))
        rate = {port: throughput(port, photos, a.seconds) for port in (our_port, peer_port)}
        mem = {our_port: memory(ours.pid), peer_port: memory(peer.pid)}
        res = {}
        for name, port in (("flowrun", our_port), ("peer", peer_port)):
            res[name] = {"p50_ms": percentile(lat[port], 0.5) * 1e3,
                         "p99_ms": percentile(lat[port], 0.99) * 1e3,
                         "throughput_rps_c8": rate[port], "rss_mb": mem[port][0],
                         "peak_rss_mb": mem[port][1], "first_ms": first[port] * 1e3}
            print(f"{name:8} p50 {res[name]['p50_ms']:7.1f} ms  p99 {res[name]['p99_ms']:7.1f} ms"
                  f"  c8 {rate[port]:6.2f} req/s  RSS {mem[port][0]:6.0f} MB"
                  f" (peak {mem[port][1]:.0f} MB)  first request {first[port] * 1e3:.0f} ms")
        f, q = res["flowrun"], res["peer"]
        print(f"ratios: p50 {f['p50_ms'] / q['p50_ms']:.2f}x the peer's (target <= 0.5), "
              f"p99 {f['p99_ms'] / q['p99_ms']:.2f}x, throughput "
              f"{f['throughput_rps_c8'] / q['throughput_rps_c8']:.2f}x (target >= 2)")
        print(json.dumps(res))
        for proc in (ours, peer):
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
