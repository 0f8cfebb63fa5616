"""The two-step workflow of docs/watch.md over the local radosgw (fixture
s3_server): pipelines/fruits.yaml fits the scaler and PCA on Training/ and
saves them; pipelines/fruits-watch.yaml, watching Uploads/, applies them
(fit: none) to photos uploaded while it runs.

A photo uploaded to Uploads/ gets the row the batch job gave the same photo
in Training/ (same label, same 200 features within float rounding): the
continuous rows are in the batch rows' space.  The wave (3 photos) is
smaller than resnet50-embed's batch (8): its rows come out only because the
engine ticks the idle stage, which runs the partial batch.  SIGTERM ends the
run with exit 0; the CSV and the Parquet (read by DuckDB) hold the same
rows, each with the photo's ETag in its version column.
"""
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ["FLOWRUN_SOURCE_DIR"]
BUILD = os.environ["FLOWRUN_BUILD_DIR"]
sys.path.insert(0, os.path.join(SOURCE, "tests", "plugins", "lib", "s3"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "pipelines", "fruits"))
sys.path.insert(0, HERE)
from s3test import boto, md5, new_bucket, put_many, server_env  # noqa: E402
import test_fruits  # noqa: E402
from test_watch_s3 import WatchRun, part_files  # noqa: E402

import numpy as np  # noqa: E402

FLOWRUN = os.environ["FLOWRUN_BIN"]
WAVE = 3


def csv_features(paths):
    """{key: (label, features, version)} of CSV files (header key,label,c0..,version)."""
    rows = {}
    for path in paths:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            head = next(reader)
            version = head.index("version") if "version" in head else None
            last = version if version is not None else len(head)
            for r in reader:
                rows[r[0]] = (r[1], np.array(r[2:last], dtype=np.float64),
                              r[version] if version is not None else None)
    return rows


def parquet_features(paths):
    out = {}
    for path in paths:
        r = subprocess.run(["node", os.path.join(SOURCE, "tests", "pipelines", "fruits",
                                                 "parquet_rows.mjs"), path],
                           capture_output=True, text=True, timeout=240)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        names = json.loads(lines[0])["names"]
        for line in lines[1:]:
            row = dict(zip(names, json.loads(line)))
            feats = [row[n] for n in names if n.startswith("c") and n[1:].isdigit()]
            out[row["key"]] = (row["label"], np.array(feats, dtype=np.float64), row["version"])
    return out


class FruitsWatch(unittest.TestCase):
    def test_uploads_get_the_batch_rows_through_the_saved_scaler_and_pca(self):
        with tempfile.TemporaryDirectory(prefix="flowrun-fruits-watch-") as tmp:
            test_fruits.IMAGES = 24  # enough to fit on; the check is per row
            files, model = test_fruits.make_data(tmp)
            s3 = boto()
            bucket = new_bucket(s3, "fruitswatch")
            bodies = {}
            for rel, path in files.items():
                with open(path, "rb") as f:
                    bodies[rel] = f.read()
            put_many(s3, bucket, {"Training/" + rel: b for rel, b in bodies.items()})
            env = server_env()
            out = os.path.join(tmp, "out")
            env.update(FRUITS_INPUT=f"s3://{bucket}/Training/", FRUITS_MODEL=model,
                       FRUITS_OUTPUT=out, FRUITS_STATS=out, FRUITS_S3_ENDPOINT=env["AWS_ENDPOINT_URL"],
                       XDG_STATE_HOME=os.path.join(tmp, "state"),
                       FRUITS_WATCH_INPUT=f"s3://{bucket}/Uploads/",
                       FRUITS_WATCH_OUTPUT=os.path.join(tmp, "watch"),
                       FRUITS_WATCH_PERIOD="300ms", FRUITS_WATCH_MAX_AGE="200ms")
            env.pop("FRUITS_PRECISION", None)
            os.makedirs(out)
            batch = subprocess.run([FLOWRUN, os.path.join(SOURCE, "pipelines", "fruits.yaml")],
                                   env=env, capture_output=True, text=True, timeout=800)
            self.assertEqual(batch.returncode, 0, batch.stderr)
            self.assertTrue(os.path.exists(os.path.join(out, "scaler.stats")))
            self.assertTrue(os.path.exists(os.path.join(out, "pca.stats")))
            want = csv_features([os.path.join(out, "features.csv")])

            run = WatchRun(os.path.join(SOURCE, "pipelines", "fruits-watch.yaml"),
                           os.path.join(tmp, "summary.json"), env)
            wave = sorted(bodies)[:WAVE]
            put_many(s3, bucket, {"Uploads/" + rel: bodies[rel] for rel in wave})
            uploaded = [("Uploads/" + rel, md5(bodies[rel])) for rel in wave]
            folders = [os.path.join(tmp, "watch", "csv"), os.path.join(tmp, "watch", "parquet")]
            run.wait_committed(uploaded, folders)
            self.assertEqual(run.stop(signal.SIGTERM), 0, run.stderr)

            got = csv_features(part_files(folders[0]))
            got_pq = parquet_features(part_files(folders[1]))
            self.assertEqual(sorted(got), sorted(k for k, _ in uploaded))
            self.assertEqual(sorted(got_pq), sorted(got))
            scale = max(np.max(np.abs(v[1])) for v in want.values())
            for key, etag in uploaded:
                label, feats, version = got[key]
                ref = want["Training/" + key[len("Uploads/"):]]
                self.assertEqual(label, ref[0])
                self.assertEqual(version, etag)
                self.assertEqual(len(feats), 200)
                worst = float(np.max(np.abs(feats - ref[1])))
                self.assertLess(worst, 1e-4 * scale, f"{key}: differs from the batch row by {worst}")
                pq_label, pq_feats, pq_version = got_pq[key]
                self.assertEqual((pq_label, pq_version), (label, version))
                self.assertLess(float(np.max(np.abs(pq_feats - feats))), 1e-5 * scale)


if __name__ == "__main__":
    unittest.main()
