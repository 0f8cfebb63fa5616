#!/usr/bin/python3
"""A malicious S3 server for the hostile-input tests: answers s3-source's
ListObjectsV2 and GetObject on 127.0.0.1 (a free port) the way a hostile or
broken server could, per scenario:

    sizes        a listing whose <Size>s are 2^64-1, -1, 10^12, missing or
                 garbage, around two honest objects
    same-token   every page is truncated with the same continuation token
    trickle      the listing's headers, then one byte every 200 ms, forever
    huge-page    a listing page that never ends (bytes until the client
                 hangs up)
    huge-error   a good listing, then every GET answers 500 with a body
                 that never ends
    trickle-get  a good listing, then every GET trickles (never stalls, never
                 ends)

It prints "listening PORT" once, then "trickling" when a trickle has begun
(the test's synchronisation point), on stdout.  Nothing here checks
signatures: the point is what the client does with the replies.

    hostile_s3.py SCENARIO
"""
import http.server
import socketserver
import sys
import time
import urllib.parse

SCENARIO = sys.argv[1]
GOOD = {"good/a.jpg": b"hello, a", "good/b.jpg": b"and b"}
HOSTILE_SIZES = {"bad/max.jpg": "18446744073709551615", "bad/minus.jpg": "-1",
                 "bad/tera.jpg": "1000000000000", "bad/garbage.jpg": "12abc",
                 "bad/missing.jpg": None}


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def contents(key, size):
    size_xml = "" if size is None else f"<Size>{size}</Size>"
    return (f"<Contents><Key>{key}</Key><ETag>&quot;x&quot;</ETag>"
            f"<LastModified>2024-01-01T00:00:00.000Z</LastModified>{size_xml}</Contents>")


def listing(items, truncated=False, token=""):
    body = "".join(contents(k, s) for k, s in items)
    more = f"<NextContinuationToken>{token}</NextContinuationToken>" if truncated else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>b</Name><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
            f"{more}{body}</ListBucketResult>").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def endless(self, status):
        """Headers announcing 1 TiB, then bytes until the client hangs up."""
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(1 << 40))
        self.end_headers()
        chunk = b"<Error>" + b"x" * (1 << 20)
        try:
            while True:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def trickle(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(1 << 20))
        self.end_headers()
        say("trickling")
        try:
            while True:
                self.wfile.write(b" ")
                self.wfile.flush()
                # The attack's pace (a byte every 0.2 s never trips a stall
                # timeout), not a wait for an event: the test synchronises
                # on "trickling" and on flowrun's own messages.
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.lstrip("/").split("/", 1)
        if len(parts) == 1 or not parts[1]:
            return self.list_bucket()
        key = urllib.parse.unquote(parts[1])
        if SCENARIO == "huge-error":
            return self.endless(500)
        if SCENARIO == "trickle-get":
            return self.trickle()
        if key in GOOD:
            return self.reply(200, GOOD[key], "image/jpeg")
        return self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>")

    def list_bucket(self):
        if SCENARIO == "sizes":
            items = [("good/a.jpg", len(GOOD["good/a.jpg"]))]
            items += list(HOSTILE_SIZES.items())
            items += [("good/b.jpg", len(GOOD["good/b.jpg"]))]
            return self.reply(200, listing(items))
        if SCENARIO == "same-token":
            return self.reply(200, listing([("good/a.jpg", 8)], truncated=True, token="again"))
        if SCENARIO == "trickle":
            return self.trickle()
        if SCENARIO == "huge-page":
            return self.endless(200)
        if SCENARIO == "trickle-get":  # as large as the trickle announces
            return self.reply(200, listing([(k, 1 << 20) for k in GOOD]))
        return self.reply(200, listing([(k, len(v)) for k, v in GOOD.items()]))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    say(f"listening {server.server_address[1]}")
    server.serve_forever()


if __name__ == "__main__":
    main()
