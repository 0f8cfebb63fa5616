#!/usr/bin/python3
"""peer — the Fruits! job done the prototype's way on one machine, in Python
at PyTorch's best setting: Pillow decode + img.resize((224, 224)) (bicubic),
Keras preprocess_input in numpy, torchvision's ResNet50 without its top
(average-pooled 2048 features) under torch.inference_mode with channels_last
tensors and a set thread count, scikit-learn's StandardScaler(with_mean=False)
and PCA(200), and a CSV.  Run it with GLIBC_TUNABLES=glibc.malloc.hugetlb=1
(bench/pipeline/run.py does): without it, PyTorch's per-batch buffers are
munmapped and page-faulted again on every batch (docs/platform.md, "glibc malloc").

    peer.py DIR OUT.csv [--threads 2] [--precision fp32|bf16] [--tune]

--tune first times eager vs TorchScript-frozen (optimize_for_inference, BN
folded) at batch 1, 8, 16, 32 on a few images and uses the fastest.  Prints
one JSON line: images, seconds and CPU seconds (listing to CSV written, model
building and tuning excluded), the setting used.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def model(kind):
    m = torchvision.models.resnet50()
    m.fc = torch.nn.Identity()  # include_top=False, pooling="avg"
    m = m.eval().to(memory_format=torch.channels_last)
    if kind == "frozen":
        with torch.inference_mode():
            x = torch.zeros(1, 3, 224, 224).to(memory_format=torch.channels_last)
            m = torch.jit.optimize_for_inference(torch.jit.trace(m, x))
    return m


def load(path):
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB").resize((224, 224)), dtype=np.float32)


def embed(m, batch, precision):
    x = torch.from_numpy(np.stack(batch)[..., ::-1] - MEAN_BGR)  # NHWC BGR
    x = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                enabled=precision == "bf16"):
        return m(x).float().numpy()


def tune(paths, precision):
    imgs = [load(p) for p in paths[:32]]
    best = None
    for kind in ("eager", "frozen"):
        m = model(kind)
        for b in (1, 8, 16, 32):
            embed(m, imgs[:b], precision)  # warm
            t = time.perf_counter()
            done = 0
            while done < 32:
                embed(m, imgs[:b], precision)
                done += b
            rate = done / (time.perf_counter() - t)
            if best is None or rate > best[0]:
                best = (rate, kind, b)
    return best[1], best[2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("out")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--kind", choices=["eager", "frozen"], default="eager")
    p.add_argument("--tune", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    listing = sorted(os.path.join(d, n) for d, _, ns in os.walk(a.dir) for n in ns
                     if n.lower().endswith(".jpg"))
    kind, batch = tune(listing, a.precision) if a.tune else (a.kind, a.batch)
    m = model(kind)
    embed(m, [load(listing[0])] * batch, a.precision)  # warm, as flowrun's init is
    t0, c0 = time.perf_counter(), time.process_time()
    paths = sorted(os.path.join(d, n) for d, _, ns in os.walk(a.dir) for n in ns
                   if n.lower().endswith(".jpg"))
    feats = []
    for i in range(0, len(paths), batch):
        feats.append(embed(m, [load(q) for q in paths[i:i + batch]], a.precision))
    x = np.concatenate(feats).astype(np.float64)
    z = StandardScaler(with_mean=False).fit_transform(x)
    scores = PCA(n_components=min(200, len(paths)), svd_solver="full").fit_transform(z)
    with open(a.out, "w") as f:
        f.write("key,label," + ",".join(f"c{j}" for j in range(scores.shape[1])) + "\n")
        for q, row in zip(paths, scores):
            rel = os.path.relpath(q, a.dir)
            f.write(f"\"{rel}\",\"{os.path.dirname(rel)}\"," + ",".join(f"{v:.9g}" for v in row)
                    + "\n")
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"images": len(paths), "seconds": sec, "cpu_seconds": cpu, "kind": kind, "batch": batch,
                      "precision": a.precision, "threads": a.threads}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
