"""One `flowrun -v run --node NAME` process of a split run, its stderr read
line by line so a test can wait for what it says (never a sleep)."""
import subprocess

_running = []


def kill_all():
    """Kills the nodes a failed test left running (tearDown), so none
    outlives its test."""
    while _running:
        node = _running.pop()
        if node.proc.poll() is None:
            node.proc.kill()
        node.proc.communicate()


class Node:
    def __init__(self, name, argv):
        self.name = name
        self.proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        self.lines = []
        _running.append(self)

    def wait_for(self, text):
        for line in self.proc.stderr:
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError("%s never said %r:\n%s" % (self.name, text, self.stderr))

    def finish(self):
        if self in _running:
            _running.remove(self)
        _, rest = self.proc.communicate(timeout=120)
        self.lines.append(rest)
        return self.proc.returncode

    @property
    def stderr(self):
        return "".join(self.lines)
