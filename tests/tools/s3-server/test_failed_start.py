"""A failed tools/s3-server/start leaves nothing running: here radosgw fails
to start (a radosgw that exits 1 comes first on PATH) after the real ceph-mon
and ceph-osd started; start must exit non-zero, name what failed, and stop
the mon and the OSD it started (no process left with the server's directory
in its command line)."""
import os
import subprocess
import sys
import tempfile


def processes_using(path):
    """pid -> command line of every process whose command line names path."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        if path in cmdline and int(pid) != os.getpid():
            found[int(pid)] = cmdline
    return found


start = os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tools/s3-server/start")
with tempfile.TemporaryDirectory(prefix="s3-failed-start-") as tmp:
    fake_bin = os.path.join(tmp, "bin")
    os.mkdir(fake_bin)
    with open(os.path.join(fake_bin, "radosgw"), "w") as f:
        f.write("#!/bin/sh\necho 'radosgw: injected failure' >&2\nexit 1\n")
    os.chmod(os.path.join(fake_bin, "radosgw"), 0o755)
    server_dir = os.path.join(tmp, "server")
    env = dict(os.environ, PATH=fake_bin + ":" + os.environ["PATH"])
    run = subprocess.run([start, server_dir], env=env, capture_output=True, text=True,
                         timeout=240)
    assert run.returncode != 0, run
    assert "radosgw did not start" in run.stderr, run.stderr
    assert not os.path.exists(os.path.join(server_dir, "endpoint"))
    # the mon and the OSD did run: their logs exist
    logs = os.listdir(os.path.join(server_dir, "log"))
    assert "mon.a.log" in logs and any(n.startswith("osd.") for n in logs), logs
    left = processes_using(server_dir)
    assert not left, f"left running after a failed start: {left}"
print("ok: a failed start stopped the mon and the OSD")
