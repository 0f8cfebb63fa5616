"""/metrics while a pipeline runs: a real Prometheus (Debian's) scrapes it
every second, and at the end the counters Prometheus holds equal the run
summary's; promtool accepts the text; the format follows Accept; a plugin's
gauge (fr_gauge_set, ABI 1.2) and counters (fr_metric_add) carry the
plugin's stage label."""
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
from flowrun_test import FlowrunCase, free_ports  # noqa: E402
from ops_run import Flowrun, get, release, samples, value  # noqa: E402

RECORDS = 3000
PIPELINE = """
name: scraped
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  src:  {plugin: gen-source, count: %d, hold: $DIR/hold}
  mid:  {plugin: passthrough, inputs: src, replicas: 2, reject_every: 7}
  sink: {plugin: null-sink, inputs: mid}
""" % RECORDS


class Prometheus:
    """Debian's prometheus on 127.0.0.1, scraping target every second."""

    def __init__(self, workdir, target):
        self.port = free_ports(1)
        config = os.path.join(workdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                    "scrape_configs:\n"
                    "  - job_name: flowrun\n"
                    "    static_configs: [{targets: ['%s']}]\n" % target)
        self.log = open(os.path.join(workdir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file", config,
             "--storage.tsdb.path", os.path.join(workdir, "tsdb"),
             "--web.listen-address", "127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT)

    def query(self, expr):
        """The instant vector of expr as {frozenset(labels): value}; {} while
        Prometheus is not up yet or has no such series."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.port, urllib.parse.urlencode({"query": expr}))
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                data = json.load(r)
        except OSError:
            return {}
        return {frozenset((k, v) for k, v in s["metric"].items() if k not in ("job", "instance")):
                float(s["value"][1]) for s in data["data"]["result"]}

    def until(self, expr, want, deadline_s=120):
        """Queries expr until it is want (a scrape every second: a condition
        reached, not a duration assumed); the last answer."""
        end = time.monotonic() + deadline_s
        while True:
            got = self.query(expr)
            if got and all(v == want for v in got.values()):
                return got
            if time.monotonic() > end:
                raise AssertionError("%s never became %s (last %s)" % (expr, want, got))
            time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


class HeldRun(FlowrunCase):
    """PIPELINE_TEXT running with --metrics, its source holding after its last record."""

    PIPELINE_TEXT = PIPELINE

    def setUp(self):
        super().setUp()
        self.fifo = self.path("hold")
        os.mkfifo(self.fifo)
        self.run_ = Flowrun(["-v", "run", self.pipeline(self.PIPELINE_TEXT), "--metrics",
                             "127.0.0.1:0", "--summary", self.path("summary.json")])
        self.port = self.run_.wait_metrics_port()
        self.run_.wait_for("holding: every record emitted")

    def tearDown(self):
        if self.run_.proc.poll() is None:
            release(self.fifo)
            self.run_.finish()
        super().tearDown()


class Metrics(HeldRun):
    def summary(self):
        with open(self.path("summary.json")) as f:
            return json.load(f)

    def test_prometheus_holds_the_summarys_counts(self):
        prom = Prometheus(self.dir, "127.0.0.1:%d" % self.port)
        try:
            # Every record complete, as scraped: the counters are final.
            prom.until("flowrun_run_records_done_total", RECORDS)
            release(self.fifo)
            self.assertEqual(self.run_.finish(), 1, self.run_.stderr)  # dead letters
            got = {name: prom.query(name) for name in (
                "flowrun_component_received_events_total",
                "flowrun_component_sent_events_total",
                "flowrun_component_retries_total",
                "sum by (stage) (flowrun_component_dead_lettered_events_total)",
                "flowrun_sink_committed_events_total",
                "flowrun_run_records_in_total", "flowrun_run_dead_letters_total",
                "flowrun_plugin_produce_calls_total",
                "sum(resets(flowrun_component_received_events_total[10m]))")}
        finally:
            prom.stop()
        summary = self.summary()

        def by_stage(name):
            return {dict(k)["stage"]: v for k, v in got[name].items()}
        stages = summary["stages"]
        self.assertEqual(set(by_stage("flowrun_component_received_events_total")), set(stages))
        for stage, s in stages.items():
            self.assertEqual(by_stage("flowrun_component_received_events_total")[stage],
                             s["records_in"], stage)
            self.assertEqual(by_stage("flowrun_component_sent_events_total")[stage],
                             s["records_out"], stage)
            self.assertEqual(by_stage("flowrun_component_retries_total")[stage], s["retries"])
            self.assertEqual(
                by_stage("sum by (stage) (flowrun_component_dead_lettered_events_total)")[stage],
                s["dead_letters"], stage)
        self.assertEqual(by_stage("flowrun_sink_committed_events_total")["sink"],
                         stages["sink"]["committed"])
        self.assertEqual(by_stage("flowrun_plugin_produce_calls_total")["src"],
                         stages["src"]["metrics"]["produce_calls"])
        self.assertEqual(list(got["flowrun_run_records_in_total"].values()),
                         [summary["records_in"]])
        self.assertEqual(list(got["flowrun_run_dead_letters_total"].values()),
                         [summary["dead_letters"]])
        self.assertEqual(summary["records_in"], RECORDS)
        self.assertGreater(summary["dead_letters"], 0)
        self.assertEqual(list(got["sum(resets(flowrun_component_received_events_total[10m]))"]
                              .values()), [0])

    def test_promtool_accepts_the_text(self):
        status, ctype, text = get(self.port, "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "text/plain; version=0.0.4; charset=utf-8")
        check = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_openmetrics_when_accepted(self):
        status, ctype, text = get(self.port, "/metrics",
                                  accept="application/openmetrics-text;version=1.0.0,"
                                         "text/plain;version=0.0.4;q=0.5")
        self.assertEqual(ctype, "application/openmetrics-text; version=1.0.0; charset=utf-8")
        self.assertTrue(text.endswith("# EOF\n"))
        self.assertIn("# TYPE flowrun_component_received_events counter\n", text)
        self.assertIn("flowrun_component_received_events_total{stage=\"mid\"", text)
        _, ctype, _ = get(self.port, "/metrics", accept="text/plain")
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"))

    def test_labels_and_plugin_metrics(self):
        _, _, text = get(self.port, "/metrics")
        # the source holds: its gauge (fr_gauge_set) is 1, with its stage's labels
        self.assertEqual(value(text, "flowrun_plugin_held", stage="src", plugin="gen-source"), 1)
        self.assertIn("# TYPE flowrun_plugin_held gauge", text)
        self.assertIn("# TYPE flowrun_plugin_produce_calls_total counter", text)
        self.assertEqual(value(text, "flowrun_component_instances", stage="mid",
                               plugin="passthrough"), 2)
        self.assertEqual(value(text, "flowrun_source_expected_events", stage="src"), RECORDS)
        self.assertEqual(value(text, "flowrun_ready", pipeline="scraped"), 1)
        build = [ls for (n, ls) in samples(text) if n == "flowrun_build_info"]
        self.assertEqual(len(build), 1)
        self.assertIn("version", dict(build[0]))


BATCHED = """
name: batched
state: $DIR/state
stages:
  src:  {plugin: gen-source, count: 200, hold: $DIR/hold}
  mid:  {plugin: passthrough, inputs: src}
  sink: {plugin: null-sink, inputs: mid}
"""


class BatchSizes(HeldRun):
    """flowrun_component_batch_size: a histogram per stage of the records a
    callback emitted together (gen-source emits 64 per produce call,
    passthrough 1 per record) or a sink committed together (null-sink
    commits each record's id)."""

    PIPELINE_TEXT = BATCHED
    OM = "application/openmetrics-text;version=1.0.0"

    def histogram(self, text, stage):
        """{le: cumulative count}, sum, count of a stage's batch sizes."""
        got = {dict(ls)["le"]: v for (n, ls), v in samples(text).items()
               if n == "flowrun_component_batch_size_bucket" and dict(ls)["stage"] == stage}
        return (got, value(text, "flowrun_component_batch_size_sum", stage=stage),
                value(text, "flowrun_component_batch_size_count", stage=stage))

    def test_buckets_sum_and_count(self):
        # 200 records: three produce calls of 64, then the one that emits 8
        # and holds (a callback counts when it returns).
        _, _, text = get(self.port, "/metrics")
        buckets, total, count = self.histogram(text, "src")
        bounds = ["%.1f" % 2 ** i for i in range(11)] + ["+Inf"]
        self.assertEqual(list(buckets), bounds)  # in order, +Inf last
        self.assertEqual([buckets[b] for b in bounds], [0] * 6 + [3] * 6)
        self.assertEqual((total, count), (192, 3))
        # every record emitted before the hold: wait until all are complete
        end = time.monotonic() + 120
        while value(text, "flowrun_run_records_done_total") < 200:
            self.assertLess(time.monotonic(), end, "records never complete:\n" + text)
            time.sleep(0.1)
            _, _, text = get(self.port, "/metrics")
        for stage in ("mid", "sink"):  # a record per callback, an id per commit
            buckets, total, count = self.histogram(text, stage)
            self.assertEqual((set(buckets.values()), total, count), ({200}, 200, 200), stage)

    def test_promtool_and_the_openmetrics_parser_accept_it(self):
        _, _, text = get(self.port, "/metrics")
        self.assertIn("# TYPE flowrun_component_batch_size histogram\n", text)
        check = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
        _, ctype, text = get(self.port, "/metrics", accept=self.OM)
        self.assertTrue(ctype.startswith("application/openmetrics-text"))
        families = {f.name: f for f in text_string_to_metric_families(text)}  # strict
        batch = families["flowrun_component_batch_size"]
        self.assertEqual(batch.type, "histogram")
        src = {(s.name, s.labels.get("le")): s.value for s in batch.samples
               if s.labels["stage"] == "src"}
        self.assertEqual(src[("flowrun_component_batch_size_bucket", "64.0")], 3)
        self.assertEqual(src[("flowrun_component_batch_size_count", None)], 3)


if __name__ == "__main__":
    unittest.main()
