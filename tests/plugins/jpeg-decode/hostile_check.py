#!/usr/bin/python3
"""jpeg-decode on the hostile corpus of tools/make-bad-images: every file
ends as its name says (decoded, or refused with the named reason), none
crashes the stage, and the counts add up.  Then with warnings=pass the
truncated files decode instead.

    hostile_check.py MAKE_BAD_IMAGES DECODE_FILES
"""
import os
import subprocess
import sys
import tempfile

from decode_results import decode_results


def outcomes(driver, files, config=()):
    """[(file, "OK" or "REJECT <reason>")] from the decode-files driver."""
    return [(os.path.basename(f), "OK" if px else line)
            for f, (line, px) in zip(files, decode_results(driver, files, config))]


def expected(name):
    """("OK", None) or ("REJECT", reason prefix) from the file name."""
    outcome = name.split("--", 1)[0]
    if outcome == "ok":
        return "OK", None
    return "REJECT", outcome[len("reject-"):].replace("-", " ")


def main():
    make_bad, driver = sys.argv[1], sys.argv[2]
    failures, counts = [], {"OK": 0, "REJECT": 0}
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([make_bad, d], check=True)
        files = sorted(os.path.join(d, f) for f in os.listdir(d))
        if not files:
            sys.exit(f"{make_bad} wrote no file: nothing would be checked")
        for name, got in outcomes(driver, files):
            kind, reason = expected(name)
            counts[got.split(" ", 1)[0]] += 1
            if kind == "OK" and got != "OK":
                failures.append(f"{name}: expected to decode, got {got}")
            elif kind == "REJECT" and not got.lower().startswith(f"reject {reason.lower()}"):
                failures.append(f"{name}: expected a reason starting with '{reason}', got {got}")
            print(f"{name}: {got}")
        n_ok = sum(expected(os.path.basename(f))[0] == "OK" for f in files)
        if counts["OK"] + counts["REJECT"] != len(files) or counts["OK"] != n_ok:
            failures.append(f"counts do not add up: {counts} for {len(files)} files")
        truncated = [f for f in files if "truncated" in f]
        if not truncated:
            failures.append("no truncated file in the corpus: warnings=pass is not checked")
        for name, got in outcomes(driver, truncated, ["warnings=pass"]):
            if got != "OK":
                failures.append(f"warnings=pass: {name}: expected to decode, got {got}")
    print(f"{len(files)} files: {counts['OK']} decoded, {counts['REJECT']} rejected")
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
