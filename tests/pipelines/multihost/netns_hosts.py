"""Test hosts of their own: network namespaces on a private subnet.

Hosts(n) makes one namespace per host, each with an eth0 on 10.77.0.K/24,
linked by veth pairs to a bridge that lives in a namespace of its own, so no
address or route of the machine changes and traffic stays inside. Names are
unique per test ("frmh" + pid + counter). Everything is removed on exit,
also when the test fails or is sent SIGTERM (deleting a namespace deletes
its interfaces); what a SIGKILL leaves behind, remove_orphans() (the ctest
fixture multihost-netns-cleanup) removes: namespaces whose process is gone."""
import itertools
import os
import re
import signal
import subprocess
import sys

SUBNET = "10.77.0"
PREFIX = "frmh"
_counter = itertools.count()


def _terminate(signo, frame):
    raise SystemExit(128 + signo)  # so __exit__ runs and the namespaces go


signal.signal(signal.SIGTERM, _terminate)


def remove_orphans():
    """Deletes namespaces of this test whose process no longer runs."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for name, pid in re.findall(r"^(%s([0-9a-f]+)x\S*)" % PREFIX, out, re.M):
        if not os.path.exists("/proc/%d" % int(pid, 16)):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


def ip(*args, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ip", *args]
    subprocess.run(cmd, check=True, capture_output=True)


class Hosts:
    def __init__(self, names):
        tag = "%s%xx%x" % (PREFIX, os.getpid(), next(_counter))
        self.switch = tag + "s"
        self.ns = {name: "%sh%d" % (tag, i) for i, name in enumerate(names)}
        self.addr = {name: "%s.%d" % (SUBNET, i + 1) for i, name in enumerate(names)}
        self.tag = tag
        self.made = []

    def __enter__(self):
        try:
            self._make()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc):
        self.remove()

    def _add_ns(self, name):
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        self.made.append(name)
        ip("link", "set", "lo", "up", ns=name)

    def _make(self):
        self._add_ns(self.switch)
        ip("link", "add", "br0", "type", "bridge", ns=self.switch)
        ip("link", "set", "br0", "up", ns=self.switch)
        for i, (name, ns) in enumerate(self.ns.items()):
            self._add_ns(ns)
            port = "%sp%d" % (self.tag, i)  # the switch side, at most 15 characters
            # Made inside the switch namespace, the host end moved to the host.
            ip("link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns,
               ns=self.switch)
            ip("link", "set", port, "master", "br0", ns=self.switch)
            ip("link", "set", port, "up", ns=self.switch)
            ip("addr", "add", self.addr[name] + "/24", "dev", "eth0", ns=ns)
            ip("link", "set", "eth0", "up", ns=ns)

    def remove(self):
        for name in reversed(self.made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.made = []

    def command(self, host, argv):
        """argv run inside host's namespace."""
        return ["ip", "netns", "exec", self.ns[host], *argv]


if __name__ == "__main__" and sys.argv[1:] == ["remove-orphans"]:
    remove_orphans()
