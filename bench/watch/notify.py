#!/usr/bin/python3
"""bench/watch/notify.py — upload-to-committed-row latency of a watching
s3-source in notification mode (`events:`, a radosgw persistent topic
pushing each upload's event) against listing mode (`watch:` alone), in one
bench run, on a light pipeline (s3-source → jpeg-decode → resize-224 4×4 →
csv-sink, max_age --max-age) so the source's part of the latency shows, not
a network's compute (bench/watch/run.py measures fruits-watch.yaml):

    /usr/bin/python3 bench/watch/notify.py BUILD [--uploads 30] [--period 2s]
                     [--max-age 1s] [--rounds 2] [--work DIR]

It starts radosgw (tools/s3-server) and runs --rounds rounds, each mode once
per round, interleaved; in each run --uploads JPEGs are PUT one after the
other, each once the previous one's row is committed (the sink's `published
a part` line, then its manifest: tools/report/watch_follow.py), so none
queues behind another.  Latency = the moment the row is committed - the
moment its PUT returned; in notification mode also the moment the source
logged the pushed event (delivery).  Prints p50 / p99 per mode and the ratio;
the load average before and after (a shared machine: say so with figures).
"""
import argparse
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "report"))
sys.path.insert(0, os.path.join(ROOT, "tests", "plugins", "lib", "s3events"))
import notifytest  # noqa: E402
from watch_follow import Follower, percentile  # noqa: E402

BUCKET = "bench-notify"
PIPELINE = """
name: bench-notify-{mode}
dead_letters: {base}/dead.jsonl
stages:
  images: {{plugin: s3-source, url: "s3://{bucket}/{prefix}", suffix: .jpg,
           watch: {period}{events}}}
  decode: {{plugin: jpeg-decode, inputs: images}}
  resize: {{plugin: resize-224, inputs: decode, width: 4, height: 4}}
  csv:    {{plugin: csv-sink, inputs: resize, path: {base}/csv, mode: append-parts,
           max_age: {max_age}}}
"""


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


class PushFollower(Follower):
    """Also stamps when each key's event was pushed into the source."""

    def __init__(self, *args, **kw):
        self.pushed = {}
        super().__init__(*args, **kw)

    def _read(self):
        lines = self.proc.stderr

        class Tap:  # stamps pushes as Follower reads
            def __iter__(tap):
                for line in lines:
                    if line.rstrip().endswith(") pushed") and " s3://" in line:
                        key = line.split(" s3://", 1)[1].split("/", 1)[1].rsplit(" (ETag", 1)[0]
                        self.pushed.setdefault(key, time.time())
                    yield line
        self.proc.stderr = Tap()
        super()._read()


def jpeg(rng):
    from PIL import Image
    img = Image.new("RGB", (64, 48), tuple(rng.randrange(256) for _ in range(3)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


class Bench:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.work = os.path.abspath(a.work or tempfile.mkdtemp(prefix="flowrun-bench-notify-"))
        self.flowrun = os.path.join(self.build, "bin", "flowrun")
        self.env = dict(os.environ,
                        FLOWRUN_PLUGIN_PATH=os.path.join(self.build, "lib", "flowrun", "plugins"))
        self.rng = random.Random(1)

    def server(self):
        s3dir = os.path.join(self.work, "s3")
        out = subprocess.run([os.path.join(ROOT, "tools", "s3-server", "start"), s3dir],
                             capture_output=True, text=True, check=True).stdout.strip()
        with open(os.path.join(s3dir, "env")) as f:
            self.env.update(line.strip().split("=", 1) for line in f if "=" in line)
        import boto3
        from botocore.config import Config
        self.s3 = boto3.client("s3", endpoint_url=out,
                               aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
                               region_name=self.env["AWS_REGION"],
                               config=Config(s3={"addressing_style": "path"}))
        try:
            self.s3.create_bucket(Bucket=BUCKET)
        except self.s3.exceptions.BucketAlreadyOwnedByYou:
            pass

    def topic(self):
        """A persistent topic pushing the bucket's creations to the listener,
        made once it listens: radosgw 16.2.15 retrying a closed port across
        its 30 s queue scan was seen to leave the queue stuck."""
        arn = notifytest.create_topic(self.env, f"http://127.0.0.1:{self.port}/events")
        notifytest.notify(self.s3, BUCKET, [arn], events=["s3:ObjectCreated:*"])
        return arn

    def run_mode(self, mode, k):
        prefix = f"{mode}-{k}/"
        base = os.path.join(self.work, f"{mode}-{k}")
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        events = f', events: "http://127.0.0.1:{self.port}/events"' if mode == "notification" \
            else ""
        path = os.path.join(base, "p.yaml")
        with open(path, "w") as f:
            f.write(PIPELINE.format(mode=mode, base=base, bucket=BUCKET, prefix=prefix,
                                    period=self.a.period, max_age=self.a.max_age, events=events))
        env = dict(self.env, XDG_STATE_HOME=os.path.join(base, "state"))
        f = PushFollower(self.flowrun, path, os.path.join(base, "csv"), env)
        arn = None
        if mode == "notification":
            arn = self.topic()
            # radosgw finds a new topic's queue at its next scan (every 30 s): an
            # upload outside the prefix, answered, shows deliveries flow.
            self.s3.put_object(Bucket=BUCKET, Key=f"warm-up/{mode}-{k}.txt", Body=b"")
            f.wait_line("outside the prefix")
        rows, pushes = [], []
        for i in range(self.a.uploads):
            key = f"{prefix}{i:04d}.jpg"
            etag = self.s3.put_object(Bucket=BUCKET, Key=key,
                                      Body=jpeg(self.rng))["ETag"].strip('"')
            put = time.time()
            rid = f"images:{key}@{etag}"
            rows.append(f.wait_committed([rid])[rid] - put)
            if key in f.pushed:
                pushes.append(f.pushed[key] - put)
        if arn:  # before the listener goes: no event waits for a closed port
            notifytest.remove(self.env, BUCKET, [arn])
        code = f.stop()
        if code != 0:
            sys.exit(f"{mode} run exited {code}:\n{''.join(f.log[-30:])}")
        return rows, pushes

    def run(self):
        load0 = load()
        self.server()
        with socket.socket() as sock:  # a free port now; each notification run listens on it
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        try:
            lat = {"listing": [], "notification": []}
            delivery = []
            for k in range(self.a.rounds):  # interleaved
                for mode in lat:
                    rows, pushes = self.run_mode(mode, k)
                    lat[mode] += rows
                    if mode == "notification":
                        delivery += pushes
                print(f"  round {k + 1}: listing p50 {percentile(lat['listing'], 50):.2f} s, "
                      f"notification p50 {percentile(lat['notification'], 50):.2f} s",
                      flush=True)
        finally:
            subprocess.run([os.path.join(ROOT, "tools", "s3-server", "stop"),
                            os.path.join(self.work, "s3")], capture_output=True)
        load1 = load()
        res = {m: {"p50": percentile(v, 50), "p99": percentile(v, 99), "n": len(v), "all": v}
               for m, v in lat.items()}
        res["delivery"] = {"p50": percentile(delivery, 50), "p99": percentile(delivery, 99),
                           "n": len(delivery)}
        res.update(period=self.a.period, max_age=self.a.max_age, load_before=load0,
                   load_after=load1)
        with open(os.path.join(self.work, "results.json"), "w") as f:
            json.dump(res, f, indent=1)
        print(f"\nbench/watch/notify.py: upload-to-committed-row latency, s3-source → jpeg-decode "
              f"→ resize-224 → csv-sink (max_age {self.a.max_age}), radosgw on 127.0.0.1")
        for m in lat:
            print(f"  {m:13s} ({'watch ' + self.a.period:9s}, {res[m]['n']} uploads): "
                  f"p50 {res[m]['p50']:.2f} s, p99 {res[m]['p99']:.2f} s")
        print(f"  notification: event pushed into the source p50 {res['delivery']['p50']:.3f} s, "
              f"p99 {res['delivery']['p99']:.3f} s after the PUT returned")
        print(f"  ratio listing / notification p50: "
              f"{res['listing']['p50'] / res['notification']['p50']:.1f}x "
              f"(target: notification p50 <= 1 s)")
        print(f"  load average before {' '.join(load0)}, after {' '.join(load1)}")
        return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("build")
    p.add_argument("--uploads", type=int, default=30)
    p.add_argument("--period", default="2s")
    p.add_argument("--max-age", default="1s")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--work")
    sys.exit(Bench(p.parse_args()).run())


if __name__ == "__main__":
    main()
