"""What the fruits.yaml benchmarks share: the generated images and model they
run on, the load average they print, and running a set-up command.

    sys.path.insert(0, os.path.join(ROOT, "bench", "common"))
    import fruits_data

The images are make-fruits JPEGs (40 classes; about 3/4 of --count lands in
Training/, the folder fruits.yaml reads), the model a seeded Keras ResNet50
from make-resnet50: both are made once per work folder and kept there, so a
benchmark re-run with the same --work measures the same data.
"""
import os
import subprocess
import sys
import tempfile


def sh(cmd, env=None):
    """Runs a set-up command; exits with its output when it fails."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def load():
    """The load average (1, 5, 15 minutes) as three strings."""
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def work_dir(path, name):
    """The work folder: path (--work) made absolute and created, or a new
    temporary folder flowrun-bench-NAME-*."""
    work = os.path.abspath(path or tempfile.mkdtemp(prefix=f"flowrun-bench-{name}-"))
    os.makedirs(work, exist_ok=True)
    return work


def flowrun_env(build):
    """The environment BUILD's flowrun runs in: its plugins, oneDNN on two
    threads (the machines' core count), no failpoint of the caller's."""
    env = dict(os.environ, OMP_NUM_THREADS="2",
               FLOWRUN_PLUGIN_PATH=os.path.join(build, "lib", "flowrun", "plugins"))
    env.pop("FLOWRUN_FAILPOINT", None)
    return env


def images(build, work, count):
    """The Training/ folder of about `count` make-fruits images under `work`
    (made by BUILD/bin/make-fruits unless already there)."""
    data = os.path.join(work, f"fruits-{count}")
    if not os.path.isdir(os.path.join(data, "Training")):
        sh([os.path.join(build, "bin", "make-fruits"), "--count", count * 4 // 3 + 1,
            "--classes", 40, data])
    return os.path.join(data, "Training")


def keras_model(build, work):
    """The path of a seeded Keras ResNet50 as ONNX under `work` (made by
    BUILD/bin/make-resnet50 unless already there)."""
    model = os.path.join(work, "resnet50-keras.onnx")
    if not os.path.exists(model):
        sh([os.path.join(build, "bin", "make-resnet50"), "--variant", "keras", model])
    return model
