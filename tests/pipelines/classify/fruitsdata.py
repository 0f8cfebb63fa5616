"""Shared by the classify/serve tests: generated fruit photos, a seeded
ResNet50, and the training pipeline run on them (the bundle)."""
import csv
import os
import subprocess
import sys

import numpy as np

SOURCE = os.environ["FLOWRUN_SOURCE_DIR"]
BUILD = os.environ["FLOWRUN_BUILD_DIR"]
FLOWRUN = os.environ["FLOWRUN_BIN"]
SANITIZE = os.environ.get("FLOWRUN_SANITIZE", "0") in ("1", "ON", "TRUE", "true")
CLASSES = 6
# 3/4 of the images (per class, rounded up) are in Training/, the rest in Test/.
COUNT = 160 if SANITIZE else 480
COMPONENTS = 48


def run(cmd, env=None, timeout=1200):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                       timeout=timeout)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} {cmd[1] if len(cmd) > 1 else ''} exited {r.returncode}:\n"
                 f"{r.stdout}{r.stderr}")
    return r


def make_data(tmp):
    """(data dir with Training/ and Test/, ONNX model path)."""
    data = os.path.join(tmp, "data")
    run([os.path.join(BUILD, "bin", "make-fruits"), "--count", COUNT, "--classes", CLASSES,
         "--seed", 11, data])
    model = os.path.join(tmp, "resnet50-keras.onnx")
    run([os.path.join(BUILD, "bin", "make-resnet50"), "--variant", "keras", "--seed", 3, model])
    return data, model


def env_for(data, model, bundle, split="Training", **extra):
    env = dict(os.environ)
    env.update(FRUITS_INPUT=os.path.join(data, split), FRUITS_MODEL=model, FRUITS_BUNDLE=bundle,
               FRUITS_COMPONENTS=str(COMPONENTS))
    env.update({k: str(v) for k, v in extra.items()})
    return env


APPLY_YAML = """
name: {name}
dead_letters: {out}/dead.jsonl
stages:
  images: {{plugin: s3-source, url: "{data}/Test", suffix: .jpg}}
  decode: {{plugin: jpeg-decode, inputs: images, dct: islow}}
  resize: {{plugin: resize-224, inputs: decode, filter: bicubic}}
  embed: {{plugin: resnet50-embed, inputs: resize, model: "{model}", preprocess: keras,
          {embed}}}
  scale: {{plugin: online-scaler, inputs: embed, flavor: spark, fit: none,
          model: "{bundle}/scaler.stats"}}
  pca: {{plugin: incremental-pca, inputs: scale, flavor: spark, fit: none,
        components: {k}, model: "{bundle}/pca.stats"}}
"""


def write_apply_pipeline(path, name, out, data, model, bundle, embed, tail):
    """Writes to path a pipeline that runs the Test split through what the
    training pipeline saved in bundle (scaler and PCA with fit: none) up to
    its stage `pca`; embed: the network's further keys (YAML flow mapping
    entries), tail: the stages after `pca` (YAML, formatted with out, bundle
    and classes)."""
    with open(path, "w") as f:
        f.write(APPLY_YAML.format(name=name, out=out, data=data, model=model, bundle=bundle,
                                  embed=embed, k=COMPONENTS))
        f.write(tail.format(out=out, bundle=bundle, classes=CLASSES))


def read_csv(path):
    """{key: (label, float32 row)}"""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {r[0]: (r[1], np.array(r[2:], dtype=np.float32)) for r in rows[1:]}


def true_label(key):
    return key.split("/")[-2]


def check(what, ok, failures):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def fixture():
    """(root, data, model, bundle) of the classify_bundle fixture."""
    root = os.path.join(BUILD, "tests", "classify-fixture")
    return root, os.path.join(root, "data"), os.path.join(root, "resnet50-keras.onnx"), \
        os.path.join(root, "bundle")


def read_probabilities(path):
    """{key: (top-1 label, scores)} from a CSV of logreg-predict (top = all
    classes, most probable first).  CSV columns: key, top-1 label, the scores
    in decreasing order; the other labels' order is not kept, so only top-1
    and the sorted scores are compared."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {r[0]: (r[1], np.array(r[2:], dtype=np.float64)) for r in rows[1:]}


def reference_probabilities(root):
    """(classes, read_probabilities of the fixture's pipeline): class names
    from the bundle."""
    import json
    with open(os.path.join(root, "bundle", "classifier.json")) as f:
        classes = json.load(f)["classes"]
    return classes, read_probabilities(os.path.join(root, "probabilities.csv"))
