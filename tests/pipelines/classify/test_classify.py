#!/usr/bin/python3
"""flowrun classify and flowrun evaluate on the classify_bundle fixture.

- classify --json on the Test photos gives, photo by photo, the top-1 label of
  the training pipeline's own logreg-predict stage and its probabilities
  within 1e-5 (the check is shown to catch probabilities off by 1e-4 and a
  swapped photo);
- bad files (truncated JPEG, PNG named .jpg, empty, missing) each get an error
  naming the file while the good photos around them are classified; exit 1;
- a photo stored sideways with an EXIF orientation, and a large photo, are
  classified as the upright original;
- an ONNX file other than the bundle's is refused with a clear message;
- evaluate writes metrics.json whose accuracy is the pipeline's on Test,
  per-class precision/recall, confusion.csv and a PNG; the manifest gets
  "test" metrics.
"""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fruitsdata as F  # noqa: E402


def classify(bundle, photos, *extra):
    r = subprocess.run([F.FLOWRUN, "classify", "--json", "--top", str(F.CLASSES), *extra, bundle,
                        *photos], capture_output=True, text=True, timeout=900)
    return r.returncode, [json.loads(line) for line in r.stdout.splitlines()], r.stderr


def close_to_reference(answers, ref, data, tol):
    for a in answers:
        key = os.path.relpath(a["photo"], os.path.join(data, "Test"))
        label, scores = ref[key]
        ours = np.array([t["score"] for t in a["top"]])
        if a["top"][0]["label"] != label or np.abs(ours - scores).max() > tol:
            return False
    return True


def main():
    failures = []
    root, data, model, bundle = F.fixture()
    classes, ref = F.reference_probabilities(root)
    test = os.path.join(data, "Test")
    photos = sorted(os.path.join(test, k) for k in ref)
    photos = photos[:: max(1, len(photos) // 12)]
    code, answers, err = classify(bundle, photos)
    F.check(f"classify: exit 0 for {len(photos)} good photos ({err.strip()[:200]})",
            code == 0 and len(answers) == len(photos), failures)
    worst = max(np.abs(np.array([t["score"] for t in a["top"]]) -
                       ref[os.path.relpath(a["photo"], test)][1]).max() for a in answers)
    print(f"max |p_classify - p_pipeline| = {worst:.2e}")
    F.check("classify = the pipeline's logreg-predict: top-1, probabilities within 1e-5",
            close_to_reference(answers, ref, data, 1e-5), failures)
    off = [dict(a, top=[dict(t, score=t["score"] + 1e-4) for t in a["top"]]) for a in answers]
    F.check("catches probabilities off by 1e-4", not close_to_reference(off, ref, data, 1e-5),
            failures)
    swapped = [dict(a, photo=answers[(i + 1) % len(answers)]["photo"])
               for i, a in enumerate(answers)]
    F.check("catches a swapped photo", not close_to_reference(swapped, ref, data, 1e-5), failures)

    with tempfile.TemporaryDirectory() as tmp:
        good = photos[0]
        raw = open(good, "rb").read()
        bad = {"truncated.jpg": raw[: len(raw) // 2], "empty.jpg": b""}
        png = io.BytesIO()
        Image.open(good).save(png, format="PNG")
        bad["png-named.jpg"] = png.getvalue()
        for name, content in bad.items():
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(content)
        order = [good, os.path.join(tmp, "truncated.jpg"), os.path.join(tmp, "png-named.jpg"),
                 os.path.join(tmp, "empty.jpg"), os.path.join(tmp, "missing.jpg"), photos[1]]
        code, answers, _ = classify(bundle, order)
        errors = {os.path.basename(a["photo"]): a.get("error", "") for a in answers}
        print(json.dumps(errors, indent=1))
        F.check("bad files: exit 1, one answer per file", code == 1 and len(answers) == 6,
                failures)
        F.check("bad files: each error names its file",
                all(name in errors[name] for name in
                    ("truncated.jpg", "png-named.jpg", "empty.jpg", "missing.jpg")), failures)
        F.check("bad files: the good photos around them are classified",
                "top" in answers[0] and "top" in answers[5], failures)

        # Sideways with an EXIF orientation (6: turn 90 degrees clockwise to view),
        # lossless enough (quality 100) to keep the class; and a large photo.
        upright = Image.open(good).convert("RGB")
        sideways = os.path.join(tmp, "sideways.jpg")
        exif = Image.Exif()
        exif[0x0112] = 6
        upright.transpose(Image.Transpose.ROTATE_90).save(sideways, quality=100,
                                                            exif=exif.tobytes())
        large = os.path.join(tmp, "large.jpg")
        upright.resize((1600, 1200), Image.Resampling.BICUBIC).save(large, quality=95)
        code, answers, _ = classify(bundle, [good, sideways, large])
        top1 = [a["top"][0]["label"] if "top" in a else a.get("error") for a in answers]
        print("upright, sideways with EXIF, large:", top1)
        F.check("EXIF orientation applied, large photo: the same class as the original",
                code == 0 and top1[1] == top1[0] and top1[2] == top1[0], failures)

        other = os.path.join(tmp, "other.onnx")
        shutil.copy(model, other)
        with open(other, "ab") as f:
            f.write(b"\0")
        r = subprocess.run([F.FLOWRUN, "classify", "--onnx", other, bundle, good],
                           capture_output=True, text=True)
        print(r.stderr.strip())
        F.check("another ONNX file is refused, naming both",
                r.returncode == 2 and "not the one the bundle" in r.stderr and other in r.stderr,
                failures)

        out = os.path.join(tmp, "eval")
        r = subprocess.run([F.FLOWRUN, "evaluate", "--batch", "1", "--out", out, bundle,
                            os.path.join(data, "Test")], capture_output=True, text=True,
                           timeout=1200)
        F.check(f"evaluate: exit 0 ({r.stderr.strip()[:300]})", r.returncode == 0, failures)
        if r.returncode == 0:
            with open(os.path.join(out, "metrics.json")) as f:
                m = json.load(f)
            pipe = F.read_csv(os.path.join(root, "predictions.csv"))
            acc = np.mean([pipe[k][0] == F.true_label(k) for k in pipe])
            print(f"evaluate accuracy {m['accuracy']:.4f}, pipeline {acc:.4f}")
            F.check("evaluate: accuracy = the pipeline's on Test, every photo counted",
                    abs(m["accuracy"] - acc) < 1e-6 and m["photos"] == len(pipe), failures)
            recall = {c["label"]: c["recall"] for c in m["classes"]}
            F.check("evaluate: precision/recall for every class", sorted(recall) == classes,
                    failures)
            png = Image.open(os.path.join(out, "confusion.png"))
            F.check("evaluate: confusion.png is a picture", png.size[0] >= 300, failures)
            with open(os.path.join(bundle, "manifest.json")) as f:
                F.check("evaluate: the manifest has test metrics",
                        json.load(f)["metrics"]["test"]["accuracy"] == m["accuracy"], failures)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")


if __name__ == "__main__":
    main()
