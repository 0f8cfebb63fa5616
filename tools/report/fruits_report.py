#!/usr/bin/python3
"""fruits_report.py OUT_DIR — what a person wants to see after tools/demo:
where the outputs are, the run's figures from summary.json, and a picture
(OUT_DIR/fruits.png): the first two principal components coloured by class,
and the cumulative explained variance of the components."""
import csv
import json
import os
import subprocess
import sys


def summary_lines(out, s):
    stages = s["stages"]
    pca = stages.get("pca", {}).get("pca", {})
    ratio = pca.get("explained_variance_ratio", [])
    embed = stages.get("embed", {})
    wall = s["wall_seconds"]
    yield "outputs:      %s/features.csv, %s/features.parquet" % (out, out)
    yield "images in:    %d (rows out: %d, dead letters: %d in %s)" % (
        s["records_in"], stages["csv"].get("committed", 0), s["dead_letters"],
        s["dead_letters_file"])
    yield "wall time:    %.1f s, %.1f images/s end to end" % (wall, s["records_in"] / wall)
    if embed.get("busy_seconds"):
        yield "ResNet50:     %.1f images/s while busy (%s)" % (
            embed["records_in"] / embed["busy_seconds"], "the stage that sets the pace")
    if ratio:
        yield "PCA:          %d components explain %.1f %% of the variance (first: %.1f %%)" % (
            len(ratio), 100 * sum(ratio), 100 * ratio[0])


def plot(out, s):
    ratio = s["stages"]["pca"]["pca"]["explained_variance_ratio"]
    labels, points = {}, os.path.join(out, "pc12.dat")
    with open(os.path.join(out, "features.csv")) as f, open(points, "w") as dat:
        for row in csv.DictReader(f):
            index = labels.setdefault(row["label"], len(labels))
            dat.write("%s %s %d\n" % (row["c0"], row["c1"], index))
    curve = os.path.join(out, "variance.dat")
    with open(curve, "w") as dat:
        total = 0
        for k, r in enumerate(ratio, 1):
            total += r
            dat.write("%d %.6f\n" % (k, 100 * total))
    png = os.path.join(out, "fruits.png")
    script = f"""
set terminal pngcairo size 1400,600 font ",11"
set output "{png}"
set multiplot layout 1,2 title "flowrun: Fruits-360-like images, ResNet50 features, PCA"
set title "first two principal components ({len(labels)} classes, one colour each)"
set xlabel "PC1"; set ylabel "PC2"; unset key
set palette model HSV defined (0 0 0.9 0.9, 1 1 0.9 0.9)
unset colorbox
plot "{points}" using 1:2:3 with points pt 7 ps 0.6 palette
set title "cumulative explained variance"
set xlabel "components"; set ylabel "% of variance"; set yrange [0:100]; set grid
plot "{curve}" using 1:2 with lines lw 2
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return png


def main():
    out = sys.argv[1]
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    for line in summary_lines(out, s):
        print(line)
    print("picture:      %s" % plot(out, s))


if __name__ == "__main__":
    main()
