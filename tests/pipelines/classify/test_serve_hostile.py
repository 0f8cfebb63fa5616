#!/usr/bin/python3
"""flowrun serve against hostile HTTP on raw sockets (the classify_bundle
fixture's bundle): requests no HTTP client library would send.  Each one
gets its one expected outcome (a clear 4xx/5xx, JSON from flowrun's own
layer, or the connection closed when the request line is not HTTP at all);
after each, the process is alive and a good photo is still classified.
Then the connection limit: the connections admitted are served, one more
is closed at once.  test_serve.py covers hostile bodies and slow clients
through ordinary clients."""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fruitsdata as F  # noqa: E402
from servetest import Server  # noqa: E402

LIMIT = 6  # --max-connections


def dial(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(120)  # a hang guard: every read waits for an answer or a close
    return s


def read_answer(f):
    """(status, body bytes) of the next answer on f (a socket's makefile("rb"));
    (0, b"") when the server closed without one."""
    try:
        line = f.readline()
        if not line:
            return 0, b""
        status, length = int(line.split()[1]), 0
        while (line := f.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, f.read(length)
    except ConnectionResetError:
        return 0, b""


def exchange(port, raw):
    s = dial(port)
    try:
        s.sendall(raw)
        return read_answer(s.makefile("rb"))
    except (BrokenPipeError, ConnectionResetError):
        return 0, b""
    finally:
        s.close()


def classify_request(photo):
    return (b"POST /v1/classify?top=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(photo)) + photo


def still_serving(server, photo):
    status, body = exchange(server.port, classify_request(photo))
    return server.proc.poll() is None and status == 200 and json.loads(body)["top"]


def json_error(body):
    try:
        return json.loads(body.decode("utf-8"))["error"]
    except (ValueError, KeyError):
        return None


def infer_request(header, binary=b"", hlen=None):
    """A v2 infer request: JSON header, binary data after it when given."""
    extra = b""
    if binary or hlen is not None:
        extra = b"Inference-Header-Content-Length: %s\r\n" % (hlen or str(len(header)).encode())
    body = header + binary
    return (b"POST /v2/models/fruits/infer HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + extra
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def hostile_cases():
    """(name, raw request, expected status, whether the body is flowrun's JSON error)."""
    return [
        ("request line not HTTP", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 0,
         False),
        ("header line without a colon", b"GET /v2 HTTP/1.1\r\nHost: t\r\nno colon\r\n\r\n", 400,
         False),
        ("HTTP/1.1 without Host", b"GET /v2/health/live HTTP/1.1\r\n\r\n", 400, True),
        ("HTTP version 9.9", b"GET /v2 HTTP/9.9\r\nHost: t\r\n\r\n", 505, False),
        ("negative Content-Length",
         b"POST /v1/classify HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400, False),
        ("Content-Length beyond 64 bits",
         b"POST /v1/classify HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n"
         b"\r\n", 413, False),
        ("Content-Length over --max-body, body sent anyway",
         b"POST /v1/classify HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
         b"Content-Length: 40000\r\n\r\n" + b"\xff" * 40000, 413, True),
        ("bad chunked encoding",
         b"POST /v1/classify HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"zz\r\nxx\r\n0\r\n\r\n", 400, False),
        ("100 KB header", b"GET /v2 HTTP/1.1\r\nHost: t\r\nX-A: " + b"a" * 100000 + b"\r\n\r\n",
         431, False),
        ("100 KB URL", b"GET /" + b"u" * 100000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, False),
        ("?top= not UTF-8", b"POST /v1/classify?top=%FF%C3 HTTP/1.1\r\nHost: t\r\n"
         b"Connection: close\r\nContent-Length: 3\r\n\r\nabc", 400, True),
        ("NUL in the path", b"GET /v2/mo\x00dels HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
         404, True),
        ("infer: header length not a number", infer_request(b"{}", hlen=b"12abc"), 400, True),
        ("infer: binary element longer than the body",
         infer_request(json.dumps({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                                               "parameters": {"binary_data_size": 8}}]}).encode(),
                       b"\xff\xff\xff\x7fabcd"), 400, True),
        ("infer: 2^40 photos",
         infer_request(json.dumps({"inputs": [{"datatype": "BYTES", "shape": [1 << 40],
                                               "data": []}]}).encode()), 400, True),
    ]


def check_hostile(server, photo, failures):
    for name, raw, want, ours in hostile_cases():
        status, body = exchange(server.port, raw)
        message = json_error(body)
        print(f"  {name}: {status} {(message or body.decode('latin-1'))[:100]!r}")
        F.check(f"{name} -> {want or 'closed'}" + (" with a JSON error" if ours else ""),
                status == want and (not ours or bool(message)), failures)
        F.check(f"{name}: the server still classifies", still_serving(server, photo), failures)


def check_pipelined(server, failures):
    s = dial(server.port)
    s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\n\r\n" * 2 +
              b"GET /v2/health/ready HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    f = s.makefile("rb")
    answers = [read_answer(f) for _ in range(3)]
    s.close()
    F.check("three pipelined requests -> three answers in order",
            [a[0] for a in answers] == [200, 200, 200] and b"ready" in answers[2][1], failures)


def check_connection_limit(server, photo, failures):
    held = [dial(server.port) for _ in range(LIMIT)]
    held[0].sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\n\r\n")
    # Served: the server accepted it, and the others queued before the extra.
    first = read_answer(held[0].makefile("rb"))[0]
    extra = dial(server.port)
    try:
        closed = extra.recv(1) == b""
    except ConnectionResetError:
        closed = True
    extra.close()
    held[-1].sendall(classify_request(photo))
    last = read_answer(held[-1].makefile("rb"))[0]
    for s in held:
        s.close()
    F.check(f"{LIMIT} connections admitted and served, one more closed at once",
            first == 200 and closed and last == 200, failures)


def main():
    failures = []
    root, data, _, bundle = F.fixture()
    photo_path = sorted(os.path.join(d, n) for d, _, ns in os.walk(os.path.join(data, "Test"))
                        for n in ns if n.endswith(".jpg"))[0]
    with open(photo_path, "rb") as f:
        photo = f.read()
    server = Server(bundle, "--max-connections", str(LIMIT), "--max-body", "32768",
                    "--max-batch", "1")
    try:
        F.check("a good photo is classified", still_serving(server, photo), failures)
        check_hostile(server, photo, failures)
        check_pipelined(server, failures)
        check_connection_limit(server, photo, failures)
    finally:
        code, log = server.stop()
    F.check("SIGTERM afterwards: exit 0", code == 0, failures)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("all checks passed")


if __name__ == "__main__":
    main()
