"""make-resnet50 writes valid, deterministic ResNet50 models with the
structure of each variant, whose features (evaluated independently by
onnx_torch.py on PyTorch) are finite, O(1) and differ between images, and
identical with BN kept or folded and with or without the classifier head.
A model with its conv biases dropped must fail the same comparison, so the
comparison is shown to discriminate.

usage: test_make_resnet50.py PATH/TO/make-resnet50
"""
import filecmp
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper
import torch

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/resnet50-embed"))
import onnx_torch  # noqa: E402

TOOL = sys.argv[1]
KERAS_WEIGHTS_WITHOUT_TOP = 23587712
N_IMAGES = 8


def make(tmp, name, *args):
    path = os.path.join(tmp, name)
    subprocess.run([TOOL, *args, path], check=True, capture_output=True)
    return path


def ops(model):
    return [n.op_type for n in model.graph.node]


def node(model, name):
    return [n for n in model.graph.node if n.name == name][0]


def attr(n, name):
    return [onnx.helper.get_attribute_value(a) for a in n.attribute if a.name == name][0]


def in_shape(model):
    return [d.dim_value if d.HasField("dim_value") else -1
            for d in model.graph.input[0].type.tensor_type.shape.dim]


def check_keras(m):
    assert in_shape(m) == [-1, 224, 224, 3], in_shape(m)
    assert m.graph.node[0].op_type == "Transpose" and attr(m.graph.node[0], "perm") == [0, 3, 1, 2]
    assert ops(m).count("Pad") == 2 and "ReduceMean" in ops(m), ops(m)
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    assert len(convs) == 53 and all(len(c.input) == 3 for c in convs)
    assert attr(node(m, "conv1_conv"), "pads") == [0, 0, 0, 0]
    assert attr(node(m, "conv3_block1_1_conv"), "strides") == [2, 2]
    assert attr(node(m, "conv3_block1_2_conv"), "strides") == [1, 1]
    for bn in (n for n in m.graph.node if n.op_type == "BatchNormalization"):
        assert abs(attr(bn, "epsilon") - 1.001e-5) < 1e-10


def check_torchvision(m):
    assert in_shape(m) == [-1, 3, 224, 224], in_shape(m)
    assert "Pad" not in ops(m) and "Transpose" not in ops(m)
    assert "GlobalAveragePool" in ops(m) and "Flatten" in ops(m)
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    kept = "BatchNormalization" in ops(m)  # folding gives every conv a bias
    assert len(convs) == 53 and all(len(c.input) == (2 if kept else 3) for c in convs)
    assert attr(node(m, "conv1_conv"), "pads") == [3, 3, 3, 3]
    assert attr(node(m, "pool1_pool"), "pads") == [1, 1, 1, 1]
    assert attr(node(m, "conv3_block1_1_conv"), "strides") == [1, 1]
    assert attr(node(m, "conv3_block1_2_conv"), "strides") == [2, 2]


def weight_count(m):
    return sum(int(np.prod(t.dims)) for t in m.graph.initializer
               if t.data_type == onnx.TensorProto.FLOAT)


def cosines(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def same_features(a, b):
    return cosines(a, b).min() >= 0.99999 and np.abs(a - b).max() <= 1e-4 * np.abs(a).max()


def check_features(f):
    assert np.isfinite(f).all()
    rms = np.sqrt((f ** 2).mean())
    assert 0.1 < rms < 10, "features not O(1): rms %g" % rms
    spread = f.std(0).mean() / rms
    assert spread > 0.1, "features barely depend on the image: %g" % spread
    assert cosines(f[:1], f[1:]).min() < 0.98, "all images give the same direction"


def main():
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        fruits = os.path.join(tmp, "fruits.u8")
        subprocess.run([TOOL, "--fruits", fruits, "--count", str(N_IMAGES), "--seed", "3"],
                       check=True)
        images = np.fromfile(fruits, np.uint8).reshape(N_IMAGES, 224, 224, 3)
        for variant, pre, check in (("keras", "keras", check_keras),
                                    ("torchvision", "torch", check_torchvision)):
            kept = make(tmp, variant + "-kept.onnx", "--variant", variant, "--seed", "7")
            again = make(tmp, variant + "-again.onnx", "--variant", variant, "--seed", "7")
            other = make(tmp, variant + "-other.onnx", "--variant", variant, "--seed", "8")
            folded = make(tmp, variant + "-folded.onnx", "--variant", variant, "--seed", "7",
                          "--bn", "folded")
            assert filecmp.cmp(kept, again, shallow=False), "same seed, different bytes"
            assert not filecmp.cmp(kept, other, shallow=False), "seed ignored"

            mk, mf = onnx.load(kept), onnx.load(folded)
            for m in (mk, mf):
                onnx.checker.check_model(m, full_check=True)
                check(m)
            assert ops(mk).count("BatchNormalization") == 53
            assert "BatchNormalization" not in ops(mf)
            if variant == "keras":
                assert weight_count(mk) == KERAS_WEIGHTS_WITHOUT_TOP, weight_count(mk)

            fk = onnx_torch.features(onnx_torch.Model(kept), images, pre)
            ff = onnx_torch.features(onnx_torch.Model(folded), images, pre)
            check_features(fk)
            assert same_features(fk, ff), "BN kept and folded differ: cos %g" % cosines(fk, ff).min()

            if variant == "keras":
                # The comparison discriminates: dropping the conv biases must fail it.
                for t in mk.graph.initializer:
                    if t.name.endswith("_conv_b"):
                        t.CopyFrom(onnx.numpy_helper.from_array(
                            np.zeros(t.dims, np.float32), t.name))
                nobias = os.path.join(tmp, "nobias.onnx")
                onnx.save(mk, nobias)
                fb = onnx_torch.features(onnx_torch.Model(nobias), images, pre)
                assert not same_features(fk, fb), "dropped biases went unnoticed"
                print("keras: bias dropped gives cos %.3f" % cosines(fk, fb).min())

                head = make(tmp, "keras-head.onnx", "--variant", variant, "--seed", "7",
                            "--head")
                mh = onnx_torch.Model(head)
                assert mh.output_names == ["logits"]
                assert "features" not in [o.name for o in mh.proto.graph.output]
                fh = onnx_torch.features(mh, images, pre, output="features")
                assert same_features(fk, fh), "the head changed the backbone"
                logits = onnx_torch.features(mh, images[:2], pre)
                assert logits.shape == (2, 1000) and np.isfinite(logits).all()
            print("%s: rms %.3f, min cos between images %.3f" % (
                variant, np.sqrt((fk ** 2).mean()), cosines(fk[:1], fk[1:]).min()))


if __name__ == "__main__":
    main()
