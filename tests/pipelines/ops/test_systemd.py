"""systemd's notify protocol, spoken to a NOTIFY_SOCKET of the test's own (a
unix datagram socket it reads, as systemd does): READY=1 once data flows,
WATCHDOG=1 heartbeats at half of WATCHDOG_USEC once ready, while the run is
live, none (STATUS=stalled: ... instead) once a stage is stuck in a callback,
STOPPING=1 on SIGTERM.  And the example unit passes systemd-analyze verify."""
import os
import re
import signal
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
from flowrun_test import FLOWRUN, FlowrunCase  # noqa: E402
from ops_run import Flowrun, release  # noqa: E402

PIPELINE = """
name: notified
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  src:  {plugin: gen-source, count: 20, hold: $DIR/hold}
  sink: {plugin: null-sink, inputs: src}
"""
WATCHING = """
name: watching
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  src:  {plugin: dir-source, path: $DIR/in, watch: 1h}
  sink: {plugin: null-sink, inputs: src}
"""
STALLING = """
name: stalling
state: $DIR/state
stages:
  src:  {plugin: gen-source, count: 100}
  mid:  {plugin: passthrough, inputs: src, stall_at: 50}
  sink: {plugin: null-sink, inputs: mid}
"""
UNIT = os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "examples", "deploy", "systemd",
                    "flowrun-watch.service")


class Notify(FlowrunCase):
    def setUp(self):
        super().setUp()
        self.fifo = self.path("hold")
        os.mkfifo(self.fifo)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path("notify"))
        self.sock.settimeout(60)  # a message that never comes fails the test

    def tearDown(self):
        self.sock.close()
        super().tearDown()

    def until(self, state):
        """Messages received up to and including the first with state."""
        seen = []
        while True:
            msg = self.sock.recv(4096).decode()
            seen.append(msg)
            if state in msg.split("\n"):
                return seen

    def test_ready_watchdog_stopping(self):
        """An idle watching run is live: its source waits in fr_wait, and
        heartbeats go on past WatchdogSec (three at 0.5 s for 1 s)."""
        os.mkdir(self.path("in"))
        run = Flowrun(["-v", "run", self.pipeline(WATCHING, name="watching.yaml")],
                      env={"NOTIFY_SOCKET": self.path("notify"), "WATCHDOG_USEC": "1000000",
                           "XDG_STATE_HOME": self.state_home})
        run.wait_for(r"systemd watchdog: a heartbeat every 0\.500 s")
        run.wait_for("data flowing")
        before = self.until("READY=1")
        self.assertIn("STATUS=data flowing", before[-1].split("\n"))
        self.assertNotIn("STOPPING=1", "\n".join(before))
        beats = []
        for _ in range(3):
            beats += self.until("WATCHDOG=1")
        self.assertFalse([m for m in beats if m.startswith("STATUS=stalled")], beats)
        run.proc.send_signal(signal.SIGTERM)
        self.until("STOPPING=1")
        self.assertEqual(run.finish(), 0, run.stderr)  # a watching run drains

    def test_a_stuck_stage_stops_the_heartbeats(self):
        """A plugin that hangs in a callback (passthrough's stall_at) stops
        WATCHDOG=1 once it has been stuck for WatchdogSec: systemd's timer
        then runs out and it kills the service."""
        run = Flowrun(["-v", "run", self.pipeline(STALLING, name="stalling.yaml")],
                      env={"NOTIFY_SOCKET": self.path("notify"), "WATCHDOG_USEC": "1000000",
                           "XDG_STATE_HOME": self.state_home})
        try:
            run.wait_for("data flowing")
            self.until("READY=1")
            run.wait_for("stalling at record 50 for good")
            status = [m for m in self.until_prefix("STATUS=stalled: ")
                      if m.startswith("STATUS=stalled: ")][0]
            self.assertRegex(status, r'^STATUS=stalled: stage "mid" has been stuck for \d')
            # the next heartbeat times: a status again each time, never WATCHDOG=1
            after = []
            for _ in range(3):
                after += self.until_prefix("STATUS=stalled: ")
            self.assertNotIn("WATCHDOG=1", "\n".join(after).split("\n"))
            run.wait_for(r'stage "mid" has been stuck for [\d.]+ s: no watchdog heartbeat')
        finally:
            run.proc.kill()  # deaf to SIGTERM, as systemd finds it: SIGKILL after the abort
            run.finish()

    def until_prefix(self, prefix):
        """Messages received up to and including the first with a line starting with prefix."""
        seen = []
        while True:
            msg = self.sock.recv(4096).decode()
            seen.append(msg)
            if any(line.startswith(prefix) for line in msg.split("\n")):
                return seen

    def test_a_watching_run_drains_after_stopping(self):
        """SIGTERM ends a watching source's input: STOPPING=1, then exit 0."""
        os.mkdir(self.path("in"))
        with open(self.path("in/a.txt"), "w") as f:
            f.write("a")
        run = Flowrun(["-v", "run", self.pipeline(WATCHING, name="watching.yaml")],
                      env={"NOTIFY_SOCKET": self.path("notify"),
                           "XDG_STATE_HOME": self.state_home})
        run.wait_for("data flowing")
        self.until("READY=1")
        run.proc.send_signal(signal.SIGTERM)
        run.wait_for("ending the input")
        self.until("STOPPING=1")
        self.assertEqual(run.finish(), 0, run.stderr)

    def test_no_socket_no_messages(self):
        run = Flowrun(["-v", "run", self.pipeline(PIPELINE)],
                      env={"WATCHDOG_USEC": "200000", "XDG_STATE_HOME": self.state_home})
        run.wait_for("holding")
        release(self.fifo)
        self.assertEqual(run.finish(), 0)
        self.assertNotIn("watchdog", run.stderr)


class Unit(unittest.TestCase):
    def test_the_watch_unit_verifies(self):
        with open(UNIT) as f:
            unit = f.read()
        for line in ("Type=notify", "NotifyAccess=main", "KillSignal=SIGTERM",
                     "Restart=on-failure"):
            self.assertIn(line + "\n", unit)
        self.assertRegex(unit, r"\nWatchdogSec=\d+")
        self.assertRegex(unit, r"ExecStart=/usr/bin/flowrun run .*--metrics ")
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "flowrun-watch.service")
            with open(path, "w") as f:
                f.write(unit.replace("/usr/bin/flowrun", FLOWRUN))
            run = subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                                 text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(re.sub(r".*Documentation.*\n?", "", run.stderr), "")


if __name__ == "__main__":
    unittest.main()
