#!/usr/bin/python3
"""bench/s3: downloading many small JPEGs from the local radosgw, flowrun's
s3-source (-> null-sink) against `aws s3 cp --recursive` (Debian's awscli,
its default settings) in the same run.

Generates COUNT make-fruits JPEGs (≈ 4.3 KB each at the default quality),
uploads them to a fresh bucket with boto3, then alternates ROUNDS downloads
by each client and prints objects/s and MB/s (wall time of the whole command,
listing and start-up included; the median round) and the ratio.  Both must
get every object: flowrun's summary and the files awscli wrote are checked.

    /usr/bin/python3 bench/s3/run.py --build BUILD [--count 5000] [--rounds 3]
        [--concurrency 32] [--server-dir DIR]

--server-dir reuses a radosgw started by tools/s3-server/start DIR (or
starts one there and leaves it running); without it a server is started in a
temporary directory and stopped at the end.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWS = "/usr/bin/aws"  # Debian's awscli v2, not one first on PATH


def server_env(server_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    with open(os.path.join(server_dir, "env")) as f:
        env.update(line.strip().split("=", 1) for line in f if "=" in line)
    return env


def upload(env, bucket, root):
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"],
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                      region_name=env["AWS_REGION"],
                      config=Config(s3={"addressing_style": "path"}, max_pool_connections=16))
    s3.create_bucket(Bucket=bucket)
    files = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs]

    def put(rel):
        with open(os.path.join(root, rel), "rb") as f:
            s3.put_object(Bucket=bucket, Key=rel, Body=f.read())
        return os.path.getsize(os.path.join(root, rel))

    with ThreadPoolExecutor(16) as pool:
        sizes = list(pool.map(put, files))
    return len(files), sum(sizes)


def flowrun_round(args, env, bucket, work, count):
    pipeline = os.path.join(work, "bench.yaml")
    summary = os.path.join(work, "summary.json")
    with open(pipeline, "w") as f:
        f.write(f"""
name: bench-s3
dead_letters: {work}/dead.jsonl
stages:
  src:  {{plugin: s3-source, url: "s3://{bucket}/", suffix: .jpg,
          concurrency: {args.concurrency}}}
  sink: {{plugin: null-sink, inputs: src}}
""")
    cmd = [os.path.join(args.build, "bin/flowrun"), pipeline, "--summary", summary]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    with open(summary) as f:
        s = json.load(f)
    if s["stages"]["src"]["records_out"] != count or s["dead_letters"]:
        sys.exit(f"flowrun delivered {s['stages']['src']['records_out']} of {count}: {s}")
    return wall


def awscli_round(env, bucket, work, count):
    out = os.path.join(work, "aws")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [AWS, "s3", "cp", "--recursive", "--quiet", "--endpoint-url", env["AWS_ENDPOINT_URL"],
           f"s3://{bucket}/", out]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True)
    wall = time.perf_counter() - t0
    got = sum(len(fs) for _, _, fs in os.walk(out))
    if got != count:
        sys.exit(f"awscli wrote {got} of {count} files")
    return wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="build directory (bin/flowrun, make-fruits)")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=32, help="s3-source GETs in flight")
    ap.add_argument("--server-dir")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)

    work = tempfile.mkdtemp(prefix="flowrun-bench-s3-")
    server_dir = args.server_dir or os.path.join(work, "server")
    try:
        subprocess.run([os.path.join(SOURCE, "tools/s3-server/start"), server_dir], check=True,
                       stdout=subprocess.DEVNULL)
        env = server_env(server_dir)
        env["FLOWRUN_PLUGIN_PATH"] = os.path.join(args.build, "lib/flowrun/test-plugins")
        images = os.path.join(work, "images")
        os.makedirs(images)
        subprocess.run([os.path.join(args.build, "bin/make-fruits"), "--count", str(args.count),
                        images], check=True, capture_output=True)
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        count, total = upload(env, bucket, images)
        print(f"bench/s3: {count} objects, {total / count / 1000:.1f} KB on average, "
              f"{total / 1e6:.1f} MB, radosgw at {env['AWS_ENDPOINT_URL']}")

        times = {"flowrun": [], "awscli": []}
        for _ in range(args.rounds):  # alternate, so both see the same machine
            times["flowrun"].append(flowrun_round(args, env, bucket, work, count))
            times["awscli"].append(awscli_round(env, bucket, work, count))
        med = {k: statistics.median(v) for k, v in times.items()}
        for name, label in [("flowrun", f"flowrun s3-source (concurrency {args.concurrency})"),
                            ("awscli", "aws s3 cp --recursive (awscli 2, defaults)")]:
            t = med[name]
            print(f"  {label:44s} {count / t:9.0f} objects/s {total / t / 1e6:8.2f} MB/s"
                  f"   (median of {args.rounds}: {', '.join(f'{x:.2f}' for x in times[name])} s)")
        print(f"  ratio flowrun/awscli: {med['awscli'] / med['flowrun']:.1f}x")
    finally:
        if not args.server_dir:
            subprocess.run([os.path.join(SOURCE, "tools/s3-server/stop"), server_dir],
                           stdout=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
