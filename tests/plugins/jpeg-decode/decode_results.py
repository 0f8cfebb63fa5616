"""What the decode-files driver (decode_files.c) answers, read back for the
check scripts: per file, a line `OK H W` followed by H*W*3 bytes of RGB, or
a line `REJECT <reason>`."""
import subprocess
import sys


def decode_results(driver, files, config=()):
    """Runs the driver on files (with config's key=value arguments first):
    per file, in order, (line, pixels), pixels the H*W*3 RGB bytes after an
    OK line with (H, W), or None after a REJECT line.  Exits when the driver
    fails or writes other than one result per file."""
    out = subprocess.run([driver, *config, *files], capture_output=True, check=False)
    if out.returncode != 0:
        sys.exit(f"{driver} failed (exit {out.returncode}): {out.stderr.decode()}")
    data, pos, results = out.stdout, 0, []
    for _ in files:
        end = data.index(b"\n", pos)
        line = data[pos:end].decode()
        pos = end + 1
        pixels = None
        if line.startswith("OK "):
            _, h, w = line.split()
            pixels = (int(h), int(w), data[pos:pos + int(h) * int(w) * 3])
            pos += int(h) * int(w) * 3
        results.append((line, pixels))
    if pos != len(data):
        sys.exit(f"{driver} wrote more than one result per file")
    return results
