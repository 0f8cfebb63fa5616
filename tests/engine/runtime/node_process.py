"""One `flowrun -v run --node NAME` process of a split run, its stderr read
line by line so a test can wait for what it says (never a sleep)."""
import subprocess


class Node:
    def __init__(self, name, argv):
        self.name = name
        self.proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        self.lines = []

    def wait_for(self, text):
        for line in self.proc.stderr:
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError("%s never said %r:\n%s" % (self.name, text, self.stderr))

    def finish(self):
        _, rest = self.proc.communicate(timeout=120)
        self.lines.append(rest)
        return self.proc.returncode

    @property
    def stderr(self):
        return "".join(self.lines)
