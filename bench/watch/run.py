#!/usr/bin/python3
"""bench/watch — continuous ingestion (docs/watch.md) against the batch job,
in one bench run, over a local radosgw:

    /usr/bin/python3 bench/watch/run.py BUILD [--images 200] [--uploads 40]
                     [--period 2s] [--max-age 1s] [--repeat 1] [--work DIR]

BUILD is a build tree (BUILD/bin/flowrun, make-fruits, make-resnet50,
BUILD/lib/flowrun/plugins).  It generates --images make-fruits images and a
seeded Keras ResNet50, starts radosgw (tools/s3-server) and uploads the
images twice: to Training/ (the batch job's input) and Uploads/all/ (the
watch's).  Then, --repeat times, interleaved:

 1. throughput, batch: pipelines/fruits.yaml on Training/ (it also saves the
    scaler and PCA the watch applies): images / seconds from `data flowing`
    to its exit;
 2. throughput, watch: pipelines/fruits-watch.yaml (watch: --period,
    max_age: --max-age) on Uploads/all/, a fresh ledger: images / seconds
    from `data flowing` until the last row is committed (its part published:
    the sinks' `published a part` line, then the manifest); the best of the
    repeats of each, and the ratio watch / batch (target >= 95 %);

and once per latency mode (MODES below: `listing`, and `notification`,
where a radosgw persistent topic pushes each upload's event to the
source's `events:` listener, the listing still on every --period):

 3. upload-to-committed-row latency: a watching run idles on an empty
    prefix; --uploads images are PUT one after the other, each once the
    previous one's row is committed, so each lands at a random moment of the
    listing period and none queues behind another; latency = the moment its
    row is committed (as in 2) - the moment its PUT returned.  p50 and p99
    (target p50 <= period + 1 s).

The machine is shared: the load average is printed before and after; a JSON
copy of the results goes to WORK/results.json.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "report"))
sys.path.insert(0, os.path.join(ROOT, "bench", "common"))
import fruits_data  # noqa: E402
from fruits_data import load, sh  # noqa: E402
from watch_follow import Follower, percentile  # noqa: E402

BUCKET = "bench-watch"


def seconds(text):
    return float(text[:-2]) / 1000 if text.endswith("ms") else float(text.rstrip("s"))


class Bench:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.work = fruits_data.work_dir(a.work, "watch")
        self.flowrun = os.path.join(self.build, "bin", "flowrun")
        self.env = fruits_data.flowrun_env(self.build)

    # ---- set-up ---------------------------------------------------------

    def data(self):
        self.data_dir = fruits_data.images(self.build, self.work, self.a.images)
        self.files = sorted(os.path.relpath(os.path.join(d, f), self.data_dir)
                            for d, _, fs in os.walk(self.data_dir) for f in fs)
        self.model = fruits_data.keras_model(self.build, self.work)

    def server(self):
        s3dir = os.path.join(self.work, "s3")
        self.endpoint = sh([os.path.join(ROOT, "tools", "s3-server", "start"), s3dir]).strip()
        with open(os.path.join(s3dir, "env")) as f:
            self.env.update(line.strip().split("=", 1) for line in f if "=" in line)
        self.env["FRUITS_S3_ENDPOINT"] = self.endpoint
        import boto3
        from botocore.config import Config
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint,
                               aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
                               region_name=self.env.get("AWS_REGION", "us-east-1"),
                               config=Config(s3={"addressing_style": "path"}))
        try:
            self.s3.create_bucket(Bucket=BUCKET)
        except self.s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        self.etags = {}
        for rel in self.files:
            with open(os.path.join(self.data_dir, rel), "rb") as f:
                body = f.read()
            for prefix in ("Training/", "Uploads/all/"):
                r = self.s3.put_object(Bucket=BUCKET, Key=prefix + rel, Body=body)
                self.etags[prefix + rel] = r["ETag"].strip('"')

    def stop_server(self):
        subprocess.run([os.path.join(ROOT, "tools", "s3-server", "stop"),
                        os.path.join(self.work, "s3")], capture_output=True)

    def scenario(self, name, **extra):
        base = os.path.join(self.work, name)
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(os.path.join(base, "out"))
        return base, dict(self.env, XDG_STATE_HOME=os.path.join(base, "state"),
                          FRUITS_MODEL=self.model, FRUITS_STATS=os.path.join(self.work, "stats"),
                          FRUITS_WATCH_PERIOD=self.a.period, FRUITS_WATCH_MAX_AGE=self.a.max_age,
                          FRUITS_DEAD_LETTERS=os.path.join(base, "dead.jsonl"), **extra)

    # ---- the measures ---------------------------------------------------

    def batch(self, k):
        base, env = self.scenario(f"batch-{k}", FRUITS_INPUT=f"s3://{BUCKET}/Training/",
                                  FRUITS_OUTPUT=os.path.join(self.work, "stats"))
        os.makedirs(env["FRUITS_OUTPUT"], exist_ok=True)
        p = subprocess.Popen([self.flowrun, "-v", os.path.join(ROOT, "pipelines", "fruits.yaml"),
                              "--no-progress"], env=env, stderr=subprocess.PIPE, text=True)
        t0 = None
        tail = []
        for line in p.stderr:
            tail = (tail + [line])[-30:]
            if t0 is None and "data flowing" in line:
                t0 = time.time()
        code = p.wait()
        if code != 0:
            sys.exit(f"batch run exited {code}:\n{''.join(tail)}")
        return len(self.files) / (time.time() - t0)

    def watch_throughput(self, k):
        base, env = self.scenario(f"watch-{k}", FRUITS_WATCH_INPUT=f"s3://{BUCKET}/Uploads/all/",
                                  FRUITS_WATCH_OUTPUT=os.path.join(base_out := os.path.join(
                                      self.work, f"watch-{k}"), "out"))
        f = Follower(self.flowrun, os.path.join(ROOT, "pipelines", "fruits-watch.yaml"),
                     os.path.join(base_out, "out", "csv"), env)
        ids = [f"images:Uploads/all/{rel}@{self.etags['Uploads/all/' + rel]}" for rel in self.files]
        done = f.wait_committed(ids)
        rate = len(ids) / (max(done.values()) - f.started)
        code = f.stop()
        if code != 0:
            sys.exit(f"watch run exited {code}:\n{''.join(f.log[-30:])}")
        return rate

    def latency(self, mode):
        """Upload-to-committed-row latencies (seconds) in one mode."""
        prefix = f"Uploads/latency-{mode}-{int(time.time())}/"
        base, env = self.scenario(f"latency-{mode}", FRUITS_WATCH_INPUT=f"s3://{BUCKET}/{prefix}",
                                  FRUITS_WATCH_OUTPUT=os.path.join(self.work, f"latency-{mode}",
                                                                   "out"),
                                  **MODES[mode][0](self))
        f = Follower(self.flowrun, os.path.join(ROOT, "pipelines", "fruits-watch.yaml"),
                     os.path.join(env["FRUITS_WATCH_OUTPUT"], "csv"), env)
        if MODES[mode][1]:
            MODES[mode][1](self, f, prefix)
        out = []
        for i in range(self.a.uploads):
            rel = self.files[i % len(self.files)]
            with open(os.path.join(self.data_dir, rel), "rb") as fh:
                body = fh.read()
            key = f"{prefix}{i:04d}-{os.path.basename(rel)}"
            etag = self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"].strip('"')
            put = time.time()
            rid = f"images:{key}@{etag}"
            out.append(f.wait_committed([rid])[rid] - put)
        f.stop()
        return out

    def run(self):
        a = self.a
        load0 = load()
        self.data()
        self.server()
        try:
            batch, watch = [], []
            for k in range(a.repeat):  # interleaved; the best of each
                batch.append(self.batch(k))
                watch.append(self.watch_throughput(k))
                print(f"  repeat {k + 1}: batch {batch[-1]:.2f} images/s, "
                      f"watch {watch[-1]:.2f} images/s", flush=True)
            lat = {m: self.latency(m) for m in MODES}
        finally:
            self.stop_server()
        load1 = load()
        result = {"images": len(self.files), "period": a.period, "max_age": a.max_age,
                  "batch_images_per_s": max(batch), "watch_images_per_s": max(watch),
                  "ratio": max(watch) / max(batch),
                  "latency": {m: {"p50": percentile(v, 50), "p99": percentile(v, 99),
                                  "max": max(v), "n": len(v), "all": v} for m, v in lat.items()},
                  "load_before": load0, "load_after": load1}
        with open(os.path.join(self.work, "results.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(f"\nbench/watch: fruits.yaml vs fruits-watch.yaml on {len(self.files)} make-fruits "
              f"images, radosgw on 127.0.0.1\n"
              f"  throughput, batch: {max(batch):.2f} images/s; watch: {max(watch):.2f} images/s; "
              f"ratio {100 * max(watch) / max(batch):.0f} % (target >= 95 %)")
        for m, v in lat.items():
            target = seconds(a.period) + 1 if m == "listing" else 1.0
            print(f"  upload-to-committed-row latency, {m} (watch {a.period}, max_age "
                  f"{a.max_age}, {len(v)} uploads): p50 {percentile(v, 50):.2f} s, "
                  f"p99 {percentile(v, 99):.2f} s"
                  + (f" (target p50 <= {target:.1f} s)" if target else ""))
        print(f"  load average before {' '.join(load0)}, after {' '.join(load1)}")
        return 0


def notification(bench):
    """A persistent topic pushing the bucket's creations to a free port, and
    fruits-watch.yaml's listener on it."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "plugins", "lib", "s3events"))
    import notifytest
    import socket
    with socket.socket() as sock:  # a free port now; the listener binds it next
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    topic = notifytest.create_topic(bench.env, f"http://127.0.0.1:{port}/events")
    notifytest.notify(bench.s3, BUCKET, [topic], events=["s3:ObjectCreated:*"])
    return {"FRUITS_WATCH_EVENTS": f"http://127.0.0.1:{port}/events"}


def notification_ready(bench, follower, prefix):
    """radosgw finds a new topic's queue at its next scan (every 30 s): an
    upload outside the prefix, answered by the listener, shows deliveries
    flow before the clock starts."""
    bench.s3.put_object(Bucket=BUCKET, Key=f"Uploads/warm-up-{int(time.time())}.txt", Body=b"")
    follower.wait_line("outside the prefix")


# Latency modes: name -> (the environment a watching run of that mode needs
# on top of fruits-watch.yaml's, what to wait for once it runs or None).
MODES = {
    "listing": (lambda bench: {}, None),
    "notification": (notification, notification_ready),
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("build")
    p.add_argument("--images", type=int, default=200)
    p.add_argument("--uploads", type=int, default=40)
    p.add_argument("--period", default="2s")
    p.add_argument("--max-age", default="1s")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--work")
    sys.exit(Bench(p.parse_args()).run())


if __name__ == "__main__":
    main()
