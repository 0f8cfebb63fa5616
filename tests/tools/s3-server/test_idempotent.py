"""tools/s3-server/start on a running server prints the same endpoint at once,
and the server verifies signatures: awscli works with the right keys and is
refused with a wrong secret."""
import os
import subprocess
import sys
import uuid

server_dir = sys.argv[1]
start = os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tools/s3-server/start")
with open(os.path.join(server_dir, "endpoint")) as f:
    endpoint = f.read().strip()
again = subprocess.run([start, server_dir], check=True, capture_output=True, text=True)
assert again.stdout.strip() == endpoint, (again.stdout, endpoint)

env = dict(os.environ)
with open(os.path.join(server_dir, "env")) as f:
    env.update(line.strip().split("=", 1) for line in f if "=" in line)
bucket = "idem-" + uuid.uuid4().hex[:12]


def aws(*args, **kw):
    return subprocess.run(["aws", "--endpoint-url", endpoint, "s3", *args], env=kw.get("env", env),
                          capture_output=True, text=True)


assert aws("mb", f"s3://{bucket}").returncode == 0
bad = aws("ls", f"s3://{bucket}", env=dict(env, AWS_SECRET_ACCESS_KEY="wrong"))
assert bad.returncode != 0, bad
assert aws("rb", f"s3://{bucket}").returncode == 0
print("ok: same endpoint", endpoint, "and signatures verified")
