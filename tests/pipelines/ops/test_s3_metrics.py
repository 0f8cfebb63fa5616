"""s3-source's S3 client counts its requests for the run's metrics: by
HTTP status (a label: s3_requests{status="503"}), retries by the status of
the attempt retried, and body bytes, checked against what a fault-injecting
proxy between flowrun and radosgw saw (tests/pipelines/s3/faultproxy.py)."""
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "pipelines", "s3"))
from s3pipe import Proxy, Run, boto, new_bucket, put_many, server_env  # noqa: E402


class S3Metrics(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-s3-metrics-")
        self.s3 = boto()
        self.bucket = new_bucket(self.s3, "metrics")
        self.objects = {"Training/Kiwi/%d.jpg" % i: os.urandom(2000 + 131 * i) for i in range(12)}
        put_many(self.s3, self.bucket, self.objects)
        self.proxy = None

    def tearDown(self):
        if self.proxy:
            self.proxy.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_requests_retries_and_bytes(self):
        keys = sorted(self.objects)
        get = "^" + re.escape("GET /%s/" % self.bucket)
        rules = [{"match": get + re.escape(keys[0]) + "$", "fault": "503", "times": 2},
                 {"match": get + re.escape(keys[5]) + "$", "fault": "503", "times": 1},
                 {"match": get + r"\?.*list-type=2", "fault": "503", "times": 1}]
        env = server_env()
        self.proxy = Proxy(env["AWS_ENDPOINT_URL"], rules)
        env["AWS_ENDPOINT_URL"] = self.proxy.endpoint
        run = Run(self.dir, "s3://%s/Training/" % self.bucket, env, suffix=".jpg",
                  attempts=4).run()
        self.assertEqual(run.proc.returncode, 0, run.proc.stderr)
        log = self.proxy.drain()
        requests = [line for line in log if line.startswith("request ")]
        faults = [line for line in log if line.startswith("fault 503")]
        self.assertEqual(len(faults), 4, log)
        metrics = run.summary["stages"]["src"]["metrics"]
        self.assertEqual({k: v for k, v in metrics.items() if k.startswith("s3_requests")},
                         {'s3_requests{status="503"}': 4,
                          's3_requests{status="200"}': len(requests) - 4})
        self.assertEqual({k: v for k, v in metrics.items() if k.startswith("s3_retries")},
                         {'s3_retries{status="503"}': 4})
        self.assertGreaterEqual(metrics["s3_bytes_in"], sum(map(len, self.objects.values())))
        self.assertEqual(run.summary["records_in"], 12)


if __name__ == "__main__":
    unittest.main()
