"""The s3 library against radosgw, each result cross-checked with boto3:
keys with special characters, > 1,000 keys (pagination, start-after), Range,
Head, Delete, a 20 MiB multipart upload, concurrent fetches, NoSuchKey and a
wrong secret (a clear 403)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from s3test import boto, cli, md5, new_bucket, put_many, server_env  # noqa: E402

s3 = boto()
bucket = new_bucket(s3, "objects")
SPECIAL = ["plain.txt", "with space/a b.jpg", "plus+sign.jpg", "percent%41.jpg",
           "amp&er=sand?.jpg", "unicodé/Äpfel 🍎.jpg", "tilde~quote'(paren)!*.jpg",
           "deep/a/b/c/d.jpg"]

# PutObject from C, read back by boto3.
for i, key in enumerate(SPECIAL):
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"s3obj-{os.getpid()}")
    with open(path, "wb") as f:
        f.write(key.encode() * (i + 1))
    cli("put", bucket, key, path)
    os.unlink(path)
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert got == key.encode() * (i + 1), key

# List from C equals boto3's listing (keys, sizes, ETags).
listed = [line.split("\t") for line in cli("ls", bucket, "").stdout.decode().splitlines()]
ref = s3.list_objects_v2(Bucket=bucket)["Contents"]
assert [x[0] for x in listed] == [o["Key"] for o in ref], listed
assert [int(x[1]) for x in listed] == [o["Size"] for o in ref]
assert [x[2] for x in listed] == [o["ETag"].strip('"') for o in ref]

# GetObject, Range, HeadObject.
key = "unicodé/Äpfel 🍎.jpg"
body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
assert cli("get", bucket, key).stdout == body
assert cli("get", bucket, key, "3", "5").stdout == body[3:8]
size, etag = cli("head", bucket, key).stdout.decode().split()
assert int(size) == len(body) and etag == md5(body)

# Errors: NoSuchKey is class 1 (not found) and names the key.
r = cli("get", bucket, "missing/key.jpg", check=False)
assert r.returncode == 1 and b"class=1" in r.stderr and b"NoSuchKey" in r.stderr, r.stderr
assert f"s3://{bucket}/missing/key.jpg".encode() in r.stderr

# A wrong secret: a 403 naming bucket, region and credential source.
r = cli("ls", bucket, "", env=dict(server_env(), AWS_SECRET_ACCESS_KEY="wrong/secret+x"),
        check=False)
err = r.stderr.decode()
assert r.returncode == 1 and "class=2" in err and "HTTP 403" in err, err
assert bucket in err and "region us-east-1" in err and "credentials from environment" in err, err

# DeleteObject, checked by boto3.
cli("rm", bucket, "plain.txt")
assert "plain.txt" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]

# Pagination: 1,100 keys under a prefix, and start-after.
many = {f"many/{i:05d}.bin": str(i).encode() for i in range(1100)}
put_many(s3, bucket, many)
keys = [line.split("\t")[0] for line in cli("ls", bucket, "many/").stdout.decode().splitlines()]
assert keys == sorted(many), (len(keys), keys[:3])
after = cli("ls", bucket, "many/", "many/01049.bin").stdout.decode().splitlines()
assert [x.split("\t")[0] for x in after] == sorted(many)[1050:]

# Concurrent fetch (curl multi): every object once, bodies equal to boto3's.
fetched = [line.split("\t") for line in cli("fetch", bucket, "many/", "8").stdout.decode()
           .splitlines()]
assert sorted(x[0] for x in fetched) == sorted(many)
assert all(x[2] == md5(many[x[0]]) for x in fetched)

# 20 MiB multipart upload from C, read back by boto3; no upload left open.
big = os.urandom(20 << 20)
path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"s3big-{os.getpid()}")
with open(path, "wb") as f:
    f.write(big)
cli("upload", bucket, "big/20MiB.bin", path)
os.unlink(path)
assert md5(s3.get_object(Bucket=bucket, Key="big/20MiB.bin")["Body"].read()) == md5(big)
assert s3.head_object(Bucket=bucket, Key="big/20MiB.bin")["ETag"].strip('"').endswith("-3")
assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
print("ok")
