"""Slurm launches a 3-node run: a private munged, slurmctld and three
`slurmd -N n1..n3` (one port each: Debian's slurmd is built with multiple-slurmd
support) on this machine; `srun --multi-prog` starts one flowrun node per task,
each finding its node name in SLURMD_NODENAME (examples/deploy/slurm). The
split run's CSV equals the one-process run's. The daemons are stopped after."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

FLOWRUN = os.environ["FLOWRUN_BIN"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "engine",
                                "runtime"))
from flowrun_test import free_ports  # noqa: E402
SOURCE = os.environ["FLOWRUN_SOURCE_DIR"]
BUILD = os.environ["FLOWRUN_BUILD_DIR"]
DEPLOY = os.path.join(SOURCE, "examples", "deploy", "slurm")

SLURM_CONF = """ClusterName=frtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={dir}/munge.sock
CredType=cred/munge
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool/%n
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd-%n.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmdParameters=config_overrides
{nodes}
PartitionName=test Nodes=n[1-3] Default=YES MaxTime=INFINITE State=UP
"""
NODE = "NodeName={name} NodeHostname=localhost NodeAddr=127.0.0.1 Port={port} CPUs=1 RealMemory=500"


class Slurm:
    """munged, slurmctld and three slurmd in the foreground, stopped on exit."""

    def __init__(self, dir):
        self.dir = dir
        self.conf = os.path.join(dir, "slurm.conf")
        self.procs = []

    def __enter__(self):
        d = self.dir
        for sub in ("state", "spool/n1", "spool/n2", "spool/n3"):
            os.makedirs(os.path.join(d, sub))
        key = os.path.join(d, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        nodes = "\n".join(NODE.format(name="n%d" % i, port=free_ports(1)) for i in (1, 2, 3))
        with open(self.conf, "w") as f:
            f.write(SLURM_CONF.format(ctld=free_ports(1), dir=d, nodes=nodes))
        self.env = {**os.environ, "SLURM_CONF": self.conf}
        try:
            self.start(["munged", "--foreground", "--force", "--socket=%s/munge.sock" % d,
                        "--key-file=" + key, "--pid-file=%s/munged.pid" % d,
                        "--seed-file=%s/munge.seed" % d, "--log-file=%s/munged.log" % d])
            self.start(["slurmctld", "-D", "-i", "-f", self.conf])
            for i in (1, 2, 3):
                self.start(["slurmd", "-D", "-N", "n%d" % i, "-f", self.conf])
        except BaseException:
            self.stop()
            raise
        return self

    def start(self, argv):
        self.procs.append(subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))

    def stop(self):
        # slurmctld stops every slurmd it knows; whatever is left gets SIGTERM.
        subprocess.run(["scontrol", "shutdown"], env=self.env, capture_output=True, timeout=60)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.terminate()
                p.wait(timeout=30)
        self.procs = []

    def __exit__(self, *exc):
        self.stop()


class SlurmLaunch(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-slurm-")
        subprocess.run([os.path.join(BUILD, "bin", "make-fruits"), "--count", "36",
                        "--classes", "4", os.path.join(self.dir, "fruits")], check=True,
                       capture_output=True)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def csv_rows(self, out):
        path = os.path.join(self.dir, out, "pixels.csv")
        with open(path) as f:
            header, *rows = f.read().splitlines()
        return header, sorted(rows)

    def test_srun_multi_prog_runs_the_three_nodes(self):
        pipeline = os.path.join(DEPLOY, "fruits-slurm.yaml")
        env = {**os.environ, "FRUITS_INPUT": os.path.join(self.dir, "fruits"),
               "FLOWRUN": FLOWRUN, "PIPELINE": pipeline}
        one = subprocess.run([FLOWRUN, "-q", "run", pipeline], capture_output=True, text=True,
                             env={**env, "FRUITS_OUTPUT": os.path.join(self.dir, "one")})
        self.assertEqual(one.returncode, 0, one.stderr)
        env["FRUITS_OUTPUT"] = os.path.join(self.dir, "split")
        for i in (1, 2, 3):
            env["N%d_HOST" % i] = "127.0.0.1"
            env["N%d_PORT" % i] = str(free_ports(3))
        with Slurm(self.dir) as slurm:
            config = subprocess.run(["scontrol", "show", "config"], env=slurm.env,
                                    capture_output=True, text=True, timeout=60).stdout
            self.assertRegex(config, r"MULTIPLE_SLURMD\s*=\s*Yes")
            run = subprocess.run(["srun", "--nodes=3", "--ntasks=3", "--ntasks-per-node=1",
                                  "--kill-on-bad-exit=0", "--multi-prog",
                                  os.path.join(DEPLOY, "multi-prog.conf")],
                                 cwd=SOURCE, env={**env, "SLURM_CONF": slurm.conf},
                                 capture_output=True, text=True, timeout=240)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        split = self.csv_rows("split")
        self.assertEqual(split, self.csv_rows("one"))
        self.assertEqual(len(split[1]), 36)


if __name__ == "__main__":
    unittest.main()
