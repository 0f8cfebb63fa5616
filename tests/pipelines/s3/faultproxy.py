#!/usr/bin/python3
"""A fault-injecting HTTP/1.1 proxy for the S3 tests: sits on 127.0.0.1
between a client and radosgw, forwards requests verbatim (the Host header
too, so SigV4 signatures still verify) and injects faults on chosen ones.

    faultproxy.py UPSTREAM_URL RULES_JSON

RULES_JSON is a list of rules, each {"match": REGEX, "fault": KIND,
"times": N}: the first N requests whose "METHOD /path?query" (path as sent,
percent-encoded) matches REGEX get the fault, later ones pass.  KIND is

    503       a 503 SlowDown S3 error, nothing forwarded
    reset     the connection is reset (RST) after the request was read
    timeout   the request is read and never answered (the client times out)
    stall     headers and half the body are sent, then nothing more
    short     headers with the full Content-Length, half the body, close
    truncate  a Content-Length of half the body and that half (a reply that
              looks complete but is short)
    pause     before forwarding, prints the request and waits for a line on
              stdin (the test acts, e.g. deletes the object, then answers)

The proxy prints "listening PORT" once, then one line per injected fault,
"fault KIND METHOD TARGET", *before* injecting it, so a test synchronises on
these lines instead of sleeping; every request is reported first as
"request METHOD TARGET".  A GET of /faultproxy-mark is answered 204 after
printing "mark": every line before it is then in the pipe.
"""
import http.client
import json
import re
import socket
import socketserver
import struct
import sys
import threading
import urllib.parse

UPSTREAM = urllib.parse.urlsplit(sys.argv[1])
RULES = [dict(r, compiled=re.compile(r["match"]), left=r.get("times", 1))
         for r in json.loads(sys.argv[2])]
LOCK = threading.Lock()
RESUME = threading.Semaphore(0)  # one release per line on stdin


def say(line):
    with LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def pick_fault(method, target):
    with LOCK:
        for rule in RULES:
            if rule["left"] > 0 and rule["compiled"].search(f"{method} {target}"):
                rule["left"] -= 1
                return rule["fault"]
    return None


def read_request(rfile):
    """(method, target, [(name, value)], body) or None at EOF."""
    line = rfile.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers = []
    while True:
        h = rfile.readline(65537).decode("latin-1").rstrip("\r\n")
        if not h:
            break
        name, value = h.split(":", 1)
        headers.append((name, value.strip()))
    length = next((int(v) for n, v in headers if n.lower() == "content-length"), 0)
    body = rfile.read(length) if length else b""
    return method, target, headers, body


def response_bytes(status, reason, headers, body, content_length):
    out = [f"HTTP/1.1 {status} {reason}\r\n"]
    for name, value in headers:
        if name.lower() not in ("content-length", "transfer-encoding", "connection"):
            out.append(f"{name}: {value}\r\n")
    out.append(f"Content-Length: {content_length}\r\n\r\n")
    return "".join(out).encode("latin-1"), body


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.upstream = None

    def forward(self, method, target, headers, body):
        for attempt in range(2):  # a kept-alive upstream connection may have closed
            if self.upstream is None:
                self.upstream = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port,
                                                           timeout=120)
            try:
                self.upstream.putrequest(method, target, skip_host=True,
                                         skip_accept_encoding=True)
                for name, value in headers:
                    self.upstream.putheader(name, value)
                self.upstream.endheaders(body if body else None)
                resp = self.upstream.getresponse()
                data = resp.read()
                return resp.status, resp.reason, resp.getheaders(), data
            except (http.client.HTTPException, OSError):
                self.upstream.close()
                self.upstream = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def handle(self):
        while True:
            req = read_request(self.rfile)
            if req is None:
                return
            method, target, headers, body = req
            if target == "/faultproxy-mark":  # drains the report: see s3pipe.Proxy.drain
                say("mark")
                self.wfile.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                continue
            say(f"request {method} {target}")
            fault = pick_fault(method, target)
            if fault:
                say(f"fault {fault} {method} {target}")
            if fault == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                return  # the server closes the socket: an RST
            if fault == "timeout":
                self.rfile.read()  # until the client gives up and closes
                return
            if fault == "503":
                err = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                       b"<Message>Please reduce your request rate.</Message></Error>")
                head, data = response_bytes(503, "Slow Down",
                                            [("Content-Type", "application/xml")], err, len(err))
                self.wfile.write(head + data)
                continue
            if fault == "pause":
                RESUME.acquire()
            status, reason, rheaders, data = self.forward(method, target, headers, body)
            length = next((int(v) for n, v in rheaders if n.lower() == "content-length"),
                          len(data)) if method == "HEAD" else len(data)
            if fault in ("short", "stall", "truncate") and method == "GET" and len(data) > 1:
                half = len(data) // 2
                head, _ = response_bytes(status, reason, rheaders, b"",
                                         half if fault == "truncate" else len(data))
                self.wfile.write(head + data[:half])
                self.wfile.flush()
                if fault == "truncate":
                    continue
                if fault == "stall":
                    self.rfile.read()
                return
            head, data = response_bytes(status, reason, rheaders, data, length)
            self.wfile.write(head + data)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        if self.upstream:
            self.upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that went away mid-reply is part of the tests


def resume_on_stdin():
    for _ in sys.stdin:
        RESUME.release()


def main():
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=resume_on_stdin, daemon=True).start()
    say(f"listening {server.server_address[1]}")
    server.serve_forever()


if __name__ == "__main__":
    main()
