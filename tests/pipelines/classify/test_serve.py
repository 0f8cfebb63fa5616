#!/usr/bin/python3
"""flowrun serve on the classify_bundle fixture: both APIs with curl and a
Python client, identical numbers, hostile requests beside a good client,
overload, timeout, SIGTERM drain, /metrics.

- /v1/classify (curl) and KServe v2 infer (JSON with base64, and the binary
  data extension, Python) give each Test photo the pipeline's top-1 label and
  probabilities within 1e-5 (photos sent one at a time: batch 1 as the
  reference; see make_bundle.py), shown to catch a swapped photo;
- health, metadata, unknown model/endpoint/method, bad arguments: right status
  and {"error": ...};
- truncated JPEG, PNG as JPEG, empty body, 100 MB body (sent at once, and
  by curl, which waits for "100 Continue"), bad JSON, a lying
  Inference-Header-Content-Length, a slowloris client (closed after
  --timeout): each answered right while a good client keeps succeeding;
- a second server (queue 1, long batch delay): the second request is refused
  503 while the first waits; a third, with a short request timeout, 504;
  SIGTERM while a request waits: it is answered 200 and the server exits 0;
- /metrics passes promtool check metrics and counts what was sent.
"""
import base64
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fruitsdata as F  # noqa: E402
from servetest import Server, binary_infer  # noqa: E402


def curl_classify(port, path, top):
    r = subprocess.run(["curl", "-sS", "-X", "POST", "--data-binary", "@" + path,
                        f"http://127.0.0.1:{port}/v1/classify?top={top}"],
                       capture_output=True, text=True, timeout=600)
    return json.loads(r.stdout)


def matches(answers, ref, tol):
    """answers: {key: (top-1 label, probabilities sorted decreasing)}"""
    return all(a[0] == ref[k][0] and np.abs(np.array(a[1]) - ref[k][1]).max() <= tol
               for k, a in answers.items())


def numbers(s, ref, test, keys, classes, failures):
    v1, v2, v2b = {}, {}, {}
    for k in keys:
        path = os.path.join(test, k)
        a = curl_classify(s.port, path, len(classes))
        v1[k] = (a["top"][0]["label"], [t["score"] for t in a["top"]])
        body = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                            "data": [base64.b64encode(open(path, "rb").read()).decode()]}]}
        st, r = s.json("POST", "/v2/models/fruits/infer", json.dumps(body))
        out = {o["name"]: o for o in r["outputs"]}
        p = out["probabilities"]["data"]
        v2[k] = (out["label"]["data"][0], sorted(p, reverse=True))
        st, _, vals = binary_infer(s, [open(path, "rb").read()])
        v2b[k] = (vals["label"][0], sorted(vals["probabilities"], reverse=True))
        if a["model"] != "fruits" or not isinstance(a["timing_ms"], float) or st != 200:
            failures.append(f"{k}: v1 fields or v2 status")
    worst = max(np.abs(np.array(v[k][1]) - ref[k][1]).max() for v in (v1, v2, v2b) for k in keys)
    print(f"max |p_serve - p_pipeline| = {worst:.2e} over {len(keys)} photos, 3 ways")
    F.check("v1 (curl) = the pipeline's logreg-predict within 1e-5", matches(v1, ref, 1e-5),
            failures)
    F.check("v2 JSON = the pipeline within 1e-5", matches(v2, ref, 1e-5), failures)
    F.check("v2 binary extension = the pipeline within 1e-5", matches(v2b, ref, 1e-5), failures)
    swapped = {k: v1[keys[(i + 1) % len(keys)]] for i, k in enumerate(keys)}
    F.check("catches a swapped photo", not matches(swapped, ref, 1e-5), failures)


def protocol(s, photo, classes, failures):
    checks = [
        (("GET", "/v2/health/live"), 200, lambda j: j == {"live": True}),
        (("GET", "/v2/health/ready"), 200, lambda j: j == {"ready": True}),
        (("GET", "/v2/models/fruits/ready"), 200, lambda j: j == {"ready": True}),
        (("GET", "/v2"), 200, lambda j: "binary_tensor_data" in j["extensions"]),
        (("GET", "/v2/models/fruits"), 200,
         lambda j: j["name"] == "fruits" and j["inputs"][0]["datatype"] == "BYTES"
         and [o["name"] for o in j["outputs"]] == ["label", "probabilities"]
         and j["outputs"][1]["shape"] == [-1, len(classes)]
         and j["parameters"]["classes"] == classes),
        (("GET", "/v2/models/apples"), 404, lambda j: "apples" in j["error"]),
        (("GET", "/v2/models/fruits/infer"), 405, lambda j: "POST" in j["error"]),
        (("GET", "/nowhere"), 404, lambda j: "error" in j),
        (("POST", "/v1/classify?top=0", photo), 400, lambda j: "top" in j["error"]),
        (("POST", "/v1/classify?top=x", photo), 400, lambda j: "top" in j["error"]),
        (("POST", "/v2/models/fruits/infer", b'{"inputs": [{"name": "x", "datatype": "FP32", '
          b'"shape": [1], "data": [1]}]}'), 400, lambda j: "BYTES" in j["error"]),
        (("POST", "/v2/models/fruits/infer", b'{"inputs": [{"name": "x", "datatype": "BYTES", '
          b'"shape": [1], "data": ["%%%"]}]}'), 400, lambda j: "base64" in j["error"]),
    ]
    for (method, path, *body), want, ok in checks:
        st, j = s.json(method, path, body[0] if body else None)
        F.check(f"{method} {path}: {want}", st == want and ok(j), failures)
    r = subprocess.run(["curl", "-sS", "-X", "POST", "--data-binary", "@-", "-w",
                        "\n%{http_code}", f"http://127.0.0.1:{s.port}/v1/classify?top=3"],
                       input=photo, capture_output=True, timeout=600)
    body, code = r.stdout.rsplit(b"\n", 1)
    j = json.loads(body)
    F.check("curl /v1/classify: 200, model, version, 3 labels with scores, timing_ms",
            code == b"200" and j["model"] == "fruits" and j["version"] and len(j["top"]) == 3
            and all(set(t) == {"label", "score"} for t in j["top"]) and j["timing_ms"] > 0,
            failures)
    st, head, vals = binary_infer(s, [photo, photo])
    F.check("binary extension, 2 photos: shapes [2] and [2, classes], binary outputs",
            st == 200 and head["outputs"][0]["shape"] == [2]
            and head["outputs"][1]["shape"] == [2, len(classes)]
            and len(vals["probabilities"]) == 2 * len(classes) and vals["label"][0] == vals["label"][1],
            failures)


class GoodClient(threading.Thread):
    """Classifies one photo again and again until told to stop."""

    def __init__(self, s, photo):
        super().__init__()
        self.s, self.photo, self.stop = s, photo, threading.Event()
        self.ok, self.failed, self.label = 0, [], None

    def run(self):
        while not self.stop.is_set():
            try:
                st, j = self.s.json("POST", "/v1/classify?top=1", self.photo)
                if st != 200 or (self.label and j["top"][0]["label"] != self.label):
                    self.failed.append((st, j))
                self.label = self.label or j["top"][0]["label"]
                self.ok += st == 200
            except Exception as e:  # noqa: BLE001 -- any failure counts
                self.failed.append(repr(e))


def slowloris(port):
    """Sends half a request line and stalls: the server must close it."""
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Le")
    c.settimeout(120)
    closed = c.recv(1024) == b""
    c.close()
    return closed


def hostile(s, photo, failures):
    good = GoodClient(s, photo)
    good.start()
    png = io.BytesIO()
    Image.open(io.BytesIO(photo)).save(png, format="PNG")
    cases = [
        ("truncated JPEG", "/v1/classify", photo[: len(photo) // 2], {}, 400),
        ("PNG sent as JPEG", "/v1/classify", png.getvalue(), {}, 400),
        ("empty body", "/v1/classify", b"", {}, 400),
        ("100 MB body", "/v1/classify", b"\0" * (100 << 20), {}, 413),
        ("bad JSON", "/v2/models/fruits/infer", b'{"inputs": [', {}, 400),
        ("header length beyond the body", "/v2/models/fruits/infer", b"{}",
         {"Inference-Header-Content-Length": "999"}, 400),
    ]
    for name, path, body, headers, want in cases:
        try:
            st, _, data = s.request("POST", path, body, headers)
            msg = json.loads(data).get("error", "")
        except (ConnectionError, OSError) as e:
            st, msg = None, repr(e)
        print(f"  {name}: {st} {msg[:100]}")
        F.check(f"hostile: {name} -> {want} with an error message", st == want and msg, failures)
    with tempfile.NamedTemporaryFile() as big:
        big.truncate(100 << 20)
        r = subprocess.run(["curl", "-sS", "-X", "POST", "--data-binary", "@" + big.name, "-w",
                            "\n%{http_code}", f"http://127.0.0.1:{s.port}/v1/classify"],
                           capture_output=True, text=True, timeout=600)
    body, code = r.stdout.rsplit("\n", 1)
    print(f"  100 MB body with curl (Expect: 100-continue): {code} {body[:100]}")
    F.check("hostile: 100 MB body from curl -> 413 before the upload",
            code == "413" and "limit" in json.loads(body)["error"], failures)
    F.check("hostile: a slowloris client is disconnected after the timeout",
            slowloris(s.port), failures)
    good.stop.set()
    good.join()
    print(f"  good client: {good.ok} answers, {len(good.failed)} failures {good.failed[:2]}")
    F.check("hostile: the good client kept succeeding meanwhile",
            good.ok > 0 and not good.failed, failures)


def metric(text, name):
    """The value of the sample `name` (with its labels, as written), or None."""
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            if key == name:
                return float(value)
    return None


def metrics(s, failures):
    st, _, data = s.request("GET", "/metrics")
    text = data.decode()
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    F.check(f"/metrics passes promtool check metrics {r.stdout}{r.stderr}".strip(),
            st == 200 and r.returncode == 0, failures)
    ok200 = metric(text, 'flowrun_serve_requests_total{endpoint="classify",code="200"}')
    too_large = metric(text, 'flowrun_serve_errors_total{class="too_large"}')
    batches = metric(text, "flowrun_serve_batch_size_count")
    F.check(f"/metrics counts: classify 200 = {ok200}, too_large = {too_large}, "
            f"batches = {batches}", ok200 and ok200 > 5 and too_large == 2 and batches > 5,
            failures)


def queue_depth(s):
    _, _, data = s.request("GET", "/metrics")
    return metric(data.decode(), "flowrun_serve_queue_depth")


def overload_and_drain(bundle, photo, failures):
    s = Server(bundle, "--queue", "1", "--max-batch-delay", "10000", "--max-batch", "2")
    first = {}
    t = threading.Thread(target=lambda: first.update(r=s.json("POST", "/v1/classify", photo)))
    t.start()
    while queue_depth(s) != 1:  # synchronise on the server's own state
        pass
    st, j = s.json("POST", "/v1/classify", photo)
    F.check(f"overload: queue full -> 503 {j.get('error', '')}",
            st == 503 and "overloaded" in j["error"], failures)
    code, log = s.stop()  # the first request is still waiting for its batch
    t.join()
    F.check("SIGTERM: the waiting request is answered 200, exit 0, drained",
            first["r"][0] == 200 and code == 0 and "draining" in log, failures)

    s = Server(bundle, "--max-batch-delay", "10000", "--max-batch", "2", "--request-timeout",
               "200", log_format="json")
    st, j = s.json("POST", "/v1/classify", photo)
    F.check(f"request timeout -> 504 {j.get('error', '')}", st == 504 and "timed out" in j["error"],
            failures)
    code, log = s.stop()
    F.check("second server exits 0", code == 0, failures)
    events = [json.loads(line) for line in log.splitlines()]  # every line parses
    said = [(e["level"], e["message"].split(" ")[1]) for e in events]
    F.check(f"--log-format json: the server's lines are events {said}",
            said == [("info", "warmed"), ("info", "listening"), ("info", "Terminated:"),
                     ("info", "stopped")], failures)


def main():
    failures = []
    root, data, model, bundle = F.fixture()
    classes, ref = F.reference_probabilities(root)
    test = os.path.join(data, "Test")
    keys = sorted(ref)[:: max(1, len(ref) // 6)]
    photo = open(os.path.join(test, keys[0]), "rb").read()
    s = Server(bundle, "--timeout", "2")
    try:
        numbers(s, ref, test, keys, classes, failures)
        protocol(s, photo, classes, failures)
        hostile(s, photo, failures)
        metrics(s, failures)
    finally:
        code, log = s.stop()
    F.check("SIGTERM: exit 0", code == 0, failures)
    overload_and_drain(bundle, photo, failures)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")


if __name__ == "__main__":
    main()
