#!/usr/bin/python3
"""s3-source -> capture-sink through the flowrun binary, with faultproxy.py
between flowrun and radosgw injecting 503 SlowDown, connection resets,
timeouts, stalls and short bodies on chosen requests:

- transient faults are retried (the proxy sees the request again after each
  fault) and every object arrives exactly once with the payload boto3 reads
  from the bucket;
- faults that outlast the retry bound end as dead letters naming the reason,
  after exactly `attempts` tries; a short body never arrives as data.
"""
import os
import re
import shutil
import tempfile
import unittest
import urllib.parse

from s3pipe import Proxy, Run, boto, bucket_content, new_bucket, put_many, server_env

FRUITS = ["Apple Braeburn", "Banana", "Cactus fruit", "Pêche+&%"]


def target(bucket, key):
    """The request target curl sends for a GET of key (path-style)."""
    return f"/{bucket}/" + urllib.parse.quote(key, safe="/-_.~")


def get_rule(bucket, key, fault, times=1):
    return {"match": "^" + re.escape(f"GET {target(bucket, key)}") + "$", "fault": fault,
            "times": times}


class S3Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = boto()
        cls.bucket = new_bucket(cls.s3, "faults")
        objects = {}
        for i in range(40):
            key = f"Training/{FRUITS[i % 4]}/{i} r.jpg"
            objects[key] = os.urandom(1000 + 97 * i)
        put_many(cls.s3, cls.bucket, objects)
        cls.keys = sorted(objects)
        cls.expected = bucket_content(cls.s3, cls.bucket, "Training/")
        assert len(cls.expected) == 40

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-s3-faults-")
        self.proxy = None

    def tearDown(self):
        if self.proxy:
            self.proxy.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_through_proxy(self, rules):
        env = server_env()
        self.proxy = Proxy(env["AWS_ENDPOINT_URL"], rules)
        env["AWS_ENDPOINT_URL"] = self.proxy.endpoint
        run = Run(self.dir, f"s3://{self.bucket}/Training/", env, suffix=".jpg", attempts=4,
                  timeout="1s", concurrency=8).run()
        return run, self.proxy.drain()

    def test_transient_faults_retried_every_object_once(self):
        k = self.keys
        list_rule = "^" + re.escape(f"GET /{self.bucket}/?") + ".*list-type=2"
        rules = [
            {"match": list_rule, "fault": "503", "times": 1},
            {"match": list_rule, "fault": "reset", "times": 1},
            {"match": list_rule, "fault": "truncate", "times": 1},
            get_rule(self.bucket, k[0], "503", 2),
            get_rule(self.bucket, k[1], "reset"),
            get_rule(self.bucket, k[2], "timeout"),
            get_rule(self.bucket, k[3], "short"),
            get_rule(self.bucket, k[4], "truncate"),
            get_rule(self.bucket, k[5], "stall"),
            get_rule(self.bucket, k[6], "reset"),
            get_rule(self.bucket, k[6], "503"),
        ]
        run, log = self.run_through_proxy(rules)
        self.assertEqual(run.proc.returncode, 0, run.proc.stderr)

        # Every planned fault happened, and each faulted request came again.
        faults = [line.split(" ", 2) for line in log if line.startswith("fault ")]
        self.assertEqual(sorted(f[1] for f in faults),
                         sorted(r["fault"] for r in rules for _ in range(r["times"])), log)
        requests = [line.split(" ", 2)[2] for line in log if line.startswith("request GET ")]
        for key, n_faults in [(k[0], 2), (k[1], 1), (k[2], 1), (k[3], 1), (k[4], 1), (k[5], 1),
                              (k[6], 2), (k[7], 0)]:
            self.assertEqual(requests.count(target(self.bucket, key)), n_faults + 1, key)
        self.assertEqual(sum("list-type=2" in r for r in requests), 4)

        # Exactly once, byte for byte what boto3 reads from the bucket.
        records = run.records()
        got = [r["key"] for r in records]
        self.assertEqual(len(got), len(set(got)), "a key was delivered twice")
        self.assertEqual({r["key"]: (r["fnv"], r["label"]) for r in records}, self.expected)
        self.assertEqual(run.dead_letters(), [])
        self.assertEqual(run.summary["records_done"], 40)
        self.assertEqual(run.summary["dead_letters"], 0)

    def test_faults_past_the_retry_bound_are_dead_letters(self):
        k = self.keys
        doomed = {k[10]: ("503", "SlowDown"), k[11]: ("truncate", "short body"),
                  k[12]: ("short", "Transferred a partial file"), k[13]: ("reset", "")}
        rules = [get_rule(self.bucket, key, fault, 99) for key, (fault, _) in doomed.items()]
        run, log = self.run_through_proxy(rules)
        self.assertEqual(run.proc.returncode, 1, run.proc.stderr)

        requests = [line.split(" ", 2)[2] for line in log if line.startswith("request GET ")]
        for key, (fault, _) in doomed.items():  # bounded: `attempts` tries, then give up
            n = requests.count(target(self.bucket, key))
            if fault == "reset":  # on a reused connection curl itself tries again, up to 5 times
                self.assertTrue(4 <= n <= 24, f"{key}: {n} requests")
            else:
                self.assertEqual(n, 4, key)

        dead = {d["key"]: d for d in run.dead_letters()}
        self.assertEqual(set(dead), set(doomed))
        for key, (_, why) in doomed.items():
            reason = dead[key]["reason"]
            self.assertIn(f"s3://{self.bucket}/{key}", reason)
            self.assertIn(why, reason)
            self.assertIn("after 4 attempts", reason)
            self.assertEqual(dead[key]["stage"], "src")

        # A short body is never passed on: what arrived is exactly the rest.
        records = run.records()
        self.assertEqual({r["key"]: (r["fnv"], r["label"]) for r in records},
                         {key: v for key, v in self.expected.items() if key not in doomed})
        self.assertEqual(run.summary["dead_letters"], 4)
        self.assertEqual(run.summary["records_done"], 40)  # dead letters count as done


if __name__ == "__main__":
    unittest.main(verbosity=2)
