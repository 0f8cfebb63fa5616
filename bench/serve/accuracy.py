#!/usr/bin/python3
"""bench/serve/accuracy.py — the classifier's Test accuracy with the network
in each precision, trained on the same photos:

    bench/serve/accuracy.py BUILD [--count 1200] [--classes 10] [--seed 11]
                            [--precisions fp32,auto,int8] [--threads 2]

Generates photos (tools/make-fruits: 3/4 Training, 1/4 Test) and a seeded
ResNet50 (make-resnet50), trains one bundle per precision with `flowrun
train pipelines/fruits-train.yaml` (FRUITS_PRECISION) on the same Training
photos, and runs `flowrun evaluate` on the Test photos with each.  Prints
each accuracy and its difference from fp32's (target: within 0.5 point), the
number of Test photos (one photo is 100/n points).  Accuracy, not speed: the machine's load does not
change the figures.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def run(cmd, env):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode not in (0, 1):  # 1: some photos dead-lettered, still a bundle
        sys.exit(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--count", type=int, default=1200)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--precisions", default="fp32,auto,int8")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    build = os.path.abspath(a.build)
    flowrun = os.path.join(build, "bin", "flowrun")
    env = dict(os.environ, FLOWRUN_PLUGIN_PATH=os.path.join(build, "lib/flowrun/plugins"),
               OMP_NUM_THREADS=str(a.threads))
    tmp = tempfile.mkdtemp(prefix="bench-accuracy-")
    try:
        data, model = os.path.join(tmp, "data"), os.path.join(tmp, "m.onnx")
        run([os.path.join(build, "bin/make-fruits"), "--count", str(a.count), "--classes",
             str(a.classes), "--seed", str(a.seed), data], env)
        run([os.path.join(build, "bin/make-resnet50"), "--variant", "keras", "--seed", "3",
             model], env)
        res = {}
        for prec in a.precisions.split(","):
            bundle = os.path.join(tmp, "bundle-" + prec)
            run([flowrun, "-q", "train", os.path.join(SOURCE, "pipelines/fruits-train.yaml")],
                dict(env, FRUITS_INPUT=os.path.join(data, "Training"), FRUITS_MODEL=model,
                     FRUITS_BUNDLE=bundle, FRUITS_PRECISION=prec))
            run([flowrun, "evaluate", "--threads", str(a.threads), bundle,
                 os.path.join(data, "Test")], env)
            with open(os.path.join(bundle, "evaluation", "metrics.json")) as f:
                m = json.load(f)
            res[prec] = (m["accuracy"], m["photos"])
            print(f"{prec:5} accuracy {m['accuracy']:.4f} ({round(m['accuracy'] * m['photos'])}"
                  f"/{m['photos']} Test photos)", flush=True)
        base = res.get("fp32")
        for prec, (acc, n) in res.items():
            if base and prec != "fp32":
                d = (acc - base[0]) * 100
                print(f"{prec} - fp32: {d:+.2f} points (target: within 0.5; one photo is "
                      f"{100 / n:.2f} points): {'met' if abs(d) <= 0.5 else 'NOT met'}")
        print(json.dumps({k: {"accuracy": v[0], "photos": v[1]} for k, v in res.items()}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
