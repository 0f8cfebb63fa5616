"""csv-sink and parquet-sink writing to s3:// through the flowrun binary,
against radosgw (which verifies SigV4 signatures and payload hashes), read
back with boto3 (the independent client):

- the objects hold exactly the bytes a local-path run of the same pipeline
  writes (CSV parsed with Python's csv, Parquet read with DuckDB); a 28 MiB
  CSV goes up as a multipart upload of several parts; rolling (max_rows)
  makes several part objects and a _manifest.json listing their ids;
- killed inside a commit (FLOWRUN_FAILPOINT), the rerun aborts the uploads the
  killed run left open (only its own) and holds every record once;
- modes: error refuses an existing object naming it, overwrite replaces it,
  append-parts continues the part sequence after the manifest's parts;
- a wrong secret fails the run with a 403 naming bucket, key, region and the
  credential source, exit 3, nothing written;
- a part upload or a manifest PUT that keeps failing (503 from the fault
  proxy of tests/pipelines/s3) fails the run, aborts the upload, takes the
  published part back and commits no id;
- SIGTERM while a multipart upload is open leaves no object under the final
  names and no open multipart upload.
Every run ends with no multipart upload left open in the bucket.
"""
import csv
import gzip
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/lib/s3"))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/pipelines/s3"))
from s3pipe import Proxy  # noqa: E402
from s3test import boto, new_bucket, server_env  # noqa: E402

FLOWRUN = os.environ["FLOWRUN_BIN"]
CHECK_PARQUET = os.path.join(os.environ["FLOWRUN_SOURCE_DIR"],
                             "tests/pipelines/sinks/check_parquet.mjs")
WIDTH, LABELS = 200, 4
BIG = 10000  # rows of 200 floats: a CSV of about 28 MiB, four 8 MiB upload parts


class S3Sinks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = boto()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-s3-sinks-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- helpers ---------------------------------------------------------

    def write_yaml(self, count, csv_sink, pq_sink, name="p.yaml"):
        """gen-source -> csv-sink and parquet-sink; *_sink: the sinks' keys
        after `inputs`, as YAML flow-mapping text."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(f"""
name: s3-sinks
dead_letters: {self.dir}/dead.jsonl
stages:
  gen: {{plugin: gen-source, kind: tensor, size: {4 * WIDTH}, count: {count}, labels: {LABELS}}}
  csv: {{plugin: csv-sink, inputs: gen, {csv_sink}}}
  pq:  {{plugin: parquet-sink, inputs: gen, {pq_sink}}}
""")
        return path

    def run_flowrun(self, yaml, env=None, timeout=300, fresh=True):
        """A run from nothing (--fresh: each case here is a new run of its own
        configuration), or with fresh=False whatever the ledger makes of it."""
        summary = os.path.join(self.dir, "summary.json")
        if os.path.exists(summary):
            os.unlink(summary)
        run = subprocess.run([FLOWRUN, yaml, "--summary", summary] + ["--fresh"] * fresh,
                             env=env or server_env(),
                             capture_output=True, text=True, timeout=timeout)
        run.summary = None
        if os.path.exists(summary):
            with open(summary) as f:
                run.summary = json.load(f)
        return run

    def objects(self, bucket):
        """{key: bytes} of every object in the bucket."""
        keys = [o["Key"] for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket) for o in page.get("Contents", [])]
        return {k: self.s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}

    def assert_no_upload_open(self, bucket):
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []), [])

    def check_parquet(self, files, count):
        """DuckDB reads the files back: count gen-source rows with their values."""
        folder = tempfile.mkdtemp(prefix="pq-", dir=self.dir)
        for i, data in enumerate(files):
            with open(os.path.join(folder, f"{i:05d}.parquet"), "wb") as f:
                f.write(data)
        check = subprocess.run(["node", CHECK_PARQUET, folder + "/*.parquet", str(count),
                                str(WIDTH), str(LABELS)], capture_output=True, text=True,
                               timeout=120)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout.strip(), f"ok {count}")

    def local_run(self, count, csv_sink, pq_sink):
        """The same pipeline writing local files; returns their folder."""
        out = tempfile.mkdtemp(prefix="local-", dir=self.dir)
        os.mkdir(os.path.join(out, "out"))
        yaml = self.write_yaml(count, csv_sink.format(out=out), pq_sink.format(out=out),
                               name="local.yaml")
        run = self.run_flowrun(yaml)
        self.assertEqual(run.returncode, 0, run.stderr)
        return out

    # ---- tests -----------------------------------------------------------

    def test_big_csv_and_rolling_parquet_equal_a_local_run(self):
        bucket = new_bucket(self.s3, "sinks")
        csv_sink = "path: {out}/out/features.csv"
        pq_sink = "path: {out}/parts, max_rows: 3000"
        yaml = self.write_yaml(BIG, csv_sink.format(out=f"s3://{bucket}"),
                               pq_sink.format(out=f"s3://{bucket}"))
        run = self.run_flowrun(yaml)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn(f"s3://{bucket}/out/features.csv: region us-east-1", run.stderr)
        self.assertIn("credentials from environment", run.stderr)
        self.assertEqual(run.summary["stages"]["csv"]["committed"], BIG)
        self.assertEqual(run.summary["stages"]["pq"]["committed"], BIG)
        self.assert_no_upload_open(bucket)

        got = self.objects(bucket)
        parts = [f"parts/part-{i:05d}.parquet" for i in range(4)]
        self.assertEqual(sorted(got), ["out/features.csv", "parts/_manifest.json"] + parts)
        # The CSV went up in several parts: a multipart ETag ends in -<parts>.
        etag = self.s3.head_object(Bucket=bucket, Key="out/features.csv")["ETag"]
        self.assertRegex(etag, r'-[2-9]"$')
        self.assertGreater(len(got["out/features.csv"]), 20 << 20)

        local = self.local_run(BIG, csv_sink, pq_sink)
        with open(os.path.join(local, "out/features.csv"), "rb") as f:
            local_csv = f.read()
        self.assertEqual(list(csv.reader(io.StringIO(got["out/features.csv"].decode()),
                                         strict=True)),
                         list(csv.reader(io.StringIO(local_csv.decode()), strict=True)))
        self.assertEqual(got["out/features.csv"], local_csv)
        rows = list(csv.reader(io.StringIO(got["out/features.csv"].decode())))
        self.assertEqual(rows[0], ["key", "label"] + [f"c{i}" for i in range(WIDTH)])
        self.assertEqual([r[0] for r in rows[1:]], [f"rec-{n:06d}" for n in range(BIG)])

        manifest = json.loads(got["parts/_manifest.json"])
        self.assertEqual([p["file"] for p in manifest["parts"]],
                         [p.split("/")[1] for p in parts])
        self.assertEqual([p["rows"] for p in manifest["parts"]], [3000, 3000, 3000, 1000])
        self.assertEqual(sorted(i for p in manifest["parts"] for i in p["ids"]),
                         [f"gen:rec-{n:06d}" for n in range(BIG)])
        for p in parts:
            with open(os.path.join(local, p), "rb") as f:
                self.assertEqual(got[p], f.read(), p)
        with open(os.path.join(local, "parts/_manifest.json"), "rb") as f:
            # The same but for the run token each run writes.
            token = re.compile(rb'"run":"[0-9a-f]+",')
            self.assertEqual(token.sub(b"", got["parts/_manifest.json"]), token.sub(b"", f.read()))
        self.check_parquet([got[p] for p in parts], BIG)

    def test_rolling_csv_and_single_parquet_object_with_endpoint_key(self):
        bucket = new_bucket(self.s3, "roll")
        # The endpoint from the sinks' own key, not the environment.
        env = server_env()
        endpoint = env.pop("AWS_ENDPOINT_URL")
        env.pop("AWS_ENDPOINT_URL_S3", None)
        yaml = self.write_yaml(
            250, f"path: s3://{bucket}/csv/, max_rows: 100, gzip: true, endpoint: {endpoint}",
            f"path: s3://{bucket}/features.parquet, endpoint: {endpoint}, addressing: path")
        run = self.run_flowrun(yaml, env=env)
        self.assertEqual(run.returncode, 0, run.stderr)
        got = self.objects(bucket)
        self.assertEqual(sorted(got), ["csv/_manifest.json", "csv/part-00000.csv.gz",
                                       "csv/part-00001.csv.gz", "csv/part-00002.csv.gz",
                                       "features.parquet"])
        rows = [r for k in sorted(got) if k.endswith(".csv.gz")
                for r in list(csv.reader(io.StringIO(gzip.decompress(got[k]).decode())))[1:]]
        self.assertEqual([r[0] for r in rows], [f"rec-{n:06d}" for n in range(250)])
        manifest = json.loads(got["csv/_manifest.json"])
        self.assertEqual([p["rows"] for p in manifest["parts"]], [100, 100, 50])
        self.check_parquet([got["features.parquet"]], 250)
        self.assert_no_upload_open(bucket)

    def test_modes_error_overwrite_append_parts(self):
        bucket = new_bucket(self.s3, "modes")
        self.s3.put_object(Bucket=bucket, Key="f.csv", Body=b"earlier\n")
        # error: the existing object is named, nothing replaced.
        yaml = self.write_yaml(10, f"path: s3://{bucket}/f.csv",
                               f"path: s3://{bucket}/p, mode: append-parts")
        run = self.run_flowrun(yaml)
        self.assertEqual(run.returncode, 3, run.stderr)
        self.assertIn(f"s3://{bucket}/f.csv already exists (mode: error", run.stderr)
        self.assertEqual(self.objects(bucket), {"f.csv": b"earlier\n"})

        # overwrite replaces it; append-parts starts a sequence.
        yaml = self.write_yaml(10, f"path: s3://{bucket}/f.csv, mode: overwrite",
                               f"path: s3://{bucket}/p, mode: append-parts")
        run = self.run_flowrun(yaml)
        self.assertEqual(run.returncode, 0, run.stderr)
        got = self.objects(bucket)
        self.assertEqual(sorted(got), ["f.csv", "p/_manifest.json", "p/part-00000.parquet"])
        self.assertEqual(len(got["f.csv"].decode().splitlines()), 11)

        # append-parts again with 25 records: the 10 listed ids are
        # acknowledged, not written again; the 15 new ones go to part 1.
        yaml = self.write_yaml(25, f"path: s3://{bucket}/f.csv, mode: overwrite",
                               f"path: s3://{bucket}/p, mode: append-parts")
        run = self.run_flowrun(yaml)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.summary["stages"]["pq"]["committed"], 25)
        got = self.objects(bucket)
        self.assertEqual(sorted(got), ["f.csv", "p/_manifest.json", "p/part-00000.parquet",
                                       "p/part-00001.parquet"])
        manifest = json.loads(got["p/_manifest.json"])
        self.assertEqual([p["rows"] for p in manifest["parts"]], [10, 15])
        self.check_parquet([got["p/part-00000.parquet"], got["p/part-00001.parquet"]], 25)

        # error on a prefix that holds parts (another pipeline's: a rerun of
        # the same run would continue its own commits): the part is named.
        yaml = self.write_yaml(5, f"path: s3://{bucket}/g.csv",
                               f"path: s3://{bucket}/p, max_rows: 2", name="other.yaml")
        run = self.run_flowrun(yaml)
        self.assertEqual(run.returncode, 3, run.stderr)
        self.assertRegex(run.stderr, re.escape(f"s3://{bucket}/p already holds ") +
                         r"(_manifest\.json|part-0000[01]\.parquet)")
        self.assertNotIn("g.csv", self.objects(bucket))
        self.assert_no_upload_open(bucket)

    def test_wrong_secret_is_a_clear_403_and_writes_nothing(self):
        bucket = new_bucket(self.s3, "denied")
        env = server_env()
        env["AWS_SECRET_ACCESS_KEY"] = "not/the+right/secret"
        yaml = self.write_yaml(100, f"path: s3://{bucket}/out/features.csv, region: eu-west-3",
                               f"path: s3://{bucket}/parts, max_rows: 10, region: eu-west-3")
        run = self.run_flowrun(yaml, env=env)
        self.assertEqual(run.returncode, 3, run.stderr)
        err = run.stderr
        self.assertRegex(err, re.escape(f"s3://{bucket}/out/features.csv") + ".*HTTP 403")
        self.assertIn("region eu-west-3", err)
        self.assertIn("credentials from environment", err)
        self.assertNotIn("not/the+right/secret", err)
        self.assertEqual(self.objects(bucket), {})
        self.assert_no_upload_open(bucket)

    def test_failed_upload_or_manifest_is_aborted_and_commits_nothing(self):
        bucket = new_bucket(self.s3, "fail")
        env = server_env()
        proxy = Proxy(env["AWS_ENDPOINT_URL"], [
            {"match": rf"^PUT /{bucket}/big\.csv\?partNumber=2&", "fault": "503", "times": 1000},
            {"match": rf"^PUT /{bucket}/parts/_manifest\.json", "fault": "503", "times": 1000}])
        env["AWS_ENDPOINT_URL"] = proxy.endpoint
        env.pop("AWS_ENDPOINT_URL_S3", None)
        # The CSV's second part fails; the manifest of the first Parquet
        # part fails.  The other sink of each run (a.parquet, b.csv) may
        # finish before the failure stops the run, or be aborted by it.
        cases = [(BIG, f"path: s3://{bucket}/big.csv", f"path: s3://{bucket}/a.parquet", "csv",
                  "big.csv", f"UploadPart s3://{bucket}/big.csv: HTTP 503",
                  rf"request DELETE /{bucket}/big\.csv\?uploadId="),
                 (3000, f"path: s3://{bucket}/b.csv", f"path: s3://{bucket}/parts, max_rows: 3000",
                  "pq", "parts/", f"PutObject s3://{bucket}/parts/_manifest.json: HTTP 503",
                  rf"request DELETE /{bucket}/parts/part-00000\.parquet$")]
        try:
            for count, csv_sink, pq_sink, stage, prefix, error, cleanup in cases:
                run = self.run_flowrun(self.write_yaml(count, csv_sink, pq_sink), env=env)
                log = proxy.drain()
                self.assertEqual(run.returncode, 3, run.stderr)
                self.assertIn(error, run.stderr)
                self.assertEqual(run.summary["stages"][stage].get("committed", 0), 0, stage)
                self.assertTrue(any(re.match(cleanup, line) for line in log),
                                f"no {cleanup} in {log}")
                self.assertEqual([k for k in self.objects(bucket) if k.startswith(prefix)], [])
                self.assert_no_upload_open(bucket)
        finally:
            proxy.stop()

    def test_killed_in_commit_then_rerun_aborts_its_uploads_exactly_once(self):
        bucket = new_bucket(self.s3, "kill")
        # Uploads that are not this output's own stay.
        other = self.s3.create_multipart_upload(Bucket=bucket, Key="other/part-00000.parquet")
        path = os.path.join(self.dir, "kill.yaml")
        with open(path, "w") as f:
            f.write(f"""
name: s3-kill
state: {self.dir}/state
dead_letters: {self.dir}/dead.jsonl
stages:
  gen: {{plugin: gen-source, kind: tensor, size: {4 * WIDTH}, count: 250, labels: {LABELS}}}
  pq:  {{plugin: parquet-sink, inputs: gen, path: s3://{bucket}/p, max_rows: 100,
         mode: append-parts}}
""")
        # Killed before its second part is completed: the first is published
        # but not listed, the others are open uploads.
        env = dict(server_env(), FLOWRUN_FAILPOINT="sink-commit:2")
        run = self.run_flowrun(path, env=env)
        self.assertEqual(run.returncode, -signal.SIGKILL, run.stderr)
        left = {u["Key"] for u in self.s3.list_multipart_uploads(Bucket=bucket)["Uploads"]}
        self.assertEqual(left, {"other/part-00000.parquet", "p/part-00001.parquet",
                                "p/part-00002.parquet"})
        run = self.run_flowrun(path, fresh=False)  # resumes the killed run
        self.assertEqual(run.returncode, 0, run.stderr)
        uploads = self.s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
        self.assertEqual([(u["Key"], u["UploadId"]) for u in uploads],
                         [("other/part-00000.parquet", other["UploadId"])])
        got = self.objects(bucket)
        manifest = json.loads(got["p/_manifest.json"])
        listed = ["p/" + p["file"] for p in manifest["parts"]]
        self.assertEqual(sorted(got), ["p/_manifest.json"] + sorted(listed))
        self.assertEqual(sorted(i for p in manifest["parts"] for i in p["ids"]),
                         [f"gen:rec-{n:06d}" for n in range(250)])
        self.check_parquet([got[k] for k in listed], 250)
        self.s3.abort_multipart_upload(Bucket=bucket, Key="other/part-00000.parquet",
                                       UploadId=other["UploadId"])

    def test_single_object_killed_before_its_ack_then_rerun_keeps_it(self):
        # Killed after a sink completed its one object but before the engine
        # heard: the rerun finds the object this run published (the sidecar in
        # the state directory names its ETag), acknowledges every record from
        # it and writes nothing again, although mode: error refuses an object
        # that exists; the other sink writes its own object once.
        bucket = new_bucket(self.s3, "single")
        path = self.write_yaml(250, f"path: s3://{bucket}/features.csv",
                               f"path: s3://{bucket}/features.parquet")
        env = dict(server_env(), FLOWRUN_FAILPOINT="sink-ack:1")
        run = self.run_flowrun(path, env=env)
        self.assertEqual(run.returncode, -signal.SIGKILL, run.stderr)
        self.assertIn("flowrun: failpoint sink-ack:1", run.stderr)
        published = {k: self.s3.head_object(Bucket=bucket, Key=k)["ETag"]
                     for k in self.objects(bucket)}
        self.assertTrue(published)
        run = self.run_flowrun(path, fresh=False)  # resumes the killed run
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.summary["ledger"]["start"], "resumed")
        stage = {"features.csv": "csv", "features.parquet": "pq"}
        for key, etag in published.items():
            self.assertEqual(self.s3.head_object(Bucket=bucket, Key=key)["ETag"], etag,
                             key + " written again")
            self.assertEqual(run.summary["stages"][stage[key]]["metrics"]["duplicates_skipped"],
                             250)
        got = self.objects(bucket)
        self.assertEqual(sorted(got), ["features.csv", "features.parquet"])
        rows = list(csv.reader(io.StringIO(got["features.csv"].decode())))[1:]
        self.assertEqual(sorted(r[0] for r in rows), [f"rec-{n:06d}" for n in range(250)])
        self.check_parquet([got["features.parquet"]], 250)
        self.assertEqual(run.summary["stages"]["csv"]["committed"], 250)
        self.assertEqual(run.summary["stages"]["pq"]["committed"], 250)
        self.assert_no_upload_open(bucket)

    def test_sigterm_leaves_no_object_and_no_upload(self):
        for wait_for_upload in (False, True):
            bucket = new_bucket(self.s3, "term")
            yaml = self.write_yaml(100000000, f"path: s3://{bucket}/features.csv",
                                   f"path: s3://{bucket}/features.parquet")
            proc = subprocess.Popen([FLOWRUN, "-v", yaml, "--fresh"], env=server_env(),
                                    stderr=subprocess.PIPE, text=True)
            for line in proc.stderr:  # synchronise on the runtime's own message
                if "data flowing" in line:
                    break
            if wait_for_upload:
                # The CSV's first 8 MiB part starts a multipart upload: the
                # event this case waits for, seen through the server.
                while not self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads"):
                    self.assertIsNone(proc.poll(), "flowrun ended before its upload began")
            proc.send_signal(signal.SIGTERM)
            rest = proc.stderr.read()
            proc.stderr.close()
            self.assertEqual(proc.wait(timeout=120), 4, rest)
            self.assertEqual(self.objects(bucket), {})
            self.assert_no_upload_open(bucket)


if __name__ == "__main__":
    unittest.main()
