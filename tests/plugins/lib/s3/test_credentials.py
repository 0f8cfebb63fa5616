"""The credential chain, each source ending in a real signed request to
radosgw: environment, shared files with a profile (and its region), the
container endpoint and the EC2 instance role through IMDSv2, both played by
a local HTTP server (token required, credentials that expire soon, so they
are refreshed)."""
import json
import os
import shutil
import sys
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from s3test import boto, cli, new_bucket, server_env  # noqa: E402

srv = server_env()
KEY, SECRET = srv["AWS_ACCESS_KEY_ID"], srv["AWS_SECRET_ACCESS_KEY"]
bucket = new_bucket(boto(), "creds")
fetches = {"imds": 0, "container": 0}


def creds_json():
    # Expires within the 5-minute refresh margin: every request refreshes.
    exp = (datetime.now(timezone.utc) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"AccessKeyId": KEY, "SecretAccessKey": SECRET, "Token": "",
                       "Expiration": exp}).encode()


class Metadata(BaseHTTPRequestHandler):
    def reply(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        ok = self.path == "/latest/api/token" and \
            self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        self.reply(200 if ok else 400, b"tok-123" if ok else b"")

    def do_GET(self):
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == "/container/creds":
            if self.headers.get("Authorization") != "Bearer ctoken":
                return self.reply(401)
            fetches["container"] += 1
            return self.reply(200, creds_json())
        if self.headers.get("X-aws-ec2-metadata-token") != "tok-123":
            return self.reply(401)  # IMDSv1 (no token) is refused, as on hardened EC2
        if self.path == base:
            return self.reply(200, b"web-role\n")
        if self.path == base + "web-role":
            fetches["imds"] += 1
            return self.reply(200, creds_json())
        self.reply(404)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
threading.Thread(target=server.serve_forever, daemon=True).start()
meta = f"http://127.0.0.1:{server.server_address[1]}"
base = {k: v for k, v in srv.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                   "AWS_EC2_METADATA_DISABLED", "AWS_REGION")}
tmp = tempfile.mkdtemp()
base["HOME"] = tmp  # no ~/.aws of the machine
base["AWS_CONFIG_FILE"] = os.path.join(tmp, "none")
base["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(tmp, "none")


def whoami(env):
    out = cli("whoami", env=env).stdout.decode().splitlines()
    cli("ls", bucket, "", env=env)  # the credentials really sign
    return out

# Environment first, even with a profile file present.
src, region, _ = whoami(dict(srv))
assert src.startswith("environment"), src

# Shared files: a named profile's keys, the region from the config file.
cred_file, conf_file = os.path.join(tmp, "credentials"), os.path.join(tmp, "config")
with open(cred_file, "w") as f:
    f.write(f"[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n"
            f"\n[ci]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
with open(conf_file, "w") as f:
    f.write("[profile ci]\nregion = us-east-1\n\n[default]\nregion = eu-west-3\n")
files = dict(base, AWS_SHARED_CREDENTIALS_FILE=cred_file, AWS_CONFIG_FILE=conf_file,
             AWS_PROFILE="ci", AWS_EC2_METADATA_DISABLED="true")
src, region, _ = whoami(files)
assert "profile ci" in src and cred_file in src and region == "us-east-1", (src, region)
env = dict(files)
del env["AWS_PROFILE"]
assert cli("whoami", env=env).stdout.decode().splitlines()[1] == "eu-west-3"

# Container credentials (full URI with an authorization token).
cont = dict(base, AWS_CONTAINER_CREDENTIALS_FULL_URI=meta + "/container/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer ctoken", AWS_EC2_METADATA_DISABLED="true")
src, _, _ = whoami(cont)
assert src.startswith("container credentials"), src

# EC2 instance role through IMDSv2, refreshed before expiry.
imds = dict(base, AWS_EC2_METADATA_SERVICE_ENDPOINT=meta)
before = fetches["imds"]
src, _, _ = whoami(imds)
assert "EC2 instance role web-role (IMDSv2" in src, src
assert fetches["imds"] - before >= 3, fetches  # resolve, then a refresh per request

# Nothing anywhere: one message naming what was tried; secrets never printed.
r = cli("whoami", env=dict(base, AWS_EC2_METADATA_DISABLED="true"), check=False)
assert r.returncode == 1 and b"no AWS credentials" in r.stderr, r.stderr
for out in (cli("whoami", env=imds).stdout, cli("whoami", env=files).stdout):
    assert SECRET.encode() not in out
server.shutdown()
shutil.rmtree(tmp)
print("ok", fetches)
