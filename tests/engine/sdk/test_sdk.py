"""The plugin SDK from the outside, as a third party uses it.

flowrun is installed into a temporary prefix (cmake --install); from there
only, examples/custom-plugin is built out of tree with find_package(flowrun)
and with pkg-config, its harness test runs, and its pipeline

    dir-source -> jpeg-decode -> brightness-filter -> csv-sink

runs through the installed flowrun with FLOWRUN_PLUGIN_PATH: every image is
delivered or dead-lettered exactly as its mean luma, computed here with
Pillow and numpy from the same JPEG, says.  `flowrun new-plugin` writes a
skeleton that builds against the same prefix and passes its own test.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
from PIL import Image

BUILD = os.environ["FLOWRUN_BUILD_DIR"]
SOURCE = os.environ["FLOWRUN_SOURCE_DIR"]
SANITIZE = os.environ.get("FLOWRUN_SANITIZE") == "1"
EXAMPLE = os.path.join(SOURCE, "examples", "custom-plugin")
# The installed libraries are instrumented in a sanitizer build: whatever
# links them must load the sanitizer runtimes first.
SAN_FLAGS = "-fsanitize=address,undefined -fno-omit-frame-pointer" if SANITIZE else ""
STRICT = "-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror"


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


BT601 = np.array([0.299, 0.587, 0.114])


def mean_luma(path, weights=BT601):
    """ITU-R BT.601 luma of the decoded image, the reference for the filter."""
    px = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    return float((px @ weights).mean())


class Sdk(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="flowrun-sdk-")
        cls.prefix = os.path.join(cls.tmp, "prefix with space")
        run(["cmake", "--install", BUILD, "--prefix", cls.prefix])
        cls.flowrun = os.path.join(cls.prefix, "bin", "flowrun")
        # The example, built out of tree: nothing but the prefix is given.
        cls.example_build = os.path.join(cls.tmp, "example-build")
        cls.cmake_build(EXAMPLE, cls.example_build)
        cls.plugin_dir = cls.example_build

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def cmake_build(cls, src, build):
        run(["cmake", "-S", src, "-B", build, f"-DCMAKE_PREFIX_PATH={cls.prefix}",
             f"-DCMAKE_C_FLAGS={STRICT} {SAN_FLAGS}", "-DCMAKE_BUILD_TYPE=Debug"],
            env={**os.environ, "CMAKE_PREFIX_PATH": ""})
        run(["cmake", "--build", build, "-j2"])

    def test_installed_layout(self):
        for rel in ["include/flowrun/plugin.h", "include/flowrun/record.h",
                    "include/flowrun/harness.h", "include/flowrun/wire.h",
                    "lib/libflowrun-harness.so", "lib/pkgconfig/flowrun-plugin.pc",
                    "lib/cmake/flowrun/flowrun-config.cmake",
                    "lib/flowrun/plugins/jpeg-decode.so"]:
            self.assertTrue(os.path.exists(os.path.join(self.prefix, rel)), rel)
        # No path into the build or source tree leaks into the package files.
        for rel in ["lib/pkgconfig/flowrun-plugin.pc", "lib/cmake/flowrun/flowrun-config.cmake"]:
            with open(os.path.join(self.prefix, rel)) as f:
                text = f.read()
            self.assertNotIn(BUILD, text)
            self.assertNotIn(SOURCE, text)
            self.assertNotIn(self.prefix, text)  # relocatable: relative to the file

    def test_example_harness_test_cmake(self):
        proc = run(["ctest", "--test-dir", self.example_build, "--output-on-failure"])
        self.assertIn("100% tests passed", proc.stdout)

    def test_example_harness_test_pkg_config(self):
        # The Makefile, after moving the installed tree: paths are relative.
        moved = os.path.join(self.tmp, "moved-prefix")
        shutil.copytree(self.prefix, moved, symlinks=True)
        src = os.path.join(self.tmp, "example-make")
        shutil.copytree(EXAMPLE, src)
        env = {**os.environ, "PKG_CONFIG_PATH": os.path.join(moved, "lib", "pkgconfig")}
        self.assertEqual(run(["pkg-config", "--variable=plugindir", "flowrun-plugin"],
                             env=env).stdout.strip(),
                         os.path.join(moved, "lib", "pkgconfig", "..", "..", "lib", "flowrun",
                                      "plugins"))
        proc = run(["make", "-C", src, f"CFLAGS=-g {STRICT} {SAN_FLAGS}", "check"], env=env)
        self.assertIn("brightness-filter: all checks passed", proc.stdout)

    def plugin_env(self, **extra):
        return {**os.environ, "FLOWRUN_PLUGIN_PATH": self.plugin_dir, **extra}

    def test_plugins_and_describe_show_it_like_a_builtin(self):
        listing = run([self.flowrun, "plugins"], env=self.plugin_env()).stdout
        line = [l for l in listing.splitlines() if l.startswith("brightness-filter ")]
        self.assertEqual(len(line), 1, listing)
        self.assertRegex(line[0], r"^brightness-filter +1\.\d+ +Reject over- and under-exposed")
        builtin = [l for l in listing.splitlines() if l.startswith("jpeg-decode ")][0]
        abi = re.search(r" (1\.\d+) ", builtin).group(1)
        self.assertEqual(line[0].index(abi), builtin.index(abi))  # same columns

        text = run([self.flowrun, "describe", "brightness-filter"], env=self.plugin_env()).stdout
        for want in ["input:  image/u8[h,w,3]", "output: image/u8[h,w,3]",
                     "min (float, default 40)", "max (float, default 215)",
                     "rejected as over-exposed", f"plugin ABI {abi}, version 1.0"]:
            self.assertIn(want, text)

    def test_pipeline(self):
        images = os.path.join(self.tmp, "images")
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        os.makedirs(images)
        # Real photographs-like content: make-fruits (installed with the
        # SDK), plus noisy plain images darker and brighter than the bounds,
        # all 100x100 (csv-sink's rows all have the first record's width).
        run([os.path.join(self.prefix, "bin", "make-fruits"), "--count", "12", "--classes", "3",
             os.path.join(images, "fruits")])
        rng = np.random.default_rng(7)
        os.makedirs(os.path.join(images, "exposure"))
        for i, level in enumerate([5, 20, 35, 60, 128, 190, 225, 245, 252]):
            px = np.clip(rng.normal(level, 4, (100, 100, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(px).save(os.path.join(images, "exposure", f"level{i}.jpg"),
                                     quality=95)
        files = sorted(os.path.relpath(os.path.join(d, f), images)
                       for d, _, fs in os.walk(images) for f in fs)
        # make-fruits' images (seed 1) have mean lumas from 182 to 210 (white
        # backgrounds): a max of 198.5 passes some and rejects others.
        lo, hi = 40.0, 198.5
        luma = {f: mean_luma(os.path.join(images, f)) for f in files}
        # No image so close to a bound that rounding could decide it.
        self.assertTrue(all(abs(v - lo) > 0.5 and abs(v - hi) > 0.5 for v in luma.values()))
        want_dark = sorted(f for f in files if luma[f] < lo)
        want_bright = sorted(f for f in files if luma[f] > hi)
        want_ok = sorted(set(files) - set(want_dark) - set(want_bright))
        self.assertTrue(want_dark and want_bright and len(want_ok) >= 5, luma)

        env = self.plugin_env(IMAGES=images, OUT=out, MIN_LUMA=str(lo), MAX_LUMA=str(hi))
        proc = subprocess.run([self.flowrun, os.path.join(EXAMPLE, "exposure.yaml")],
                              capture_output=True, text=True, timeout=300, env=env)
        self.assertEqual(proc.returncode, 1, proc.stderr)  # completed, with dead letters

        with open(os.path.join(out, "dead.jsonl")) as f:
            dead = [json.loads(line) for line in f]
        self.assertEqual(sorted(d["key"] for d in dead), sorted(want_dark + want_bright))
        for d in dead:
            self.assertEqual((d["stage"], d["plugin"]), ("exposure", "brightness-filter"))
            v = luma[d["key"]]
            if d["key"] in want_dark:
                prefix = f"under-exposed: mean luma {v:.1f} is below min {lo:g}"
            else:
                prefix = f"over-exposed: mean luma {v:.1f} is above max {hi:g}"
            # The C filter sums in integers: allow the last digit to differ by one.
            self.assertEqual(d["reason"].split(" is ")[1], prefix.split(" is ")[1])
            got = float(d["reason"].split("mean luma ")[1].split(" ")[0])
            self.assertAlmostEqual(got, v, delta=0.051)
        # The comparison discriminates: a filter with R and B weights swapped
        # (a classic BGR mix-up) would be off by more than the tolerance.
        swapped = BT601[::-1]
        misses = [abs(float(d["reason"].split("mean luma ")[1].split(" ")[0]) -
                      mean_luma(os.path.join(images, d["key"]), swapped)) for d in dead]
        self.assertGreater(max(misses), 0.051)

        with open(os.path.join(out, "pixels.csv"), newline="") as f:
            rows = list(csv.reader(f))
        delivered = {r[0]: r for r in rows[1:]}
        self.assertEqual(sorted(delivered), want_ok)
        # Forwarded unchanged: the pixels are the decoded JPEG's, byte for byte.
        for key, row in delivered.items():
            px = np.asarray(Image.open(os.path.join(images, key)).convert("RGB"))
            self.assertEqual([int(float(v)) for v in row[2:]], px.reshape(-1).tolist(), key)

    def test_new_plugin_skeleton_builds_and_passes_its_test(self):
        where = os.path.join(self.tmp, "skeleton", "new stage")
        proc = run([self.flowrun, "new-plugin", "edge-0-filter", "--dir", where])
        self.assertEqual(sorted(os.listdir(where)),
                         ["CMakeLists.txt", "edge-0-filter.c", "test_edge_0_filter.c"])
        self.assertIn("ctest --test-dir", proc.stdout)
        build = os.path.join(self.tmp, "skeleton-build")
        # Unchanged, with the project's strictest warnings as errors.
        self.cmake_build(where, build)
        proc = run(["ctest", "--test-dir", build, "--output-on-failure"])
        self.assertIn("100% tests passed", proc.stdout)
        # The engine sees it like any plugin.
        text = run([self.flowrun, "describe", "edge-0-filter"],
                   env={**os.environ, "FLOWRUN_PLUGIN_PATH": build}).stdout
        self.assertIn("max_size (size, default 64MiB)", text)
        self.assertIn("input:  bytes/*", text)

        # Never overwrites, and refuses names the loader would refuse.
        again = subprocess.run([self.flowrun, "new-plugin", "edge-0-filter", "--dir", where],
                               capture_output=True, text=True)
        self.assertEqual(again.returncode, 2)
        self.assertIn("edge-0-filter.c exists; nothing written", again.stderr)
        for bad in ["Upper", "-x", "x-", "a_b", "a/b", ""]:
            r = subprocess.run([self.flowrun, "new-plugin", bad, "--dir",
                                os.path.join(self.tmp, "bad")], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, bad)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "bad")))


if __name__ == "__main__":
    unittest.main()
