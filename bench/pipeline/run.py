#!/usr/bin/python3
"""bench/pipeline — pipelines/fruits.yaml as a whole, all in one run:

    /usr/bin/python3 bench/pipeline/run.py BUILD [--images 300] [--rounds 2]
                     [--rss 1000,10000] [--rss-precision fp32] [--work DIR]

BUILD is a (Release or default) build tree: BUILD/bin/flowrun, make-fruits,
make-resnet50, BUILD/lib/flowrun/plugins.  It generates make-fruits images
and a seeded Keras ResNet50 (make-resnet50), starts the local radosgw
(tools/s3-server/start) and uploads --images images with boto3, then
measures, interleaving the peers round by round and keeping each one's best:

 (a) fruits.yaml unchanged, from S3 (radosgw), fp32 and bf16: images / wall
     seconds of the summary; against the embed stage alone on the same
     images: dir-source -> jpeg-decode -> resize-224 -> resnet50-embed ->
     null-sink, images / the embed stage's busy seconds.  Target >= 90 %.
 (b) the prototype's way (peer.py: Pillow, torchvision ResNet50 at PyTorch's
     best setting -- inference_mode, channels_last, 2 threads,
     GLIBC_TUNABLES=glibc.malloc.hugetlb=1, eager or frozen and the batch
     chosen by timing -- and scikit-learn) on the same images from a local
     directory (no S3: the peer's advantage).  torchvision's v1.5 is 4.09
     GMAC per image, Keras' v1 (flowrun's model here) 3.86: the table also
     gives the ratio with the peer's time scaled by 3.86/4.09.  bf16: peer
     under torch.autocast(bfloat16).  Target >= 2x in fp32.
 (c) peak RSS (wait4's ru_maxrss of the flowrun process) of fruits.yaml on
     local directories (s3-source with a plain path: S3 is kept out of the
     RSS question) of --rss image counts.  Target ratio <= 1.1.
 (d) the wall time for Fruits-360's 90,483 images extrapolated from (a),
     beside the prototype's 0.4-0.9 images/s on an EC2 t2.large.

The machine is shared: the load average is printed before and after; the
ratios of one run are what count, not the absolute numbers.  A JSON copy of
the results goes to WORK/results.json.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FRUITS_360 = 90483
GMAC_KERAS, GMAC_TORCHVISION = 3.86, 4.09


def sh(cmd, env=None, capture=True):
    r = subprocess.run([str(c) for c in cmd], env=env, capture_output=capture, text=True)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def timed(cmd, env, flowing=None):
    """(stdout, peak RSS in MiB, CPU seconds) of one child, from wait4.  flowing: a list
    that gets the seconds from the start until flowrun -v's "data flowing"
    line (the end of the start-up: plugins loaded, model compiled)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen([str(c) for c in cmd], env=env, stdout=out,
                             stderr=subprocess.PIPE if flowing is not None else err, text=True)
        if flowing is not None:
            for line in p.stderr:
                if "data flowing" in line and not flowing:
                    flowing.append(time.perf_counter() - t0)
                err.write(line)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode not in (0,):
            sys.exit(f"{cmd[0]} exited {p.returncode}:\n{err.read()[-3000:]}")
        return out.read(), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def subset(src, dst, n):
    """dst/CLASS/FILE hard links to the first n images of src (sorted)."""
    files = sorted(os.path.relpath(os.path.join(d, f), src)
                   for d, _, fs in os.walk(src) for f in fs if f.endswith(".jpg"))
    if len(files) < n:
        sys.exit(f"{src}: {len(files)} images, need {n}")
    for rel in files[:n]:
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        os.link(os.path.join(src, rel), os.path.join(dst, rel))
    return dst


class Bench:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.work = a.work or tempfile.mkdtemp(prefix="flowrun-bench-pipeline-")
        os.makedirs(self.work, exist_ok=True)
        self.flowrun = os.path.join(self.build, "bin", "flowrun")
        self.env = dict(os.environ, FLOWRUN_PLUGIN_PATH=os.path.join(
            self.build, "lib", "flowrun", "test-plugins"), OMP_NUM_THREADS="2")
        self.runs = 0

    def data(self):
        need = max([self.a.images] + self.a.rss)
        data = os.path.join(self.work, f"fruits-{need}")
        if not os.path.isdir(os.path.join(data, "Training")):
            # about 3/4 of --count lands in Training/
            sh([os.path.join(self.build, "bin", "make-fruits"), "--count", need * 4 // 3 + 200,
                "--classes", 40, data])
        self.model = os.path.join(self.work, "resnet50-keras.onnx")
        if not os.path.exists(self.model):
            sh([os.path.join(self.build, "bin", "make-resnet50"), "--variant", "keras",
                self.model])
        self.sets = {}
        for n in sorted(set([self.a.images] + self.a.rss)):
            d = os.path.join(self.work, f"set-{n}")
            shutil.rmtree(d, ignore_errors=True)
            self.sets[n] = subset(os.path.join(data, "Training"), d, n)

    def s3(self):
        self.s3dir = os.path.join(self.work, "s3")
        self.endpoint = sh([os.path.join(ROOT, "tools/s3-server/start"), self.s3dir]).strip()
        with open(os.path.join(self.s3dir, "env")) as f:
            self.s3env = dict(line.strip().split("=", 1) for line in f if "=" in line)
        s3 = boto3.client("s3", endpoint_url=self.endpoint,
                          aws_access_key_id=self.s3env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=self.s3env["AWS_SECRET_ACCESS_KEY"],
                          region_name=self.s3env.get("AWS_REGION", "us-east-1"),
                          config=Config(s3={"addressing_style": "path"},
                                        max_pool_connections=16))
        self.bucket = f"bench-{os.getpid()}"
        s3.create_bucket(Bucket=self.bucket)
        src = self.sets[self.a.images]
        files = [os.path.relpath(os.path.join(d, f), src)
                 for d, _, fs in os.walk(src) for f in fs]

        def put(rel):
            with open(os.path.join(src, rel), "rb") as f:
                s3.put_object(Bucket=self.bucket, Key="Training/" + rel, Body=f.read())
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(put, files))

    def stop_s3(self):
        subprocess.run([os.path.join(ROOT, "tools/s3-server/stop"), self.s3dir],
                       capture_output=True)

    def fruits(self, inp, precision, endpoint=""):
        """fruits.yaml unchanged: (summary, peak RSS MiB)."""
        self.runs += 1
        out = os.path.join(self.work, f"out-{self.runs}")
        os.makedirs(out)
        env = dict(self.env, FRUITS_INPUT=inp, FRUITS_MODEL=self.model, FRUITS_OUTPUT=out,
                   FRUITS_DEAD_LETTERS=os.path.join(out, "dead-letters.jsonl"),
                   FRUITS_PRECISION=precision, FRUITS_S3_ENDPOINT=endpoint)
        if endpoint:
            env.update(self.s3env)
        summary = os.path.join(out, "summary.json")
        flowing = []
        _, rss, cpu = timed([self.flowrun, "-v", os.path.join(ROOT, "pipelines/fruits.yaml"),
                        "--summary", summary], env, flowing)
        with open(summary) as f:
            s = json.load(f)
        s["startup_seconds"] = flowing[0] if flowing else float("nan")
        s["cpu_seconds"] = cpu
        shutil.rmtree(out)
        return s, rss

    def embed_alone(self, precision):
        self.runs += 1
        d = os.path.join(self.work, f"embed-{self.runs}")
        os.makedirs(d)
        y = os.path.join(d, "embed.yaml")
        with open(y, "w") as f:
            f.write(f"""name: embed-alone
stages:
  images: {{plugin: dir-source, path: "{self.sets[self.a.images]}", suffix: .jpg}}
  decode: {{plugin: jpeg-decode, inputs: images, dct: islow}}
  resize: {{plugin: resize-224, inputs: decode, filter: bicubic}}
  embed: {{plugin: resnet50-embed, inputs: resize, model: "{self.model}", preprocess: keras, precision: {precision}}}
  sink: {{plugin: null-sink, inputs: embed}}
""")
        summary = os.path.join(d, "summary.json")
        timed([self.flowrun, y, "--summary", summary], self.env)
        with open(summary) as f:
            s = json.load(f)
        shutil.rmtree(d)
        e = s["stages"]["embed"]
        return e["records_in"] / e["busy_seconds"]

    def peer(self, precision, setting=None):
        out = os.path.join(self.work, "peer.csv")
        cmd = ["/usr/bin/python3", os.path.join(HERE, "peer.py"), self.sets[self.a.images], out,
               "--threads", 2, "--precision", precision]
        cmd += ["--tune"] if setting is None else ["--kind", setting[0], "--batch", setting[1]]
        env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=1", OMP_NUM_THREADS="2")
        stdout, _, _ = timed(cmd, env)
        r = json.loads(stdout.strip().splitlines()[-1])
        os.remove(out)
        return r["images"] / r["seconds"], (r["kind"], r["batch"]), r["images"] / r["cpu_seconds"]

    def run(self):
        a = self.a
        load0 = os.getloadavg()
        print(f"load average before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f} "
              f"on {os.cpu_count()} CPUs; work dir {self.work}", flush=True)
        self.data()
        self.s3()
        best = {}

        def keep(name, v):
            best[name] = max(best.get(name, 0.0), v)
            print(f"  {name:28s} {v:8.2f}", flush=True)

        setting = {}
        rounds = []
        try:
            for r in range(a.rounds):
                print(f"round {r + 1}/{a.rounds} ({a.images} images)", flush=True)
                rounds.append({})
                for prec in ("fp32", "bf16"):
                    s, _ = self.fruits(f"s3://{self.bucket}/Training/", prec, self.endpoint)
                    if s["records_done"] != a.images or s["dead_letters"]:
                        sys.exit(f"fruits.yaml: {s['records_done']} done, "
                                 f"{s['dead_letters']} dead letters")
                    whole = a.images / s["wall_seconds"]
                    keep(f"fruits.yaml {prec} img/s", whole)
                    best.setdefault(f"start-up s {prec}", []).append(s["startup_seconds"])
                    emb = s["stages"]["embed"]
                    keep(f"embed in fruits.yaml {prec} img/s",
                         emb["records_in"] / emb["busy_seconds"])
                    for st, v in s["stages"].items():
                        if st != "embed":
                            best.setdefault(f"busy s {prec} {st}", []).append(v["busy_seconds"])
                    alone = self.embed_alone(prec)
                    keep(f"embed alone {prec} img/s", alone)
                    v, setting[prec], vcpu = self.peer(prec, setting.get(prec))
                    keep(f"python peer {prec} img/s", v)
                    wcpu = a.images / s["cpu_seconds"]
                    keep(f"fruits.yaml {prec} img/CPU-s", wcpu)
                    keep(f"python peer {prec} img/CPU-s", vcpu)
                    rounds[-1][prec] = (whole / alone, whole / v, wcpu / vcpu)
        finally:
            self.stop_s3()
        rss = {}
        for n in a.rss:
            s, rss[n] = self.fruits(self.sets[n], a.rss_precision)
            print(f"  fruits.yaml {a.rss_precision} on {n} local images: peak RSS "
                  f"{rss[n]:.0f} MiB, {n / s['wall_seconds']:.2f} img/s", flush=True)
        load1 = os.getloadavg()
        self.report(best, setting, rss, load0, load1, rounds)

    def report(self, best, setting, rss, load0, load1, rounds):
        a = self.a
        lines = ["", f"bench/pipeline: {a.images} make-fruits images (40 classes), seeded Keras "
                 f"ResNet50, best of {a.rounds} interleaved rounds",
                 f"load average before {load0[0]:.1f}, after {load1[0]:.1f} on "
                 f"{os.cpu_count()} CPUs (shared machine: compare ratios, not absolute numbers)",
                 "", "| measure | fp32 | bf16 | target |", "|---|---|---|---|"]
        f = {p: best[f"fruits.yaml {p} img/s"] for p in ("fp32", "bf16")}
        e = {p: best[f"embed alone {p} img/s"] for p in ("fp32", "bf16")}
        py = {p: best[f"python peer {p} img/s"] for p in ("fp32", "bf16")}
        row = lines.append
        row(f"| (a) fruits.yaml from S3, img/s | {f['fp32']:.2f} | {f['bf16']:.2f} | |")
        row(f"| (a) embed stage alone, img/s | {e['fp32']:.2f} | {e['bf16']:.2f} | |")
        row(f"| (a) whole / embed alone | {f['fp32'] / e['fp32']:.0%} | "
            f"{f['bf16'] / e['bf16']:.0%} | >= 90 % |")
        per = {p: ([r[p][0] for r in rounds], [r[p][1] for r in rounds]) for p in ("fp32", "bf16")}
        row("| (a) whole / embed alone, per round (adjacent runs) | " + " | ".join(
            ", ".join(f"{x:.0%}" for x in per[p][0]) for p in ("fp32", "bf16")) + " | |")
        row("| (a) fruits.yaml start-up until data flows, s, per round | " + " | ".join(
            ", ".join(f"{x:.1f}" for x in best[f"start-up s {p}"]) for p in ("fp32", "bf16"))
            + " | |")
        ein = {p: best[f"embed in fruits.yaml {p} img/s"] for p in ("fp32", "bf16")}
        row(f"| (a) embed's own speed inside fruits.yaml, img/s | {ein['fp32']:.2f} | "
            f"{ein['bf16']:.2f} | |")
        for p in ("fp32", "bf16"):
            busy = {k.split()[-1]: min(v) for k, v in best.items()
                    if k.startswith(f"busy s {p} ")}
            row(f"| (a) other stages' busy s, {p} (min over rounds) | " + ", ".join(
                f"{k} {v:.2f}" for k, v in busy.items()) + " | | |")
        row(f"| (b) Python peer (PIL + torch {setting['fp32'][0]} batch {setting['fp32'][1]} / "
            f"{setting['bf16'][0]} batch {setting['bf16'][1]} + sklearn), img/s | "
            f"{py['fp32']:.2f} | {py['bf16']:.2f} | |")
        row(f"| (b) flowrun / Python peer | {f['fp32'] / py['fp32']:.2f}x | "
            f"{f['bf16'] / py['bf16']:.2f}x | >= 2x fp32 |")
        adj = GMAC_KERAS / GMAC_TORCHVISION
        row("| (b) flowrun / Python peer, per round (adjacent runs) | " + " | ".join(
            ", ".join(f"{x:.2f}x" for x in per[p][1]) for p in ("fp32", "bf16")) + " | |")
        row("| (b) the same in images per CPU-second (flowrun: whole process; peer: its "
            "measured part), per round | " + " | ".join(
                ", ".join(f"{r[p][2]:.2f}x" for r in rounds) for p in ("fp32", "bf16")) + " | |")
        row(f"| (b) images per CPU-second, best: flowrun / peer | "
            f"{best['fruits.yaml fp32 img/CPU-s']:.2f} / {best['python peer fp32 img/CPU-s']:.2f} | "
            f"{best['fruits.yaml bf16 img/CPU-s']:.2f} / {best['python peer bf16 img/CPU-s']:.2f} | |")
        row(f"| (b) same, peer scaled to Keras' {GMAC_KERAS} GMAC | "
            f"{f['fp32'] / py['fp32'] * adj:.2f}x | {f['bf16'] / py['bf16'] * adj:.2f}x | |")
        row(f"| (b) flowrun bf16 / Python peer fp32 | | {f['bf16'] / py['fp32']:.2f}x | |")
        if len(rss) >= 2:
            n0, n1 = sorted(rss)[0], sorted(rss)[-1]
            row(f"| (c) peak RSS {n0:,} / {n1:,} local images ({a.rss_precision}), MiB | "
                f"{rss[n0]:.0f} / {rss[n1]:.0f} = {rss[n1] / rss[n0]:.3f} | | <= 1.1 |")
        row(f"| (d) {FRUITS_360:,} images, extrapolated wall time | "
            f"{FRUITS_360 / f['fp32'] / 3600:.2f} h | {FRUITS_360 / f['bf16'] / 3600:.2f} h | |")
        row(f"| (d) prototype, EC2 t2.large at 0.4-0.9 img/s | "
            f"{FRUITS_360 / 0.9 / 3600:.0f}-{FRUITS_360 / 0.4 / 3600:.0f} h | | |")
        text = "\n".join(lines)
        print(text)
        with open(os.path.join(self.work, "results.json"), "w") as out:
            json.dump({"best": best, "per_round": rounds, "peer_setting": setting, "rss_mib": rss,
                       "load": [load0, load1], "images": a.images, "rounds": a.rounds}, out,
                      indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("build")
    p.add_argument("--images", type=int, default=300)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--rss", default="1000,10000",
                   help="image counts for the peak RSS comparison ('' to skip)")
    p.add_argument("--rss-precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--work", help="work directory (default: a new one under /tmp, kept)")
    a = p.parse_args()
    a.rss = [int(x) for x in a.rss.split(",") if x]
    Bench(a).run()


if __name__ == "__main__":
    main()
