"""Notification mode (s3-source `events:` beside `watch:`) against the real
radosgw: a persistent topic pushes the bucket's events to the running
pipeline.  Uploads in waves while it runs, a multipart upload, a body
radosgw sent posted twice more, SIGTERM, uploads and a deleted object
while it is stopped (radosgw keeps their events and delivers them to the
next run), restart: every uploaded key is in the CSV output exactly once,
the key with spaces, '+', '%' and unicode read with the right bytes, the
multipart object read only after its completion, the deleted one a dead
letter with its reason after bounded retries; a key accepted but not yet
committed when the run is killed, deleted before the restart, a dead
letter at the restart.  The listing round runs once at each start (watch:
1h), so what arrives later comes from events.  Synchronised on the
pipeline's log lines, never on sleeps."""
import io
import json
import os
import random
import signal
import subprocess
import sys
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ["FLOWRUN_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SRC, "tests", "engine", "runtime"))
sys.path.insert(0, os.path.join(SRC, "tests", "plugins", "lib", "s3"))
sys.path.insert(0, os.path.join(SRC, "tests", "plugins", "lib", "s3events"))
sys.path.insert(0, os.path.join(SRC, "tests", "pipelines", "durable"))
import notifytest  # noqa: E402
from flowrun_test import FLOWRUN, FlowrunCase, free_ports  # noqa: E402
from notifytest import Capture, Lines  # noqa: E402
from s3test import boto, new_bucket, server_env  # noqa: E402
from test_durable import csv_rows  # noqa: E402

PIPELINE = """
name: notify
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  images: {plugin: s3-source, url: "s3://%s/in/", suffix: .jpg, concurrency: 8,
           watch: 1h, events: "http://127.0.0.1:%d/events"}
  decode: {plugin: jpeg-decode, inputs: images}
  resize: {plugin: resize-224, inputs: decode, width: 4, height: 4}
  dig:    {plugin: passthrough, inputs: resize, digest: true}
  csv:    {plugin: csv-sink, inputs: dig, path: $DIR/csv, mode: append-parts, max_age: 1s}
"""

ODD = "in/wave 1/é ü+x%41 (1).jpg"  # radosgw sends it as stored: no URL-encoding


def jpeg(rng):
    from PIL import Image
    img = Image.new("RGB", (48, 32), tuple(rng.randrange(256) for _ in range(3)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


class Run:
    """flowrun -v on the pipeline, its stderr awaited line by line."""

    def __init__(self, case, pipeline, env):
        self.proc = subprocess.Popen([FLOWRUN, "-v", pipeline, "--no-progress"],
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                     env={**os.environ, **env})
        case.addCleanup(self.kill)  # a failed check leaves no pipeline running
        self.log = Lines(self.proc.stderr)
        self.log.until(lambda l: "listening for s3://" in l, "the listener's start")
        self.log.until(lambda l: "data flowing" in l, "data flowing")

    def answered(self, total):
        """Waits until total requests of this run were answered 200 (durable)."""
        while sum("answered 200" in l for l in self.log.seen) < total:
            self.log.until(lambda l: "answered 200" in l, f"{total} durable answers")

    def until_committed(self, csv, keys):
        """Waits (on the sinks' `published a part` lines) until every key of
        keys has a committed row in csv."""
        while True:
            try:
                if set(keys) <= set(csv_rows(csv)):
                    return
            except FileNotFoundError:
                pass  # no part published yet
            self.log.until(lambda l: "published a part" in l, f"rows of {sorted(keys)}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rest = self.log.rest()
        return self.proc.wait(timeout=120), rest


def post(port, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/events", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status


class Notify(FlowrunCase):
    def test_waves_restart_duplicates_multipart_and_deleted(self):
        env = server_env()
        s3 = boto(env)
        bucket = new_bucket(s3, "notify")
        port = free_ports(1)
        capture = notifytest.capture_server()
        topics = [notifytest.create_topic(env, f"http://127.0.0.1:{port}/events"),
                  notifytest.create_topic(env, f"http://127.0.0.1:{capture.server_address[1]}/")]
        notifytest.notify(s3, bucket, topics)
        rng = random.Random(16)
        uploaded = {}

        def put(key, data):
            s3.put_object(Bucket=bucket, Key=key, Body=data)
            uploaded[key] = data

        p = self.pipeline(PIPELINE % (bucket, port))
        try:
            run = Run(self, p, env)
            # wave 1: the odd key and a twin with the same bytes under a plain key
            twin = jpeg(rng)
            wave1 = {ODD: twin, "in/wave 1/twin.jpg": twin,
                     **{f"in/wave 1/{i}.jpg": jpeg(rng) for i in range(3)}}
            for key, data in wave1.items():
                put(key, data)
            run.answered(5)
            self.assertIn(f"/{ODD} (ETag", "\n".join(run.log.seen))

            # wave 2: a multipart upload shows nothing before its completion
            up = s3.create_multipart_upload(Bucket=bucket, Key="in/wave 2/multi.jpg")
            body = jpeg(rng)
            part = s3.upload_part(Bucket=bucket, Key="in/wave 2/multi.jpg",
                                  UploadId=up["UploadId"], PartNumber=1, Body=body)
            put("in/wave 2/marker.jpg", jpeg(rng))
            before = run.log.until(lambda l: "marker.jpg (ETag" in l, "the marker's event")
            self.assertFalse([l for l in before if "multi.jpg" in l], before)
            s3.complete_multipart_upload(
                Bucket=bucket, Key="in/wave 2/multi.jpg", UploadId=up["UploadId"],
                MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
            uploaded["in/wave 2/multi.jpg"] = body
            run.log.until(lambda l: "multi.jpg (ETag" in l, "the completion's event")
            run.answered(7)

            # a body radosgw sent, delivered twice more: answered, read once.
            # The capturing endpoint takes requests on threads and radosgw
            # pushes concurrently: the odd key's body is one of the 7 sent.
            first = None
            for _ in range(7):
                body = json.loads(Capture.bodies.get(timeout=notifytest.WAIT_S))
                if body["Records"][0]["s3"]["object"]["key"] == ODD:
                    first = body
                    break
            self.assertIsNotNone(first, f"no captured event names {ODD!r}")
            raw = json.dumps(first).encode()
            self.assertEqual([post(port, raw), post(port, raw)], [200, 200])
            code, rest = run.stop()
            self.assertEqual(code, 0, "\n".join(run.log.seen[-30:]))

            # stopped: radosgw keeps these events until the next run answers
            # (it waits on a stand-in meanwhile: notifytest.Holder says why)
            holder = notifytest.Holder(port)
            wave3 = {f"in/wave 3/{i}.jpg": jpeg(rng) for i in range(3)}
            for key, data in wave3.items():
                put(key, data)
            s3.put_object(Bucket=bucket, Key="in/wave 3/gone.jpg", Body=jpeg(rng))
            s3.delete_object(Bucket=bucket, Key="in/wave 3/gone.jpg")

            holder.wait_held()
            holder.close_listener()
            run = Run(self, p, env)
            holder.release()
            run.log.until(lambda l: "(1 dead-lettered), answered 200" in l,
                          "the deleted object's event dead-lettered")
            run.answered(5)  # wave 3, the creation and the removal of gone.jpg
            # its GET found nothing and was tried again, a bounded number of times
            retries = [l for l in run.log.seen if "gone.jpg: not found at its GET" in l]
            self.assertEqual(len(retries), 3, retries)
            self.assertIn("retry 3 of 3", retries[-1])
            code, rest = run.stop()
            self.assertEqual(code, 1, "\n".join(run.log.seen[-30:]))  # 1: a dead letter
        finally:
            notifytest.remove(env, bucket, topics)
            capture.shutdown()

        rows = csv_rows(self.path("csv"))  # a key twice fails here
        self.assertEqual(sorted(rows), sorted(uploaded))
        # the odd key's bytes were read: the same digest as its twin's
        self.assertEqual(rows[ODD]["c0"], rows["in/wave 1/twin.jpg"]["c0"])
        self.assertNotEqual(rows[ODD]["c0"], rows["in/wave 1/0.jpg"]["c0"])
        dead = [json.loads(line) for line in open(self.path("dead.jsonl"))]
        self.assertEqual([d["key"] for d in dead], ["in/wave 3/gone.jpg"], dead)
        self.assertIn("deleted", dead[0]["reason"])
        self.assertIn("3 retries", dead[0]["reason"])
        self.assertIn("NoSuchKey", dead[0]["reason"])

    def notified_bucket(self, name):
        """A new bucket whose events a topic pushes to a free port:
        (env, s3 client, bucket, port, topics)."""
        env = server_env()
        s3 = boto(env)
        bucket = new_bucket(s3, name)
        port = free_ports(1)
        topics = [notifytest.create_topic(env, f"http://127.0.0.1:{port}/events")]
        notifytest.notify(s3, bucket, topics)
        return env, s3, bucket, port, topics

    def test_kill_9_mid_wave_then_restart_loses_and_repeats_nothing(self):
        env, s3, bucket, port, topics = self.notified_bucket("notify-kill")
        rng = random.Random(9)
        p = self.pipeline(PIPELINE % (bucket, port))
        keys = [f"in/kill/{i}.jpg" for i in range(8)]
        try:
            run = Run(self, p, env)
            for key in keys:
                s3.put_object(Bucket=bucket, Key=key, Body=jpeg(rng))
            run.answered(2)  # the moment: two events durable, the others not yet answered
            run.proc.send_signal(signal.SIGKILL)
            self.assertEqual(run.proc.wait(timeout=60), -9)
            run = Run(self, p, env)  # radosgw delivers again what was not answered 200
            run.until_committed(self.path("csv"), keys)
            code, _ = run.stop()
            self.assertEqual(code, 0, "\n".join(run.log.seen[-30:]))
        finally:
            notifytest.remove(env, bucket, topics)
        self.assertEqual(sorted(csv_rows(self.path("csv"))), keys)  # a key twice fails there

    def test_pending_key_deleted_while_stopped_is_a_dead_letter_at_restart(self):
        """A pushed key accepted (its event answered: durable in the ledger)
        but not yet committed when the run is killed, then deleted: the
        restart reads it again (the source keeps pushed keys until they are
        committed), finds it gone and dead-letters it; it never stays
        pending. The sink's max_age is an hour, so the row is not committed
        before the kill."""
        env, s3, bucket, port, topics = self.notified_bucket("notify-pending")
        rng = random.Random(3)
        p = self.pipeline((PIPELINE % (bucket, port)).replace("max_age: 1s", "max_age: 1h"))
        key = "in/pending/lost.jpg"
        try:
            run = Run(self, p, env)
            s3.put_object(Bucket=bucket, Key=key, Body=jpeg(rng))
            run.answered(1)  # durable in the ledger, its row in the open part
            run.proc.send_signal(signal.SIGKILL)
            self.assertEqual(run.proc.wait(timeout=60), -9)
            s3.delete_object(Bucket=bucket, Key=key)
            run = Run(self, p, env)
            run.log.until(lambda l: "dead-lettered" in l and "lost.jpg" in l,
                          "the pending key dead-lettered")
            code, rest = run.stop()
            self.assertEqual(code, 1, "\n".join(run.log.seen[-30:]))  # 1: a dead letter
        finally:
            notifytest.remove(env, bucket, topics)
        dead = [json.loads(line) for line in open(self.path("dead.jsonl"))]
        self.assertEqual([d["key"] for d in dead], [key], dead)
        self.assertIn("NoSuchKey", dead[0]["reason"])


if __name__ == "__main__":
    unittest.main()
