"""flowrun-onnx reads what torch.onnx writes, and python3-onnx reads what
flowrun-onnx writes.

A small network using the operators of ResNet-style models (Conv with and
without bias, BatchNormalization kept, Relu, MaxPool with padding, Add,
GlobalAveragePool, a Shape/Gather/Concat/Reshape chain with Constant nodes,
Gemm) is exported by torch.onnx; onnx-dump (flowrun-onnx) and python3-onnx
must print it identically, and the model onnx-dump saves back must pass the
ONNX checker and print identically again.  A model with one changed weight
must print differently, so the comparison is shown to see data.

usage: test_torch_export.py PATH/TO/onnx-dump
"""
import os
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import onnx
import onnx.numpy_helper
import torch
from torch import nn


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(8, eps=1.001e-5)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = torch.relu(x + self.bn2(self.conv2(x)))
        x = self.gap(x)
        return self.fc(x.reshape(x.shape[0], -1))


def shape_of(vi):
    t = vi.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
    return " %d [%s]" % (t.elem_type, ",".join(str(d) for d in dims))


def tensor_text(t):
    arr = np.ascontiguousarray(onnx.numpy_helper.to_array(t))
    return " %d [%s] crc=%08x" % (t.data_type, ",".join(str(d) for d in t.dims),
                                  zlib.crc32(arr.tobytes()))


def attr_text(a):
    if a.type == onnx.AttributeProto.INT:
        v = str(a.i)
    elif a.type == onnx.AttributeProto.FLOAT:
        v = "%.9g" % a.f
    elif a.type == onnx.AttributeProto.STRING:
        v = a.s.decode()
    elif a.type == onnx.AttributeProto.INTS:
        v = ",".join(str(i) for i in a.ints)
    elif a.type == onnx.AttributeProto.FLOATS:
        v = ",".join("%.9g" % f for f in a.floats)
    elif a.type == onnx.AttributeProto.TENSOR:
        v = tensor_text(a.t)
    else:
        raise ValueError("attribute type %d" % a.type)
    return "  attr %s %d %s" % (a.name, a.type, v)


def python_dump(path):
    """The model as onnx-dump prints it, read by python3-onnx."""
    m = onnx.load(path)
    g = m.graph
    opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0]
    inits = {t.name for t in g.initializer}
    lines = ["opset %d" % opset]
    lines += ["input %s%s" % (i.name, shape_of(i)) for i in g.input if i.name not in inits]
    lines += ["output %s%s" % (o.name, shape_of(o)) for o in g.output]
    lines += ["init %s%s" % (t.name, tensor_text(t)) for t in g.initializer]
    for n in g.node:
        lines.append("node %s %s %s in=%s out=%s" % (n.op_type, n.name, n.domain,
                                                   ",".join(n.input), ",".join(n.output)))
        lines += [attr_text(a) for a in n.attribute]
    return "\n".join(lines) + "\n"


def c_dump(tool, path, *args):
    return subprocess.run([tool, path, *args], check=True, capture_output=True, text=True).stdout


def export(path):
    torch.manual_seed(0)
    model = Small().eval()
    torch.onnx.export(model, torch.randn(2, 3, 32, 32), path, opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})


def main():
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        exported = os.path.join(tmp, "small.onnx")
        export(exported)
        want = python_dump(exported)
        got = c_dump(tool, exported)
        assert got == want, "flowrun-onnx and python3-onnx differ:\n%s\n---\n%s" % (got, want)

        ops = [line.split()[1] for line in got.splitlines() if line.startswith("node ")]
        for op in ("Conv", "BatchNormalization", "Relu", "MaxPool", "Add",
                   "GlobalAveragePool", "Reshape", "Gemm", "Constant"):
            assert op in ops, "%s missing from %s" % (op, ops)
        assert ops.count("BatchNormalization") == 2 and ops.count("Conv") == 2, ops
        assert "input image 1 [-1,3,32,32]" in got, got

        resaved = os.path.join(tmp, "resaved.onnx")
        c_dump(tool, exported, "--save", resaved)
        onnx.checker.check_model(onnx.load(resaved), full_check=True)
        assert python_dump(resaved) == want, "re-saved model differs"

        # The comparison sees weights: one changed value changes the dump.
        m = onnx.load(exported)
        w = onnx.numpy_helper.to_array(m.graph.initializer[0]).copy()
        w.flat[0] += 1
        m.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(w, m.graph.initializer[0].name))
        changed = os.path.join(tmp, "changed.onnx")
        onnx.save(m, changed)
        assert c_dump(tool, changed) != want, "a changed weight went unnoticed"
    print("ok: %d nodes compared" % len(ops))


if __name__ == "__main__":
    main()
