#!/usr/bin/python3
"""s3-source -> capture-sink through the flowrun binary against radosgw
(which verifies SigV4 signatures), cross-checked with boto3:

- more than 1,000 objects (ListObjectsV2 pagination) whose keys hold spaces,
  Unicode and URL/XML specials arrive exactly once, byte for byte, labelled
  with their parent folder;
- a wrong secret fails the run with a 403 that names the bucket, prefix,
  region and credential source, a non-zero exit code, and nothing written;
- an object deleted between the listing and its GET (the fault proxy holds
  the GET until the test has deleted it) becomes a dead letter with the
  reason, the run goes on and exits 1.
"""
import os
import re
import shutil
import tempfile
import unittest
import urllib.parse

from s3pipe import Proxy, Run, boto, bucket_content, new_bucket, put_many, server_env

SPECIAL = ["Apple Braeburn", "Pêche+&%", "水果 = fruit", "a;b,c@d!e$f'g(h)i*j~k",
           "<tag> & 'quoted'", "#hash?query"]
# No '"' or '\\' in keys: capture-sink writes keys into JSON unescaped.


class S3Radosgw(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = boto()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-s3-pipeline-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_over_1000_special_keys_exactly_once(self):
        bucket = new_bucket(self.s3, "many")
        objects = {}
        for i in range(1100):
            key = f"Training/{SPECIAL[i % len(SPECIAL)]}/{i} ü+%20&.jpg"
            objects[key] = os.urandom(40 + i % 200)
        objects["Training/readme.txt"] = b"not an image"
        objects["Other/Banana/1.jpg"] = b"outside the prefix"
        put_many(self.s3, bucket, objects)
        expected = {k: v for k, v in bucket_content(self.s3, bucket, "Training/").items()
                    if k.endswith(".jpg")}
        self.assertEqual(len(expected), 1100)

        run = Run(self.dir, f"s3://{bucket}/Training/", server_env(), suffix=".jpg",
                  concurrency=16).run()
        self.assertEqual(run.proc.returncode, 0, run.proc.stderr)
        records = run.records()
        keys = [r["key"] for r in records]
        self.assertEqual(len(keys), len(set(keys)), "a key was delivered twice")
        self.assertEqual({r["key"]: (r["fnv"], r["label"]) for r in records}, expected)
        self.assertEqual({r["label"] for r in records}, set(SPECIAL))
        self.assertEqual(run.summary["records_done"], 1100)
        self.assertEqual(run.dead_letters(), [])

    def test_wrong_secret_is_a_clear_403_and_writes_nothing(self):
        bucket = new_bucket(self.s3, "denied")
        put_many(self.s3, bucket, {f"Training/Banana/{i}.jpg": b"x" * 10 for i in range(3)})
        env = server_env()
        env["AWS_SECRET_ACCESS_KEY"] = "not/the+right/secret"
        run = Run(self.dir, f"s3://{bucket}/Training/", env, suffix=".jpg",
                  region="eu-west-3").run()
        self.assertEqual(run.proc.returncode, 3, run.proc.stderr)
        err = run.proc.stderr
        self.assertRegex(err, re.escape(f"s3://{bucket}/Training/") + ".*HTTP 403")
        self.assertIn("SignatureDoesNotMatch", err)
        self.assertIn("the secret key does not match the access key", err)
        self.assertIn("region eu-west-3", err)
        self.assertIn("credentials from environment", err)
        self.assertNotIn("not/the+right/secret", err)  # never the secret
        self.assertFalse(os.path.exists(run.out), "output written on a failed run")
        self.assertEqual(run.dead_letters(), [])
        # Nothing was written to the bucket either: it holds what the test put.
        self.assertEqual(len(bucket_content(self.s3, bucket)), 3)

    def test_object_deleted_between_list_and_get_is_a_dead_letter(self):
        bucket = new_bucket(self.s3, "deleted")
        objects = {f"Training/Banana/{i}.jpg": os.urandom(100 + i) for i in range(30)}
        put_many(self.s3, bucket, objects)
        victim = "Training/Banana/17.jpg"
        expected = {k: v for k, v in bucket_content(self.s3, bucket).items() if k != victim}

        env = server_env()
        path = f"/{bucket}/" + urllib.parse.quote(victim, safe="/-_.~")
        proxy = Proxy(env["AWS_ENDPOINT_URL"],
                      [{"match": "^" + re.escape(f"GET {path}") + "$", "fault": "pause"}])
        try:
            env["AWS_ENDPOINT_URL"] = proxy.endpoint
            run = Run(self.dir, f"s3://{bucket}/Training/", env, suffix=".jpg",
                      concurrency=4).start()
            proxy.wait_for("fault pause")  # listed, and its GET is on its way
            self.s3.delete_object(Bucket=bucket, Key=victim)
            proxy.resume()
            run.wait()
        finally:
            proxy.stop()
        self.assertEqual(run.proc.returncode, 1, run.proc.stderr)
        dead = run.dead_letters()
        self.assertEqual([d["key"] for d in dead], [victim])
        self.assertIn("deleted since listed", dead[0]["reason"])
        self.assertIn("NoSuchKey", dead[0]["reason"])
        self.assertIn(f"s3://{bucket}/{victim}", dead[0]["reason"])
        self.assertEqual({r["key"]: (r["fnv"], r["label"]) for r in run.records()}, expected)
        self.assertEqual(run.summary["dead_letters"], 1)
        self.assertEqual(run.summary["records_done"], 30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
