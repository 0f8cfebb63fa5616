"""Installs the build into a temporary prefix and lists the dynamic symbols
every installed shared library and plugin defines (nm -D --defined-only).

    check_exports.py CMAKE BUILD_DIR

Allowed: libflowrun*.so exports its public API (fr_*, flowrun_*) only; a
plugin (<libdir>/flowrun/plugins/*.so) exports flowrun_plugin only; any
other installed library fr_* or flowrun_* only.  Anything else (an engine
internal such as buffer_new, a static library's function) fails the test,
named with its file.  Without any library or plugin found, it fails too.
"""
import os
import re
import subprocess
import sys
import tempfile

PUBLIC = re.compile(r"^(fr_|flowrun_)")


def defined_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True,
                         capture_output=True, text=True).stdout
    # "ADDRESS TYPE NAME"; NAME may carry @VERSION.
    return sorted(line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip())


def unexpected(path, symbols):
    if os.sep + os.path.join("flowrun", "plugins") + os.sep in path:
        return [s for s in symbols if s != "flowrun_plugin"]
    return [s for s in symbols if not PUBLIC.match(s)]


def self_check():
    """The filter flags what it must: an internal in a library, a static
    library's function in a plugin (as libflowrun exported 117 before)."""
    plugin = os.path.join("lib", "flowrun", "plugins", "x.so")
    assert unexpected(plugin, ["flowrun_plugin", "s3_get"]) == ["s3_get"]
    assert unexpected(os.path.join("lib", "libflowrun.so"), ["flowrun_main", "buffer_new"]) == \
        ["buffer_new"]


def main():
    self_check()
    cmake, build = sys.argv[1], sys.argv[2]
    failures, libraries, plugins = [], 0, 0
    with tempfile.TemporaryDirectory() as prefix:
        subprocess.run([cmake, "--install", build, "--prefix", prefix], check=True,
                       stdout=subprocess.DEVNULL)
        for root, _, names in os.walk(prefix):
            for name in sorted(names):
                path = os.path.join(root, name)
                if os.path.islink(path) or not re.search(r"\.so(\.[0-9.]+)?$", name):
                    continue
                symbols = defined_symbols(path)
                bad = unexpected(path, symbols)
                rel = os.path.relpath(path, prefix)
                if "flowrun_plugin" in symbols:
                    plugins += 1
                else:
                    libraries += 1
                print(f"{rel}: {len(symbols)} exported" + (f", {len(bad)} not allowed" if bad else ""))
                if bad:
                    failures.append(f"{rel} exports {', '.join(bad[:20])}"
                                    + (f" and {len(bad) - 20} more" if len(bad) > 20 else ""))
    if not libraries or not plugins:
        failures.append(f"found {libraries} libraries and {plugins} plugins: nothing checked")
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
