"""The launchers under examples/deploy carry pipelines that `flowrun
validate` accepts, and their own files hang together: the Kubernetes Job
runs one pod per pipeline node whose endpoints are the pods' DNS names
under the headless Service; the systemd unit passes systemd-analyze."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

FLOWRUN = os.environ["FLOWRUN_BIN"]
DEPLOY = os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "examples", "deploy")


class Deploy(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-deploy-")
        # validate reads the model file (the run records its hash): any file will do.
        self.model = os.path.join(self.dir, "resnet50.onnx")
        with open(self.model, "wb") as f:
            f.write(b"not read further by validate")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def validate(self, path, env=None):
        run = subprocess.run([FLOWRUN, "validate", path], capture_output=True, text=True,
                             env={**os.environ, "FRUITS_MODEL": self.model, **(env or {})})
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        return run

    def test_the_three_host_fruits_pipeline(self):
        self.validate(os.path.join(DEPLOY, "fruits-3node.yaml"))

    def test_slurm(self):
        self.validate(os.path.join(DEPLOY, "slurm", "fruits-slurm.yaml"),
                      env={"FRUITS_INPUT": self.dir})
        with open(os.path.join(DEPLOY, "slurm", "multi-prog.conf")) as f:
            self.assertIn("examples/deploy/slurm/flowrun-node.sh", f.read())
        with open(os.path.join(DEPLOY, "slurm", "flowrun-node.sh")) as f:
            self.assertIn("SLURMD_NODENAME", f.read())

    def test_kubernetes(self):
        with open(os.path.join(DEPLOY, "kubernetes", "flowrun.yaml")) as f:
            docs = {d["kind"]: d for d in yaml.safe_load_all(f)}
        path = os.path.join(self.dir, "pipeline.yaml")
        with open(path, "w") as f:
            f.write(docs["ConfigMap"]["data"]["pipeline.yaml"])
        self.validate(path)
        pipeline = yaml.safe_load(docs["ConfigMap"]["data"]["pipeline.yaml"])
        job, service = docs["Job"], docs["Service"]
        self.assertEqual(job["spec"]["completionMode"], "Indexed")
        self.assertEqual(job["spec"]["completions"], len(pipeline["nodes"]))
        self.assertEqual(service["spec"]["clusterIP"], "None")
        self.assertEqual(service["spec"]["selector"]["job-name"], job["metadata"]["name"])
        template = job["spec"]["template"]["spec"]
        self.assertEqual(template["subdomain"], service["metadata"]["name"])
        self.assertIn('--node "n$JOB_COMPLETION_INDEX"', template["containers"][0]["command"][2])
        for i in range(len(pipeline["nodes"])):
            node = pipeline["nodes"]["n%d" % i]
            self.assertEqual(node["endpoint"], "tcp://%s-%d.%s:7100"
                             % (job["metadata"]["name"], i, service["metadata"]["name"]))

    def test_systemd(self):
        with open(os.path.join(DEPLOY, "systemd", "flowrun@.service")) as f:
            unit = f.read()
        self.assertRegex(unit, r"ExecStart=/usr/bin/flowrun run --node %i /etc/flowrun/pipeline.yaml")
        self.assertIn("Restart=on-failure", unit)
        # Verified as installed, with this build's flowrun in place of /usr/bin's.
        path = os.path.join(self.dir, "flowrun@.service")
        with open(path, "w") as f:
            f.write(unit.replace("/usr/bin/flowrun", FLOWRUN))
        run = subprocess.run(["systemd-analyze", "verify", path.replace("@", "@edge")],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(re.sub(r".*Documentation.*\n?", "", run.stderr), "")


if __name__ == "__main__":
    unittest.main()
