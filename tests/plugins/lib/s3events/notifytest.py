"""What the notification tests share: bucket notifications on the test
radosgw (tools/s3-server), an SNS-compatible persistent topic pushing to an
HTTP endpoint and the bucket's configuration sending it creations and
removals; a capturing endpoint (radosgw's bodies byte for byte); a
process's output lines awaited with a bound.  Used by the listener's tests
and the notification-mode pipelines."""
import http.server
import queue
import socket
import threading
import urllib.request
import uuid

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREATED_AND_REMOVED = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]


def sns(env):
    return boto3.client("sns", endpoint_url=env["AWS_ENDPOINT_URL"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        region_name=env["AWS_REGION"])


def create_topic(env, endpoint):
    """A persistent topic (radosgw queues each event in rados and delivers it
    until the endpoint answers 2xx: at least once) pushing to endpoint.  Its
    ARN."""
    name = f"flowrun-{uuid.uuid4().hex[:10]}"
    reply = sns(env).create_topic(Name=name, Attributes={
        "push-endpoint": endpoint, "persistent": "true"})
    return reply["TopicArn"]


def notify(s3, bucket, topic_arns, events=CREATED_AND_REMOVED):
    """Sends the bucket's events to every topic of topic_arns."""
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [
            {"Id": f"n{i}", "TopicArn": arn, "Events": events}
            for i, arn in enumerate(topic_arns)]})


def remove(env, bucket, topic_arns):
    """Undoes notify and create_topic: the shared server keeps no queue
    pushing to an endpoint that is gone."""
    # radosgw refuses an empty configuration; DELETE ?notification is its way
    request = AWSRequest(method="DELETE",
                         url=f"{env['AWS_ENDPOINT_URL']}/{bucket}?notification")
    S3SigV4Auth(Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), "s3",
                env["AWS_REGION"]).add_auth(request)
    urllib.request.urlopen(urllib.request.Request(
        request.url, method="DELETE", headers=dict(request.headers)), timeout=60).close()
    for arn in topic_arns:
        sns(env).delete_topic(TopicArn=arn)


WAIT_S = 120  # radosgw scans its persistent queues every 30 s: a bound, not a pace


class Lines:
    """A pipe's lines, read on a thread, awaited with a bound."""

    def __init__(self, pipe):
        self.q = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe):
        for line in pipe:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def until(self, pred, what):
        """Lines up to the first that satisfies pred (included)."""
        got = []
        while True:
            try:
                line = self.q.get(timeout=WAIT_S)
            except queue.Empty:
                raise AssertionError(f"no {what} within {WAIT_S}s; got {got}")
            if line is None:
                raise AssertionError(f"the process ended before {what}; got {got}")
            got.append(line)
            self.seen.append(line)
            if pred(line):
                return got

    def rest(self):
        """Every line until the pipe closes."""
        got = []
        while (line := self.q.get(timeout=WAIT_S)) is not None:
            got.append(line)
            self.seen.append(line)
        return got


class Holder:
    """Stands in for a stopped pipeline's listener on its port: accepts
    radosgw's pushes and never answers them, so radosgw waits on them
    instead of retrying a refused connection about 12 times a second.
    radosgw 16.2.15 can stall a queue for good when such retries cross its
    30 s queue scan (docs/notifications.md), which a test must not depend
    on.  close_listener() frees the port for the next run (the pushes held
    stay pending); release() then closes them, so radosgw pushes again, to
    the run listening by then."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.held = []
        self.holding = threading.Condition()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # close_listener() shut the socket down
                return
            with self.holding:
                self.held.append(conn)
                self.holding.notify_all()

    def wait_held(self):
        """Until radosgw's push is parked here (it then pushes nothing else
        of that queue before the push ends)."""
        with self.holding:
            if not self.holding.wait_for(lambda: self.held, timeout=WAIT_S):
                raise AssertionError(f"radosgw pushed nothing to the stand-in within {WAIT_S}s")

    def close_listener(self):
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.thread.join()
        self.sock.close()

    def release(self):
        for conn in self.held:
            conn.close()
        self.held = []


class Capture(http.server.BaseHTTPRequestHandler):
    """An endpoint that keeps every body it is sent (Capture.bodies)."""
    bodies = queue.Queue()

    def do_POST(self):
        self.bodies.put(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def capture_server():
    """A running Capture endpoint; its URL is http://127.0.0.1:PORT/."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
