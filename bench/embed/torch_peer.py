#!/usr/bin/python3
"""torch_peer — PyTorch 1.13's images/s on ResNet50 features (torchvision
v1.5, the classifier head removed), for bench/embed/run.

    torch_peer.py --batch B --threads T --seconds S --mode eager|frozen [--bf16]

eager: inference_mode + channels_last; frozen: the same, traced and passed
through torch.jit.freeze + optimize_for_inference (oneDNN fusions).  --bf16:
autocast to bfloat16.  Run it with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (the
driver does), or large batches page-fault on every call.  The BN statistics
are calibrated on random smooth images so activations stay O(1) (no
denormals to slow either side).  Prints "torch <mode> batch B threads T <img/s>".
"""
import argparse
import time

import torch
import torchvision


def calibrated_model():
    torch.manual_seed(0)
    m = torchvision.models.resnet50()
    m.fc = torch.nn.Identity()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.momentum = None
            mod.reset_running_stats()
    m.train()
    with torch.no_grad():
        x = torch.nn.functional.interpolate(torch.rand(8, 3, 14, 14), size=224, mode="bilinear")
        m((x - 0.45) / 0.25)
    return m.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--mode", choices=["eager", "frozen"], default="eager")
    ap.add_argument("--bf16", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m = calibrated_model().to(memory_format=torch.channels_last)
    x = torch.rand(a.batch, 3, 224, 224).to(memory_format=torch.channels_last)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
        if a.mode == "frozen":
            m = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(m, x)))
        for _ in range(2):  # warm-up (and the JIT's profiling runs)
            m(x)
        runs, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < a.seconds or runs < 3:
            m(x)
            runs += 1
        rate = runs * a.batch / (time.perf_counter() - t0)
    print("torch %s%s batch %d threads %d %.2f" % (a.mode, "-bf16" if a.bf16 else "", a.batch,
                                                   a.threads, rate))


if __name__ == "__main__":
    main()
