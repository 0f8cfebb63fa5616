"""What `cmake --install` installs runs on any x86-64-v3 host: no function
of libflowrun or of an installed plugin uses AVX-512 (zmm or mask
registers, xmm/ymm16-31) except the copies made for x86-64-v4 hosts
(plugins/lib/cpu/cpu.h), which are picked at load time; and the hot
kernels do have such copies."""
import glob
import os
import re
import subprocess
import unittest

BUILD = os.environ["FLOWRUN_BUILD_DIR"]
AVX512 = re.compile(r"%zmm\d|%k[1-7]\b|%[xy]mm(1[6-9]|2\d|3[01])\b")
FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")


def avx512_functions(path):
    """Names of the functions of an ELF file that use AVX-512 registers."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True,
                         text=True, check=True).stdout
    found, current = set(), None
    for line in out.splitlines():
        m = FUNCTION.match(line)
        if m:
            current = m.group(1)
        elif current and AVX512.search(line):
            found.add(current)
    return found


def installed_objects():
    plugins = glob.glob(os.path.join(BUILD, "lib", "flowrun", "plugins", "*.so"))
    libs = glob.glob(os.path.join(BUILD, "**", "libflowrun*.so"), recursive=True)
    return sorted(plugins + libs)


class Portable(unittest.TestCase):
    def test_no_avx512_outside_the_v4_copies(self):
        objects = installed_objects()
        self.assertGreater(len(objects), 5)
        for path in objects:
            stray = {f for f in avx512_functions(path) if not f.endswith(".arch_x86_64_v4")}
            # oneDNN and libjpeg dispatch at run time inside their own libraries,
            # which are not ours; only our objects are scanned.
            self.assertEqual(stray, set(), path)

    def test_hot_kernels_have_an_avx512_copy(self):
        for plugin, function in (("resize-224", "pil_vertical"),
                                 ("resize-224", "pil_horizontal"),
                                 ("resnet50-embed", "preprocess_image")):
            path = os.path.join(BUILD, "lib", "flowrun", "plugins", plugin + ".so")
            symbols = subprocess.run(["readelf", "-sW", path], capture_output=True, text=True,
                                     check=True).stdout
            self.assertIn(function + ".arch_x86_64_v4", symbols)
            self.assertRegex(symbols, r"IFUNC .* %s\n" % function)

    def test_the_check_catches_a_native_build(self):
        # The benchmark's native variant is compiled with -march=native: on
        # an AVX-512 host (every machine of this project) the check sees it.
        with open("/proc/cpuinfo") as f:
            has_avx512 = " avx512f " in f.read()
        native = os.path.join(BUILD, "bin", "bench-portable-native")
        stray = {f for f in avx512_functions(native) if not f.endswith(".arch_x86_64_v4")}
        self.assertEqual(bool(stray), has_avx512, sorted(stray)[:5])


if __name__ == "__main__":
    unittest.main()
