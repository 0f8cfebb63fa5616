"""Starting and talking to `flowrun serve` in the tests."""
import http.client
import json
import os
import re
import signal
import struct
import subprocess

import fruitsdata as F


class Server:
    """flowrun serve on a free port; the port is read from its log line.
    log_format: flowrun's --log-format (None: the default, text)."""

    def __init__(self, bundle, *options, log_format=None):
        first = ["--log-format", log_format] if log_format else []
        self.proc = subprocess.Popen([F.FLOWRUN, *first, "serve", "--listen", "127.0.0.1:0",
                                      *options, bundle], stderr=subprocess.PIPE, text=True)
        self.log = []
        for line in self.proc.stderr:
            self.log.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                return
        raise RuntimeError("flowrun serve did not start:\n" + "".join(self.log))

    def request(self, method, path, body=None, headers=None, timeout=600):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data

    def json(self, method, path, body=None, headers=None):
        status, _, data = self.request(method, path, body, headers)
        return status, json.loads(data)

    def stop(self):
        """SIGTERM; the exit code and the rest of the log."""
        self.proc.send_signal(signal.SIGTERM)
        rest = self.proc.stderr.read()
        return self.proc.wait(timeout=120), "".join(self.log) + rest


def binary_infer(server, photos, binary_output=True):
    """KServe v2 infer with the binary data extension: BYTES elements are a
    4-byte little-endian length then the bytes.  Returns (status, header JSON,
    {output name: decoded values})."""
    raw = b"".join(struct.pack("<I", len(p)) + p for p in photos)
    head = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [len(photos)],
                        "parameters": {"binary_data_size": len(raw)}}],
            "parameters": {"binary_data_output": binary_output}}
    hj = json.dumps(head).encode()
    status, headers, data = server.request(
        "POST", "/v2/models/fruits/infer", hj + raw,
        {"Inference-Header-Content-Length": str(len(hj)),
         "Content-Type": "application/octet-stream"})
    n = int(headers.get("Inference-Header-Content-Length", len(data)))
    answer = json.loads(data[:n])
    values, at = {}, n
    for out in answer.get("outputs", []):
        size = out.get("parameters", {}).get("binary_data_size")
        if size is None:
            values[out["name"]] = out["data"]
            continue
        chunk = data[at:at + size]
        at += size
        if out["datatype"] == "FP32":
            values[out["name"]] = list(struct.unpack(f"<{size // 4}f", chunk))
        else:
            items, i = [], 0
            while i < len(chunk):
                (m,) = struct.unpack_from("<I", chunk, i)
                items.append(chunk[i + 4:i + 4 + m].decode())
                i += 4 + m
            values[out["name"]] = items
    return status, answer, values
