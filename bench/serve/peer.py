#!/usr/bin/python3
"""peer — the fruit classifier as a Python team would serve it today: Debian's
Python HTTP server (http.server.ThreadingHTTPServer) in front of PyTorch and
scikit-learn, at their best settings on this CPU: Pillow decode +
resize((224, 224)) (bicubic), Keras preprocess_input in numpy, torchvision's
ResNet50 without its top, TorchScript-frozen (optimize_for_inference: BN
folded) in channels_last under torch.inference_mode with a set thread count,
then StandardScaler, PCA and LogisticRegression fitted at start-up on the
Training photos.  One model behind a lock (PyTorch's intra-op threads use the
cores; running requests in parallel only makes them contend).

    peer.py TRAINING_DIR --port P [--threads 2] [--components 200]

POST /v1/classify?top=k with the JPEG as the body answers
{"model", "top": [{"label", "score"}], "timing_ms"}; prints "listening on P (precision ...)"
when ready.
"""
import argparse
import io
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import torch
import torchvision
from PIL import Image
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def network():
    m = torchvision.models.resnet50()
    m.fc = torch.nn.Identity()
    m = m.eval().to(memory_format=torch.channels_last)
    with torch.inference_mode():
        x = torch.zeros(1, 3, 224, 224).to(memory_format=torch.channels_last)
        return torch.jit.optimize_for_inference(torch.jit.trace(m, x))


def pixels(data):
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB").resize((224, 224)), dtype=np.float32)


def embed(m, imgs):
    x = torch.from_numpy(np.stack(imgs)[..., ::-1] - MEAN_BGR)
    x = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        return m(x).numpy().astype(np.float64)


class Model:
    def __init__(self, training, components):
        self.net = network()
        self.lock = threading.Lock()
        paths = sorted(os.path.join(d, n) for d, _, ns in os.walk(training) for n in ns
                       if n.endswith(".jpg"))
        feats = np.concatenate([embed(self.net, [pixels(open(p, "rb").read())
                                                 for p in paths[i:i + 16]])
                                for i in range(0, len(paths), 16)])
        labels = [os.path.basename(os.path.dirname(p)) for p in paths]
        self.scaler = StandardScaler(with_mean=False).fit(feats)
        z = self.scaler.transform(feats)
        self.pca = PCA(n_components=min(components, len(paths) - 1)).fit(z)
        self.clf = LogisticRegression(max_iter=2000).fit(self.pca.transform(z), labels)

    def classify(self, data, top):
        img = pixels(data)
        with self.lock:
            f = embed(self.net, [img])
        p = self.clf.predict_proba(self.pca.transform(self.scaler.transform(f)))[0]
        best = np.argsort(-p)[:top]
        return [{"label": str(self.clf.classes_[i]), "score": float(p[i])} for i in best]


def handler(model):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            t0 = time.perf_counter()
            url = urllib.parse.urlparse(self.path)
            top = int(urllib.parse.parse_qs(url.query).get("top", ["5"])[0])
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                body = {"model": "fruits", "top": model.classify(data, top)}
                status = 200
            except Exception as e:  # noqa: BLE001 -- a bad photo is the client's
                body, status = {"error": str(e)}, 400
            body["timing_ms"] = (time.perf_counter() - t0) * 1e3
            out = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("training")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--components", type=int, default=200)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = Model(a.training, a.components)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), handler(model))
    print(f"listening on {server.server_address[1]} (precision fp32: PyTorch "
          f"{torch.__version__}, TorchScript frozen)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
