#!/usr/bin/python3
"""A bundle trained in precision auto (the classify_bundle fixture) carries
its network's calibration, and serving computes with it, read only:

- the manifest names embed.calibration with its sha256, and the network
  stage reads it with calibration_fixed (never written, never completed);
- `flowrun serve` at a batch size training never measured runs the
  precisions the training chose (the counts of int8 and bf16 layers in the
  file's choice), says so, and leaves the file as it was;
- test_classify and test_serve hold classify and serve to the fixture's
  reference (the pipeline, the same calibration) within 1e-5: that check
  catches a network run in other precisions than the training's (fp32);
- a changed calibration file is refused naming it, and a file without a
  choice for auto is refused instead of being measured on the photos.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fruitsdata as F  # noqa: E402
from servetest import Server  # noqa: E402

FP32_TAIL = """
  predictall: {{plugin: logreg-predict, inputs: pca, model: "{bundle}/classifier.json",
               top: {classes}}}
  probabilities: {{plugin: csv-sink, inputs: predictall, path: "{out}/probabilities-fp32.csv"}}
"""


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def classify_json(bundle, photos, *options):
    r = subprocess.run([F.FLOWRUN, "classify", "--json", *options, bundle, *photos],
                       capture_output=True, text=True, timeout=1200)
    return r.returncode, r.stderr


def copy_bundle(bundle, into):
    shutil.copytree(bundle, into, ignore=shutil.ignore_patterns("evaluation"))
    return into


def check_manifest(bundle, failures):
    with open(os.path.join(bundle, "manifest.json")) as f:
        m = json.load(f)
    cal = m.get("calibration") or {}
    embed = [s for s in m["stages"] if s["plugin"] == "resnet50-embed"][0]["config"]
    F.check("manifest: calibration embed.calibration with its sha256",
            cal.get("path") == "embed.calibration"
            and cal.get("sha256") == sha256(os.path.join(bundle, "embed.calibration")), failures)
    F.check("manifest: the network reads it read only, in auto",
            embed.get("precision") == "auto" and embed.get("calibration") == "embed.calibration"
            and embed.get("calibration_fixed") == "true", failures)


def trained_choice(bundle):
    """(int8, bf16) layer counts of the choice training stored."""
    with open(os.path.join(bundle, "embed.calibration")) as f:
        plans = [line.split(" = ")[1].split()[0] for line in f if line.startswith("plan ")]
    return plans[0].count("i"), plans[0].count("b")


def check_serve_precision(bundle, failures):
    before = sha256(os.path.join(bundle, "embed.calibration"))
    server = Server(bundle, "--max-batch", "3", "--threads", "1")
    _, log = server.stop()
    m = re.search(r"precision auto: ([^)]*)\)", log)
    said = {k: int(v) for k, v in re.findall(r"(int8|bf16|fp32) (\d+)", m.group(1))} if m else {}
    i8, b16 = trained_choice(bundle)
    print(f"serve says: {m.group(1) if m else log!r}; training chose int8 {i8}, bf16 {b16}")
    F.check("serve (batch 3, 1 thread) runs the training's choice",
            said.get("int8", 0) == i8 and said.get("bf16", 0) == b16 and i8 > 0, failures)
    F.check("serve warms up before it is ready", "warmed up in" in log, failures)
    F.check("serving leaves the calibration file as it was",
            sha256(os.path.join(bundle, "embed.calibration")) == before, failures)


def check_catches_other_precisions(root, data, model, bundle, tmp, failures):
    """test_classify and test_serve hold classify and serve to the fixture's
    reference within 1e-5: that check catches a network that ignored the
    bundle's choice and ran fp32 throughout."""
    F.write_apply_pipeline(os.path.join(tmp, "fp32.yaml"), "fruits-fp32", tmp, data, model,
                           bundle, "batch: 1, precision: fp32", FP32_TAIL)
    F.run([F.FLOWRUN, "-q", os.path.join(tmp, "fp32.yaml")])
    _, reference = F.reference_probabilities(root)
    fp32 = F.read_probabilities(os.path.join(tmp, "probabilities-fp32.csv"))
    worst = 0.0
    for key, (label, scores) in reference.items():
        other = fp32[key]
        worst = max(worst, 1.0 if other[0] != label else float(np.abs(other[1] - scores).max()))
    print(f"fp32 throughout vs the bundle's precisions: max |dp| {worst:.2e}")
    F.check("the 1e-5 check against the reference catches a network run in fp32 instead of "
            "the training's precisions", worst > 1e-5, failures)


def check_refusals(bundle, photo, tmp, failures):
    tampered = copy_bundle(bundle, os.path.join(tmp, "tampered"))
    path = os.path.join(tampered, "embed.calibration")
    with open(path) as f:
        lines = f.readlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("range "))
    lo, hi, name = lines[at].split()[1:4]
    lines[at] = f"range {lo} {float(hi) / 3:.9g} {name}\n"  # a wrong scale
    with open(path, "w") as f:
        f.writelines(lines)
    code, err = classify_json(tampered, [photo])
    print("tampered:", err.strip())
    F.check("a changed calibration file is refused, named",
            code == 2 and "changed since the bundle was trained" in err and path in err,
            failures)

    nochoice = copy_bundle(bundle, os.path.join(tmp, "nochoice"))
    path = os.path.join(nochoice, "embed.calibration")
    with open(path) as f:
        kept = [line for line in f if not line.startswith("plan ")]
    with open(path, "w") as f:
        f.writelines(kept)
    manifest = os.path.join(nochoice, "manifest.json")
    with open(manifest) as f:
        m = json.load(f)
    m["calibration"]["sha256"] = sha256(path)
    with open(manifest, "w") as f:
        json.dump(m, f)
    code, err = classify_json(nochoice, [photo])
    print("no choice:", err.strip())
    F.check("a calibration without auto's choice is refused, not measured on the photos",
            code == 2 and "holds no precision choice for auto" in err, failures)
    with open(path) as f:
        F.check("... and the file is not written", f.readlines() == kept, failures)


def main():
    failures = []
    root, data, _, bundle = F.fixture()
    model = os.path.join(root, "resnet50-keras.onnx")
    check_manifest(bundle, failures)
    check_serve_precision(bundle, failures)
    with tempfile.TemporaryDirectory() as tmp:
        check_catches_other_precisions(root, data, model, bundle, tmp, failures)
        photo = sorted(os.path.join(d, n) for d, _, ns in os.walk(os.path.join(data, "Test"))
                       for n in ns if n.endswith(".jpg"))[0]
        check_refusals(bundle, photo, tmp, failures)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("all checks passed")


if __name__ == "__main__":
    main()
