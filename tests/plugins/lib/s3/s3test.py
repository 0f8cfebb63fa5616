"""What the S3 tests share: the radosgw started by the s3_server fixture, a
boto3 client on it (the independent reference), fresh buckets, s3-cli."""
import hashlib
import os
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

SERVER_DIR = os.path.join(os.environ["FLOWRUN_BUILD_DIR"], "s3-server")


def server_env():
    """The AWS_* variables of the running server, over a clean environment
    (no credentials of the machine leak into a test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    with open(os.path.join(SERVER_DIR, "env")) as f:
        env.update(line.strip().split("=", 1) for line in f if "=" in line)
    return env


def boto(env=None):
    env = env or server_env()
    return boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        region_name=env["AWS_REGION"],
                        config=Config(s3={"addressing_style": "path"},
                                      max_pool_connections=16))


def new_bucket(s3, tag):
    name = f"{tag}-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name


def put_many(s3, bucket, objects):
    """objects: {key: bytes}, uploaded in parallel."""
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]),
                      objects.items()))


def md5(data):
    return hashlib.md5(data).hexdigest()


def cli(*args, env=None, check=True):
    """Runs s3-cli; returns CompletedProcess with bytes stdout."""
    r = subprocess.run([os.environ["S3_CLI"], *args], env=env or server_env(),
                       capture_output=True, timeout=240)
    if check and r.returncode != 0:
        raise AssertionError(f"s3-cli {args} failed: {r.stderr.decode()}")
    return r
