"""The listener of flowrun-s3events fed by the real radosgw: a persistent
topic pushes the bucket's events; keys with spaces, '+', '%' and unicode
arrive as stored; a multipart upload yields one event, at its completion;
a removal is told apart; an event answered 503 is delivered again; a body
radosgw sent, posted twice, is delivered twice (the source's ledger absorbs
the repeat); hostile requests get a 4xx with the reason.  Synchronised on
the listener's output lines, never on sleeps."""
import http.client
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/lib/s3"))
import s3test  # noqa: E402
import notifytest  # noqa: E402
from notifytest import Capture, Lines  # noqa: E402

LISTEN = os.path.join(os.environ["FLOWRUN_BUILD_DIR"], "tests", "s3events-listen")
CAPTURE = os.path.join(os.environ["FLOWRUN_BUILD_DIR"], "s3events-radosgw-event.json")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAILED:", what, file=sys.stderr)


def post(port, body, path="/events", method="POST", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    reply = r.read().decode()
    c.close()
    return r.status, reply


def events_of(lines):
    return [json.loads(l) for l in lines if l.startswith("{")]


def radosgw_pushes(env, s3, bucket, listener, out, err):
    capture = notifytest.capture_server()
    topics = [notifytest.create_topic(env, f"http://127.0.0.1:{listener}/events"),
              notifytest.create_topic(env, f"http://127.0.0.1:{capture.server_address[1]}/")]
    notifytest.notify(s3, bucket, topics)
    try:
        odd = "wave 1/é ü+x%41 (1).jpg"
        s3.put_object(Bucket=bucket, Key=odd, Body=b"first")
        # The listener refuses the first delivery (503): radosgw delivers again.
        err.until(lambda l: l.startswith("not durable"), "a refused delivery")
        err.until(lambda l: l.startswith("refused 503"), "the sender told 503")
        first = events_of(out.until(lambda l: l.startswith("{"), "the first event"))
        check(first and first[0]["key"] == odd, f"key as stored: {first}")
        check(first and first[0]["kind"] == "created", f"a Put is a creation: {first}")
        check(first and first[0]["etag"] == s3test.md5(b"first"), f"eTag: {first}")
        check(first and first[0]["size"] == 5, f"size: {first}")

        up = s3.create_multipart_upload(Bucket=bucket, Key="multi.jpg")
        part = s3.upload_part(Bucket=bucket, Key="multi.jpg", UploadId=up["UploadId"],
                              PartNumber=1, Body=b"m" * 1000)
        # Events of one topic arrive in order: a marker put after the upload
        # started shows what the initiation and the part produced.
        s3.put_object(Bucket=bucket, Key="marker.jpg", Body=b"marker")
        before = events_of(out.until(lambda l: "marker.jpg" in l, "the marker's event"))
        check([e["key"] for e in before if e["kind"] == "created"] == ["marker.jpg"],
              f"nothing created before the multipart upload completes: {before}")
        s3.complete_multipart_upload(Bucket=bucket, Key="multi.jpg", UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": [
                                         {"ETag": part["ETag"], "PartNumber": 1}]})
        done = events_of(out.until(lambda l: "multi.jpg" in l, "the completion's event"))
        check(done[-1]["event"] == "ObjectCreated:CompleteMultipartUpload"
              and done[-1]["kind"] == "created" and done[-1]["size"] == 1000,
              f"the completion is a finished object: {done}")

        s3.delete_object(Bucket=bucket, Key="marker.jpg")
        gone = events_of(out.until(lambda l: '"removed"' in l, "the removal's event"))
        check(gone[-1]["key"] == "marker.jpg" and gone[-1]["event"] == "ObjectRemoved:Delete",
              f"a removal: {gone}")
        body = Capture.bodies.get(timeout=notifytest.WAIT_S)
        with open(CAPTURE, "wb") as f:  # the fuzzer's seed is a copy of this
            f.write(body)
        check(json.loads(body)["Records"][0]["eventSource"] == "ceph:s3",
              "radosgw says it is Ceph (its keys are not URL-encoded)")
        return body
    finally:
        notifytest.remove(env, bucket, topics)
        capture.shutdown()


def repeats_and_hostile(port, bucket, body, out, err):
    for _ in range(2):
        status, reply = post(port, body)
        check(status == 200, f"a radosgw body posted: {status} {reply}")
    again = events_of(out.until(lambda l: "wave 1" in l, "the repeated body's event"))
    again += events_of(out.until(lambda l: "wave 1" in l, "the repeated body's event"))
    check(len([e for e in again if "wave 1" in e["key"]]) == 2,
          f"both deliveries handed on (the ledger absorbs them): {again}")
    hostile = [
        ("GET", "/events", b"", 405, "events are POSTed"),
        ("POST", "/other", body, 404, "no such endpoint"),
        ("POST", "/events", b"{\"Records\": [", 400, "not JSON"),
        ("POST", "/events", b"x" * (300 * 1024), 413, "larger than the limit"),
        ("POST", "/events", json.dumps({"Records": [{}] * 101}).encode(), 400,
         "more than the limit"),
        ("POST", "/events", body.replace(f'"name":"{bucket}"'.encode(), b'"name":"elsewhere"'),
         400, "is not this listener's"),
    ]
    for method, path, data, want, reason in hostile:
        status, reply = post(port, data, path=path, method=method)
        check(status == want and reason in reply, f"{method} {path}: {status} {reply}")
        line = err.until(lambda l: l.startswith("refused"), f"the refusal of {method} {path}")
        check(f"refused {want}" in line[-1], f"the caller is told: {line}")


def main():
    env = s3test.server_env()
    s3 = s3test.boto(env)
    bucket = s3test.new_bucket(s3, "events")
    proc = subprocess.Popen([LISTEN, "http://127.0.0.1:0/events", bucket, "1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8")
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        port = int(out.until(lambda l: l.startswith("listening"), "the port")[-1].split()[-1])
        body = radosgw_pushes(env, s3, bucket, port, out, err)
        repeats_and_hostile(port, bucket, body, out, err)
    finally:
        proc.stdin.close()
        rc = proc.wait(timeout=60)
    check(rc == 0, f"listener exit {rc}")
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
