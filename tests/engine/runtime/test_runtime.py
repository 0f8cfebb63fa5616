"""The runtime, end to end through the flowrun binary: counts that add up,
dead letters, retries, end of stream with replicas, fan-out and fan-in,
backpressure, failures, signals and a pipeline split over two processes."""
import os
import resource
import signal
import subprocess
import unittest

from flowrun_test import FLOWRUN, FlowrunCase, free_ports, signal_when_flowing


class Accounting(FlowrunCase):
    def test_every_record_delivered_or_dead_lettered(self):
        p = self.pipeline("""
name: acc
dead_letters: $DIR/dead.jsonl
stages:
  gen:  {plugin: gen-source, count: 1000, size: 1KiB}
  mid:  {plugin: passthrough, inputs: gen, reject_every: 100}
  sink: {plugin: capture-sink, inputs: mid, path: $DIR/out.jsonl}
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 1, run.stderr)  # completed, with dead letters
        out, dead = self.lines("out.jsonl"), self.lines("dead.jsonl")
        self.assertEqual(len(out), 990)
        self.assertEqual(len(dead), 10)
        keys = {r["key"] for r in out} | {d["key"] for d in dead}
        self.assertEqual(keys, {"rec-%06d" % i for i in range(1000)})
        d = dead[0]
        self.assertEqual((d["stage"], d["plugin"], d["attempts"]), ("mid", "passthrough", 1))
        self.assertEqual(d["reason"], "record %d rejected on purpose" % int(d["key"][4:]))
        self.assertEqual(d["id"], "gen:" + d["key"])
        s = run.summary
        self.assertEqual((s["records_in"], s["records_done"], s["dead_letters"], s["unaccounted"]),
                         (1000, 1000, 10, 0))
        self.assertEqual(s["stages"]["sink"]["committed"], 990)
        self.assertEqual(s["status"], "dead_letters")
        # The payload arrived intact: gen-source fills record n with byte n & 0xff.
        sizes = {r["size"] for r in out}
        self.assertEqual(sizes, {1024})
        fnv = lambda data: format(__import__("functools").reduce(
            lambda h, b: ((h ^ b) * 1099511628211) & (2**64 - 1), data, 1469598103934665603), "016x")
        r = next(r for r in out if r["key"] == "rec-000005")
        self.assertEqual(r["fnv"], fnv(bytes([5]) * 1024))

    def test_clean_run_exits_zero(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 300}
  sink: {plugin: capture-sink, inputs: gen, path: $DIR/out.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertEqual(run.summary["status"], "delivered")
        self.assertFalse(os.path.exists(self.path("dead.jsonl")))

    def test_a_stage_that_drops_records_is_caught(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 200}
  bug:  {plugin: passthrough, inputs: gen, drop_every: 10}
  sink: {plugin: capture-sink, inputs: bug, path: $DIR/out.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 3, run.stderr)
        self.assertEqual(run.summary["unaccounted"], 20)
        self.assertIn("20 of 200 records were neither delivered", run.stderr)


class Retries(FlowrunCase):
    def test_transient_failures_are_retried(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 50}
  flaky: {plugin: passthrough, inputs: gen, retry_times: 2, retries: 3, retry_backoff: 1ms}
  sink: {plugin: capture-sink, inputs: flaky, path: $DIR/out.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertEqual(len(self.lines("out.jsonl")), 50)
        self.assertEqual(run.summary["stages"]["flaky"]["retries"], 100)

    def test_retries_exhausted_dead_letter(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 5}
  flaky: {plugin: passthrough, inputs: gen, retry_times: 100, retries: 2, retry_backoff: 1ms}
  sink: {plugin: capture-sink, inputs: flaky, path: $DIR/out.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 1, run.stderr)
        dead = self.lines("dead.jsonl")
        self.assertEqual(len(dead), 5)
        self.assertEqual(dead[0]["attempts"], 3)
        self.assertRegex(dead[0]["reason"], r"^gave up after 3 attempts: transient failure")


class EndOfStream(FlowrunCase):
    def test_replicas_1_3_2(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 3000, size: 200}
  mid:  {plugin: passthrough, inputs: gen, replicas: 3}
  sink: {plugin: capture-sink, inputs: mid, replicas: 2, path: $DIR/out.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 0, run.stderr)
        keys = [r["key"] for r in self.lines("out.jsonl.0") + self.lines("out.jsonl.1")]
        self.assertEqual(len(keys), 3000)
        self.assertEqual(set(keys), {"rec-%06d" % i for i in range(3000)})
        self.assertEqual(run.summary["stages"]["mid"]["replicas"], 3)

    def test_fan_out_and_fan_in(self):
        p = self.pipeline("""
stages:
  a:    {plugin: gen-source, count: 100, replicas: 2}
  b:    {plugin: gen-source, count: 50}
  both: {plugin: passthrough, inputs: [a, b]}
  left: {plugin: capture-sink, inputs: both, path: $DIR/left.jsonl}
  right: {plugin: capture-sink, inputs: both, path: $DIR/right.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 0, run.stderr)
        left, right = self.lines("left.jsonl"), self.lines("right.jsonl")
        self.assertEqual(len(left), 150)
        self.assertEqual(sorted(r["id"] for r in left), sorted(r["id"] for r in right))
        self.assertEqual(run.summary["records_done"], 150)


class Backpressure(FlowrunCase):
    def test_slow_sink_bounds_memory(self):
        # 3,000 MiB flow through; a slow sink must make the source wait
        # instead of the process buffering the data set.
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 3000, size: 1MiB}
  mid:  {plugin: passthrough, inputs: gen}
  sink: {plugin: capture-sink, inputs: mid, path: $DIR/out.jsonl, delay: 1ms}
dead_letters: $DIR/dead.jsonl
""")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        run = self.flowrun(p, "--queue", "4",
                           env={"ASAN_OPTIONS": "quarantine_size_mb=8:detect_leaks=1"})
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        self.assertEqual(run.code, 0, run.stderr)
        self.assertGreater(peak_mib, before / 1024)  # this run set the peak
        self.assertLess(peak_mib, 300, "peak RSS %.0f MiB for 3000 MiB of data" % peak_mib)


class Failures(FlowrunCase):
    def test_fatal_stage_stops_the_run_without_output(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 100000}
  bad:  {plugin: passthrough, inputs: gen, fatal_after: 500}
  sink: {plugin: capture-sink, inputs: bad, path: $DIR/out.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 3, run.stderr)
        self.assertIn('stage "bad" failed: failing on purpose at record 500', run.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)), ["p.yaml", "summary.json"])
        self.assertEqual(run.summary["status"], "failed")

    def test_unwritable_dead_letters_fail_before_data_moves(self):
        with open(self.path("file"), "w"):
            pass  # a file where the dead letters' folder should be
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 10}
  sink: {plugin: capture-sink, inputs: gen, path: $DIR/out.jsonl}
dead_letters: $DIR/file/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 2, run.stderr)  # a configuration error, found at start
        self.assertIn("cannot write dead letters to " + self.path("file/dead.jsonl"), run.stderr)
        self.assertFalse(os.path.exists(self.path("out.jsonl")))

    def test_dead_letters_folder_is_made(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 10}
  bad:  {plugin: passthrough, inputs: gen, reject_every: 5}
  sink: {plugin: capture-sink, inputs: bad, path: $DIR/out.jsonl}
dead_letters: $DIR/new/folder/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 1, run.stderr)
        self.assertEqual(len(self.lines("new/folder/dead.jsonl")), 2)

    def test_init_failure_names_the_stage(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 10}
  sink: {plugin: capture-sink, inputs: gen, path: $DIR/missing/dir/out.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 3, run.stderr)
        self.assertIn('stage "sink": cannot write', run.stderr)
        self.assertIn("missing/dir/out.jsonl", run.stderr)

    def test_sigterm_mid_run_commits_nothing(self):
        for signo in (signal.SIGTERM, signal.SIGINT):
            p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 1000000}
  sink: {plugin: capture-sink, inputs: gen, path: $DIR/out.jsonl, delay: 1ms}
dead_letters: $DIR/dead.jsonl
""")
            code, rest = signal_when_flowing(p, signo, timeout=60)
            self.assertEqual(code, 4, rest)
            self.assertIn("stopping; outputs of this run are not committed", rest)
            self.assertEqual(os.listdir(self.dir), ["p.yaml"])  # no file, no .tmp


class TwoProcesses(FlowrunCase):
    PIPELINE = """
name: split
dead_letters: $DIR/%s-dead.jsonl
nodes:
  edge: {endpoint: "tcp://127.0.0.1:%d"}
  core: {endpoint: "tcp://127.0.0.1:%d"}
stages:
  gen:  {plugin: gen-source, count: 2000, size: 4KiB, node: edge}
  mid:  {plugin: passthrough, inputs: gen, replicas: 2, reject_every: 250, node: core}
  sink: {plugin: capture-sink, inputs: mid, path: $DIR/%s, node: edge}
"""

    def test_split_over_two_processes_gives_identical_output(self):
        one = self.pipeline(self.PIPELINE % ("one", free_ports(1), free_ports(1), "one.jsonl"),
                            "one.yaml")
        run = self.flowrun(one)
        self.assertEqual(run.code, 1, run.stderr)
        two = self.pipeline(self.PIPELINE % ("two", free_ports(1), free_ports(1), "two.jsonl"),
                            "two.yaml")
        procs = [subprocess.Popen([FLOWRUN, "-q", "run", "--node", node, two],
                                  stderr=subprocess.PIPE, text=True)
                 for node in ("core", "edge")]
        codes = [p.wait(timeout=120) for p in procs]
        errors = [p.stderr.read() for p in procs]
        for p in procs:
            p.stderr.close()
        # One verdict for the whole run: the rejects happen on core, and
        # edge (the coordinator, first in the file) exits 1 too.
        self.assertEqual(codes, [1, 1], errors)
        self.assertEqual(len(self.lines("two-dead.jsonl")), 8)  # written by the coordinator
        by_id = lambda name: sorted(self.lines(name), key=lambda r: r["id"])
        self.assertEqual(by_id("one.jsonl"), by_id("two.jsonl"))
        self.assertEqual(len(by_id("two.jsonl")), 1992)


if __name__ == "__main__":
    unittest.main()
