#!/usr/bin/python3
"""check_embed — resnet50-embed's features against an independent evaluator.

Generates a seeded, calibrated ResNet50 (tools/make-resnet50) and synthetic
fruit images, runs the plugin through the test harness (embed-features) and
onnx_torch.py (PyTorch, no shared code) on the same pixels, and compares.

    check_embed.py fp32 VARIANT BN       fp32: cosine >= 0.99999 per image and
                                         max|diff| <= 1e-3 x max|feature|, at
                                         batch 1 and at a batch leaving a tail
    check_embed.py bf16 VARIANT BN       bf16 vs fp32: cosine >= 0.997 per image,
                                         and the scores of the fp32 features' PCA(16)
                                         correlate >= 0.999 on the leading 8 components
    check_embed.py head                  fp32 on a model with a Gemm classifier: the
                                         logits, and output: features (inner tensor)
    check_embed.py dropped-bias          the fp32 check must FAIL for a model
                                         whose convolutions lost their bias
    check_embed.py int8 VARIANT IMAGES [FP32_LAYERS]
                                         int8 vs fp32: cosine >= 0.99 per image and
                                         the fp32 features' PCA(16) scores correlate
                                         >= 0.99 on the leading 8 components.  The
                                         calibration is made by the plugin and written
                                         to a file that the measured run reuses
                                         (ranges unchanged): fruits: calibrated on 32
                                         fruit images (seed 1), measured on 32 others
                                         (seed 2); corpus: the image stages' corpus
                                         (make-fruits JPEGs and make-bad-images'
                                         decodable files, through Pillow as jpeg-decode
                                         and resize-224 give them), calibrated on
                                         itself as a stream without a file is
    check_embed.py auto VARIANT          precision: auto (calibrated and chosen by the
                                         plugin on 32 fruit images, seed 1) on other
                                         images (seed 2): the int8 bound above, and two
                                         runs with the file choose the same precisions
                                         and give identical features
    check_embed.py int8-bug BUG VARIANT  the int8 check must FAIL when the calibration
                                         file is tampered with: wrong-scale (one
                                         tensor's range a third of the calibrated one)
                                         or dropped-zero-point (only the stem in int8,
                                         FP32_LAYERS all-but-stem; the image's range
                                         shifted so that its zero point is 0 at the
                                         same scale, as a quantizer that forgets it
                                         computes)

Under FLOWRUN_SANITIZE fewer images are used (the plugin is instrumented).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ["FLOWRUN_BUILD_DIR"]
SANITIZE = os.environ.get("FLOWRUN_SANITIZE", "0") in ("1", "ON", "TRUE", "true")
# int8 is judged on PCA score correlations of the 8 leading components, which
# few images leave ill-determined: a correct stem-only int8 run measured 0.9875
# on the last of them with 8 images and 0.9865 with 16 under ASan; sanitized
# int8 and auto runs therefore use as many images as the others.
INT8_IMAGES = 32
SIZE = 224
PREPROCESS = {"keras": "keras", "torchvision": "torch"}


def run(*cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s failed (%d):\n%s%s" % (cmd[0], r.returncode, r.stdout, r.stderr))
    return r.stdout


def make_model(tmp, variant, bn, *extra):
    path = os.path.join(tmp, "%s-%s.onnx" % (variant, bn))
    run(os.path.join(BUILD, "bin", "make-resnet50"), "--variant", variant, "--bn", bn, path, *extra)
    return path


def make_images(tmp, count, seed=None):
    path = os.path.join(tmp, "fruits%s.u8" % (seed or ""))
    extra = ("--seed", seed) if seed else ()
    run(os.path.join(BUILD, "bin", "make-resnet50"), "--fruits", path, "--count", count, *extra)
    return path


def make_corpus(tmp, make_fruits, make_bad):
    """The image stages' corpus as the embed stage receives it: make-fruits
    JPEGs and make-bad-images' decodable files, RGB, resized to 224x224 with
    Pillow's bilinear filter (what jpeg-decode and resize-224 are tested to
    give, bit for bit).  Returns the .u8 file and the image count."""
    from PIL import Image
    src = os.path.join(tmp, "corpus")
    os.makedirs(os.path.join(src, "bad"))
    run(make_fruits, "--count", 24, "--classes", 4, os.path.join(src, "fruits"))
    run(make_bad, os.path.join(src, "bad"))
    names = sorted(os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs
                   if "bad" not in d or f.startswith("ok"))
    path = os.path.join(tmp, "corpus.u8")
    with open(path, "wb") as out:
        for name in names:
            img = Image.open(name).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
            out.write(np.asarray(img, np.uint8).tobytes())
    return path, len(names)


def flowrun(tmp, model, images, count, preprocess, features=2048, **config):
    out = os.path.join(tmp, "flowrun.f32")
    keys = ["model=" + model, "preprocess=" + preprocess, "threads=2"]
    config.setdefault("precision", "fp32")
    keys += ["%s=%s" % kv for kv in config.items()]
    report = run(os.path.join(BUILD, "tests", "embed-features"), images, count, SIZE, out, *keys)
    assert "output_type tensor/f32[%d]" % features in report, report
    return np.fromfile(out, np.float32).reshape(count, -1), report


def torch_ref(tmp, model, images, count, preprocess, *extra):
    out = os.path.join(tmp, "torch.f32")
    run("/usr/bin/python3", os.path.join(HERE, "onnx_torch.py"), model, "--preprocess", preprocess,
        "--input", images, "--count", count, "--output", out, "--threads", 2, *extra)
    return np.fromfile(out, np.float32).reshape(count, -1)


def cosines(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def fp32_agrees(ours, ref, what):
    """The fp32 criterion; prints the figures, returns whether it holds."""
    cos = cosines(ours, ref).min()
    rel = np.abs(ours - ref).max() / np.abs(ref).max()
    ok = cos >= 0.99999 and rel <= 1e-3
    print("%s: min cosine %.7f, max|diff|/max|ref| %.2e -> %s" % (what, cos, rel,
                                                                 "ok" if ok else "DIFFERENT"))
    return ok


def pca(x, k):
    """Mean and the leading k principal axes of the rows of x."""
    mean = x.astype(np.float64).mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    return mean, vt[:k]


def check_fp32(tmp, variant, bn):
    count = 6 if SANITIZE else 16
    model, images = make_model(tmp, variant, bn), make_images(tmp, count)
    pre = PREPROCESS[variant]
    ref = torch_ref(tmp, model, images, count, pre)
    ok = True
    for batch in (1, 5):  # 5: 16 = 3 x 5 + a tail of 1 (6 = 5 + 1)
        ours, report = flowrun(tmp, model, images, count, pre, batch=batch)
        # No layout change between layers: at most the input's and the output's.
        assert int(report.split("reorders_per_batch ")[1].split()[0]) <= 2, report
        ok &= fp32_agrees(ours, ref, "%s %s batch %d" % (variant, bn, batch))
    return ok


def check_head(tmp):
    """A classifier head (Gemm): its logits, and the inner "features" tensor."""
    count = 3 if SANITIZE else 6
    model, images = make_model(tmp, "torchvision", "folded", "--head"), make_images(tmp, count)
    ok = True
    for name, n in (("", 1000), ("features", 2048)):
        extra = ("--output-name", name) if name else ()
        ref = torch_ref(tmp, model, images, count, "torch", *extra)
        ours, _ = flowrun(tmp, model, images, count, "torch", features=n, batch=4, output=name)
        ok &= fp32_agrees(ours, ref, "head, output %s" % (name or "(graph output)"))
    return ok


def pca_correlations(ref, other):
    """Scores of ref's PCA(16) for both sides: correlations of the leading 8."""
    k = min(16, len(ref) - 1)
    mean, axes = pca(ref, k)
    a, b = (ref - mean) @ axes.T, (other - mean) @ axes.T
    return [np.corrcoef(a[:, i], b[:, i])[0, 1] for i in range(min(8, k))]


def int8_agrees(int8, fp32, what):
    cos = cosines(int8, fp32)
    corr = pca_correlations(fp32, int8)
    ok = cos.min() >= 0.99 and min(corr) >= 0.99
    print("%s: int8 vs fp32: cosine min %.5f mean %.5f; PCA(16) score correlations, leading 8: "
          "%s -> %s" % (what, cos.min(), cos.mean(), " ".join("%.4f" % c for c in corr),
                        "ok" if ok else "DIFFERENT"))
    return ok


def calibrate(tmp, model, pre, fp32_layers, images=None, count=None):
    """The plugin's calibration pass on images (default: 32 fruit images of
    seed 1): the file."""
    if images is None:
        count = INT8_IMAGES
        images = make_images(tmp, count, 1)
    path = os.path.join(tmp, "model.calibration")
    flowrun(tmp, model, images, count, pre, batch=8, precision="int8", calibration=path,
            calibration_images=count, fp32_layers=fp32_layers)
    return path


def all_but_stem(model):
    """fp32_layers naming every convolution but the first: only the stem,
    which reads the image through a zero point, runs in int8."""
    convs = [n.name for n in onnx.load(model).graph.node if n.op_type == "Conv"]
    return ",".join(convs[1:])


def int8_vs_fp32(tmp, variant, images, fp32_layers, tamper=None):
    model = make_model(tmp, variant, "kept")
    pre = PREPROCESS[variant]
    shown = fp32_layers or "(none)"
    if fp32_layers == "all-but-stem":
        fp32_layers = all_but_stem(model)
    if images == "fruits":
        calib = calibrate(tmp, model, pre, fp32_layers)
        count = INT8_IMAGES
        path = make_images(tmp, count, 2)
    else:
        # A stream without a calibration file: the plugin calibrates on its
        # first images, here the whole corpus.
        path, count = make_corpus(tmp, *images)
        calib = calibrate(tmp, model, pre, fp32_layers, path, count)
    if tamper:
        tamper(calib)
    before = ranges(calib)
    fp32, _ = flowrun(tmp, model, path, count, pre, batch=8, precision="fp32")
    int8, report = flowrun(tmp, model, path, count, pre, batch=8, precision="int8",
                           calibration=calib, fp32_layers=fp32_layers)
    # The ranges are reused as they are (the run adds its measured choice).
    assert ranges(calib) == before, "the measured run changed the calibration's ranges"
    print(report.strip())
    where = images if images == "fruits" else "corpus"
    return int8_agrees(int8, fp32, "%s, %s, fp32_layers %s" % (variant, where, shown))


def ranges(path):
    with open(path) as f:
        return [line for line in f if line.startswith("range ")]


def check_auto(tmp, variant):
    model = make_model(tmp, variant, "kept")
    pre = PREPROCESS[variant]
    # As many images as the int8 checks, sanitized or not: with 8, the 7th
    # component's correlation of a correct run measured 0.9867 (CI, ASan).
    count = INT8_IMAGES
    calib = os.path.join(tmp, "model.calibration")
    _, first = flowrun(tmp, model, make_images(tmp, count, 1), count, pre, batch=8,
                       precision="auto", calibration=calib, calibration_images=count)
    path = make_images(tmp, count, 2)
    fp32, _ = flowrun(tmp, model, path, count, pre, batch=8)
    runs = [flowrun(tmp, model, path, count, pre, batch=8, precision="auto", calibration=calib)
            for _ in range(2)]
    choices = [report_line(r, "precision") for _, r in [(None, first)] + runs]
    print("choices: %s" % " | ".join(choices))
    same = len(set(choices)) == 1 and np.array_equal(runs[0][0], runs[1][0])
    print("deterministic for the file: %s" % ("yes" if same else "NO"))
    return int8_agrees(runs[0][0], fp32, "%s, auto" % variant) and same


def report_line(report, name):
    return next(line.split(" ", 1)[1] for line in report.splitlines()
                if line.startswith(name + " "))


def edit_ranges(path, edit):
    """Rewrites the calibration file's range lines with edit(index, lo, hi, name)."""
    with open(path) as f:
        lines = f.read().splitlines()
    out, index = [], 0
    for line in lines:
        if line.startswith("range "):
            _, lo, hi, name = line.split(" ", 3)
            lo, hi = edit(index, float(lo), float(hi), name)
            line = "range %.9g %.9g %s" % (lo, hi, name)
            index += 1
        out.append(line)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def wrong_scale(path):
    """One tensor in the middle of the net quantized with a third of its range."""
    with open(path) as f:
        n = sum(1 for line in f if line.startswith("range "))
    edit_ranges(path, lambda i, lo, hi, name: (lo / 3, hi / 3) if i == n // 2 else (lo, hi))


def dropped_zero_point(path):
    """The image's range moved to start at 0 with the same width: scale kept,
    zero point 0, so the negative inputs saturate at 0."""
    edit_ranges(path, lambda i, lo, hi, name: (0, hi - lo) if name == "input" else (lo, hi))


def check_int8_bug(tmp, bug, variant):
    if bug == "wrong-scale":
        ok = int8_vs_fp32(tmp, variant, "fruits", "stem,stage1", wrong_scale)
    else:
        ok = int8_vs_fp32(tmp, variant, "fruits", "all-but-stem", dropped_zero_point)
    print("the int8 check %s the %s bug" % ("MISSED" if ok else "caught", bug))
    return not ok


def check_bf16(tmp, variant, bn):
    count = 8 if SANITIZE else 32
    model, images = make_model(tmp, variant, bn), make_images(tmp, count)
    pre = PREPROCESS[variant]
    fp32, _ = flowrun(tmp, model, images, count, pre, batch=8)
    bf16, _ = flowrun(tmp, model, images, count, pre, batch=8, precision="bf16")
    cos = cosines(bf16, fp32)
    print("bf16 vs fp32: cosine min %.5f mean %.5f" % (cos.min(), cos.mean()))
    ok = cos.min() >= 0.997
    # Downstream: the PCA(16) fitted on fp32 features places the bf16 features
    # where it places the fp32 ones.  (Fitting each side separately is not a
    # precision test: with 32 images successive singular values differ by a
    # few percent, and any perturbation rotates such near-equal components.)
    k = min(16, count - 1)
    mean, axes = pca(fp32, k)
    a, b = (fp32 - mean) @ axes.T, (bf16 - mean) @ axes.T
    corr = [np.corrcoef(a[:, i], b[:, i])[0, 1] for i in range(min(8, k))]
    print("PCA(%d) score correlations, leading 8: %s" % (k, " ".join("%.5f" % c for c in corr)))
    return ok and min(corr) >= 0.999


def check_dropped_bias(tmp):
    """The fp32 check must tell a model without conv biases apart."""
    count = 4
    model, images = make_model(tmp, "keras", "kept"), make_images(tmp, count)
    m = onnx.load(model)
    for node in m.graph.node:
        if node.op_type == "Conv" and len(node.input) == 3:
            del node.input[2]
    wrong = os.path.join(tmp, "no-bias.onnx")
    onnx.save(m, wrong)
    ref = torch_ref(tmp, model, images, count, "keras")
    ours, _ = flowrun(tmp, wrong, images, count, "keras", batch=2)
    return not fp32_agrees(ours, ref, "dropped conv bias (must differ)")


def main():
    tmp = tempfile.mkdtemp(prefix="embed-check-")
    try:
        mode = sys.argv[1]
        if mode == "dropped-bias":
            ok = check_dropped_bias(tmp)
        elif mode == "head":
            ok = check_head(tmp)
        elif mode == "int8":
            images = sys.argv[3] if sys.argv[3] == "fruits" else sys.argv[3].split(",")
            layers = sys.argv[4] if len(sys.argv) > 4 else "stem,stage1"
            ok = int8_vs_fp32(tmp, sys.argv[2], images, layers)
        elif mode == "auto":
            ok = check_auto(tmp, sys.argv[2])
        elif mode == "int8-bug":
            ok = check_int8_bug(tmp, sys.argv[2], sys.argv[3])
        else:
            ok = {"fp32": check_fp32, "bf16": check_bf16}[mode](tmp, sys.argv[2], sys.argv[3])
    finally:
        shutil.rmtree(tmp)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
