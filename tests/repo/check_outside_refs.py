"""Fails when a file of the repository refers to a document outside it.

    check_outside_refs.py SOURCE_DIR

The repository must be readable on its own: the design is docs/architecture.md,
the platform facts docs/platform.md.  Scanned: the files git tracks (or, in a
tree without git metadata, every file but build output and node_modules).
Flagged: the parent-directory path of the notes the project started from, and
those notes' names.  The patterns are built from pieces so this file does not
flag itself.  Before scanning, the scanner is run on a planted file to show it
finds what it must.
"""
import os
import subprocess
import sys
import tempfile

PATTERNS = ["../" + "shared", "ARCHITECTURE" + ".md", "PLATFORM" + ".md"]
SKIP_DIRS = {".git", "node_modules", "__pycache__"}


def files_of(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                             capture_output=True).stdout
        return [os.path.join(root, f) for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        found = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith("build")]
            found += [os.path.join(d, n) for n in names]
        return found


def findings(root, paths):
    out = []
    for path in paths:
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue  # binary
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            for p in PATTERNS:
                if p in line:
                    out.append(f"{os.path.relpath(path, root)}:{n}: refers to {p}: {line.strip()}")
    return out


def main():
    root = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        planted = os.path.join(d, "planted.c")
        with open(planted, "w") as f:
            f.write("/* see " + PATTERNS[2] + " */\n")
        if len(findings(d, [planted])) != 1:
            sys.exit("the scanner did not flag a planted reference")
    paths = files_of(root)
    if len(paths) < 100:
        sys.exit(f"only {len(paths)} files found under {root}: nothing real was scanned")
    bad = findings(root, paths)
    for b in bad:
        print(b)
    print(f"{len(paths)} files scanned, {len(bad)} outside references")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
