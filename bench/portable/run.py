#!/usr/bin/python3
"""Portable build vs native build of the hand-written hot loops, in one run.

    bench/portable/run.py BUILD [IMAGES] [ROUNDS]

Runs bench-portable-portable and bench-portable-native ROUNDS times each,
interleaved, and prints the best CPU time per image of each and the ratio
(portable / native; the issue's target is within 3 %)."""
import json
import os
import subprocess
import sys


def once(build, variant, images):
    out = subprocess.run([os.path.join(build, "bin", "bench-portable-" + variant),
                          str(images)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main():
    build = sys.argv[1]
    images = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    best = {}
    sums = set()
    for _ in range(rounds):
        for variant in ("portable", "native"):
            r = once(build, variant, images)
            sums.add(r["checksum"])
            best[variant] = min(best.get(variant, 1e9), r["cpu_seconds"] / images)
    if len(sums) != 1:
        sys.exit("the variants disagree: checksums %s" % sorted(sums))
    print("uptime:%s" % subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    for variant in ("portable", "native"):
        print("%-9s %8.1f us per image (resize to 224x224 + preprocessing, best of %d)"
              % (variant, best[variant] * 1e6, rounds))
    print("portable / native = %.3f" % (best["portable"] / best["native"]))


if __name__ == "__main__":
    main()
