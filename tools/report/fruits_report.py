#!/usr/bin/python3
"""fruits_report.py OUT_DIR — what a person wants to see after tools/demo:
where the outputs are, the run's figures from summary.json, and a picture
(OUT_DIR/fruits.png): the first two principal components, with up to ten
classes far apart in colour, named in a legend and at their centre (the
others grey), and the cumulative explained variance of the components."""
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


# Colours a person can tell apart (ColorBrewer Dark2 and Set1), one per labelled class.
COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
           "#e41a1c", "#377eb8", "#222222"]


def read_points(out):
    """{label: [(pc1, pc2), ...]} from the CSV, in the order labels first appear."""
    points = {}
    with open(os.path.join(out, "features.csv")) as f:
        for row in csv.DictReader(f):
            points.setdefault(row["label"], []).append((float(row["c0"]), float(row["c1"])))
    return points


def centroid(xy):
    return (sum(x for x, _ in xy) / len(xy), sum(y for _, y in xy) / len(xy))


def spread_out(points, k):
    """k labels whose centroids lie far apart (greedy farthest point, starting
    from the one farthest from the overall centre): their clusters and labels
    do not overlap, so each colour in the legend can be found in the plot."""
    centres = {label: centroid(xy) for label, xy in points.items()}
    if len(centres) <= k:
        return sorted(centres)
    cx, cy = centroid(list(centres.values()))

    def dist2(a, b):
        return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2

    chosen = [max(sorted(centres), key=lambda l: dist2(centres[l], (cx, cy)))]
    while len(chosen) < k:
        rest = [l for l in sorted(centres) if l not in chosen]
        chosen.append(max(rest, key=lambda l: min(dist2(centres[l], centres[c]) for c in chosen)))
    return sorted(chosen)


def quoted(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def plot(out, s):
    ratio = s["stages"]["pca"]["pca"]["explained_variance_ratio"]
    points = read_points(out)
    labelled = spread_out(points, len(COLOURS))
    others = [label for label in points if label not in labelled]
    dat = os.path.join(out, "pc12.dat")
    with open(dat, "w") as f:  # PC1 PC2 group: 0 the other classes, i the i-th labelled one
        for label, xy in points.items():
            group = labelled.index(label) + 1 if label in labelled else 0
            f.writelines("%r %r %d\n" % (x, y, group) for x, y in xy)
    curve = os.path.join(out, "variance.dat")
    with open(curve, "w") as f:
        total = 0
        for k, r in enumerate(ratio, 1):
            total += r
            f.write("%d %.6f\n" % (k, 100 * total))
    clauses, labels = [], []
    if others:
        clauses.append('"%s" using 1:($3 == 0 ? $2 : NaN) with points pt 7 ps 0.5 '
                       'lc rgb "#c8c8c8" title "the %d other classes"' % (dat, len(others)))
    for i, label in enumerate(labelled, 1):
        colour = COLOURS[i - 1]
        clauses.append('"%s" using 1:($3 == %d ? $2 : NaN) with points pt 7 ps 0.7 '
                       'lc rgb "%s" title %s' % (dat, i, colour, quoted(label)))
        x, y = centroid(points[label])
        labels.append('set label %d %s at %r,%r center front boxed tc rgb "%s" font ",10"'
                      % (i, quoted(label), x, y, colour))
    if others:
        title = ("first two principal components: %d of %d classes in colour"
                 % (len(labelled), len(points)))
    else:
        title = "first two principal components: %d classes" % len(points)
    png = os.path.join(out, "fruits.png")
    script = "\n".join([
        'set terminal pngcairo size 1600,700 font ",11"',
        "set output %s" % quoted(png),
        'set multiplot title "flowrun: Fruits-360-like images, ResNet50 features, PCA"',
        "set origin 0,0; set size 0.64,0.94",  # the scatter and its legend get the room
        "set title %s" % quoted(title),
        'set xlabel "PC1"; set ylabel "PC2"',
        "set key outside right top box opaque",
        "set style textbox opaque noborder",
        *labels,
        "plot " + ", ".join(clauses),
        "unset label; unset key",
        "set origin 0.64,0; set size 0.36,0.94",
        'set title "cumulative explained variance"',
        'set xlabel "components"; set ylabel "% of variance"; set yrange [0:100]; set grid',
        'plot "%s" using 1:2 with lines lw 2 lc rgb "#377eb8" notitle' % curve,
        "unset multiplot", ""])
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
