"""Fills a fresh bucket with boto3 (the independent client) and runs the C
harness test of s3-source on it: run_source_test.py TEST_BINARY."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/lib/s3"))
from s3test import boto, new_bucket, put_many, server_env  # noqa: E402

s3 = boto()
bucket = new_bucket(s3, "source")
objects = {}
for fruit in ["Apple Braeburn", "Banana", "Cactus fruit", "Pêche+&%"]:
    for i in range(3):
        key = f"Training/{fruit}/{i}.jpg"
        objects[key] = key.encode() * (i + 1)
objects["Training/notes.txt"] = b"not an image"
objects["Training/empty-folder/"] = b""
objects["Test/Banana/9.jpg"] = b"outside the prefix"
put_many(s3, bucket, objects)
n_jpegs = sum(k.startswith("Training/") and k.endswith(".jpg") for k in objects)
sys.exit(subprocess.run([sys.argv[1], bucket, str(n_jpegs)], env=server_env()).returncode)
