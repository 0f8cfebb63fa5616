#!/usr/bin/python3
"""onnx_torch — an independent ONNX evaluator on torch.nn.functional.

Reads a model with python3-onnx and runs its nodes one by one with PyTorch
(Debian's python3-torch), in float32 or float64.  It shares no code with
flowrun's C path, so agreement between the two is evidence, not tautology.

As a module:
    model = onnx_torch.Model("m.onnx")
    feats = model.run(x, output="features")   # x: torch tensor in the model's input layout

As a CLI (raw uint8 RGB images, N x SIZE x SIZE x 3, row-major, back to back):
    onnx_torch.py MODEL --preprocess keras|torch|none --input images.u8 --count N
                  [--size 224] --output feats.f32 [--output-name NAME] [--double]
                  [--threads T]
writes N x F float32 features (little-endian, row-major).  Preprocessing:
keras = RGB->BGR minus the ImageNet means [103.939, 116.779, 123.68], no
scaling (Keras' "caffe" preprocess_input); torch = /255 then ImageNet
mean/std; none = the pixel values as floats.  The image batch is given to
the model as NHWC if its input's last dimension is 3, else as NCHW.
"""
import argparse
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F

KERAS_MEAN_BGR = [103.939, 116.779, 123.68]
TORCH_MEAN = [0.485, 0.456, 0.406]
TORCH_STD = [0.229, 0.224, 0.225]


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _spatial_pad(x, pads, value=0.0):
    """ONNX pads [b1, b2, ..., e1, e2] over the spatial dims of NCHW x."""
    n = len(pads) // 2
    if not any(pads):
        return x
    tp = []
    for i in reversed(range(n)):  # F.pad wants the last dim first
        tp += [pads[i], pads[i + n]]
    return F.pad(x, tp, value=value)


def _check_auto_pad(a, node):
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ValueError("node %s: auto_pad %s not supported" % (node.name, a["auto_pad"]))


def op_conv(node, ins, a):
    _check_auto_pad(a, node)
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    k = w.dim() - 2
    x = _spatial_pad(x, a.get("pads", [0] * 2 * k))
    return F.conv2d(x, w, b, stride=a.get("strides", [1] * k),
                    dilation=a.get("dilations", [1] * k), groups=a.get("group", 1))


def op_batchnorm(node, ins, a):
    x, scale, bias, mean, var = ins[:5]
    return F.batch_norm(x, mean, var, scale, bias, training=False,
                        eps=a.get("epsilon", 1e-5))


def op_maxpool(node, ins, a):
    _check_auto_pad(a, node)
    k = a["kernel_shape"]
    x = _spatial_pad(ins[0], a.get("pads", [0] * 2 * len(k)), value=float("-inf"))
    return F.max_pool2d(x, k, stride=a.get("strides", [1] * len(k)),
                        ceil_mode=bool(a.get("ceil_mode", 0)))


def op_avgpool(node, ins, a):
    _check_auto_pad(a, node)
    k = a["kernel_shape"]
    pads = a.get("pads", [0] * 2 * len(k))
    x = ins[0]
    if a.get("count_include_pad", 0):
        x = _spatial_pad(x, pads)
        pads = [0] * len(pads)
    elif any(pads):
        # Exclude padding from the count: average of the values over the
        # average of a ones-mask padded the same way.
        ones = torch.ones_like(x[:1, :1])
        num = F.avg_pool2d(_spatial_pad(x, pads), k, stride=a.get("strides", [1] * len(k)),
                           ceil_mode=bool(a.get("ceil_mode", 0)))
        den = F.avg_pool2d(_spatial_pad(ones, pads), k, stride=a.get("strides", [1] * len(k)),
                           ceil_mode=bool(a.get("ceil_mode", 0)))
        return num / den
    return F.avg_pool2d(x, k, stride=a.get("strides", [1] * len(k)),
                        ceil_mode=bool(a.get("ceil_mode", 0)))


def op_reduce_mean(node, ins, a):
    axes = a.get("axes")
    if axes is None and len(ins) > 1 and ins[1] is not None:
        axes = [int(v) for v in ins[1].tolist()]
    if axes is None:
        axes = list(range(ins[0].dim()))
    return ins[0].mean(dim=axes, keepdim=bool(a.get("keepdims", 1)))


def op_pad(node, ins, a):
    mode = a.get("mode", b"constant")
    if mode not in (b"constant", "constant"):
        raise ValueError("node %s: Pad mode %s not supported" % (node.name, mode))
    pads = a["pads"] if "pads" in a else [int(v) for v in ins[1].tolist()]
    value = a.get("value", 0.0)
    if len(ins) > 2 and ins[2] is not None and ins[2].numel():
        value = float(ins[2].reshape(-1)[0])
    x = ins[0]
    n = x.dim()
    tp = []
    for i in reversed(range(n)):
        tp += [pads[i], pads[i + n]]
    return F.pad(x, tp, value=value)


def op_flatten(node, ins, a):
    x = ins[0]
    axis = a.get("axis", 1) % max(x.dim(), 1)
    outer = int(np.prod(x.shape[:axis])) if axis else 1
    return x.reshape(outer, -1)


def op_reshape(node, ins, a):
    x, shape = ins[0], [int(v) for v in ins[1].tolist()]
    shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def op_gemm(node, ins, a):
    A, B = ins[0], ins[1]
    if a.get("transA", 0):
        A = A.t()
    if a.get("transB", 0):
        B = B.t()
    y = a.get("alpha", 1.0) * (A @ B)
    if len(ins) > 2 and ins[2] is not None:
        y = y + a.get("beta", 1.0) * ins[2]
    return y


def op_gather(node, ins, a):
    idx = ins[1].long()
    return torch.index_select(ins[0], a.get("axis", 0), idx.reshape(-1)).reshape(
        ins[0].shape[:a.get("axis", 0)] + idx.shape + ins[0].shape[a.get("axis", 0) + 1:])


def op_unsqueeze(node, ins, a):
    axes = a["axes"] if "axes" in a else [int(v) for v in ins[1].tolist()]
    x = ins[0]
    for ax in sorted(ax % (x.dim() + len(axes)) for ax in axes):
        x = x.unsqueeze(ax)
    return x


def op_squeeze(node, ins, a):
    axes = a.get("axes")
    if axes is None and len(ins) > 1:
        axes = [int(v) for v in ins[1].tolist()]
    x = ins[0]
    if axes is None:
        return x.squeeze()
    for ax in sorted((ax % x.dim() for ax in axes), reverse=True):
        x = x.squeeze(ax)
    return x


def op_slice(node, ins, a):
    x = ins[0]
    starts, ends = ins[1].tolist(), ins[2].tolist()
    axes = ins[3].tolist() if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
    steps = ins[4].tolist() if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    idx = [slice(None)] * x.dim()
    for s, e, ax, st in zip(starts, ends, axes, steps):
        idx[ax] = slice(int(s), int(min(e, 2**62)), int(st))
    return x[tuple(idx)]


OPS = {
    "Conv": op_conv,
    "BatchNormalization": op_batchnorm,
    "Relu": lambda n, i, a: F.relu(i[0]),
    "Add": lambda n, i, a: i[0] + i[1],
    "Mul": lambda n, i, a: i[0] * i[1],
    "Sub": lambda n, i, a: i[0] - i[1],
    "Div": lambda n, i, a: i[0] / i[1],
    "MaxPool": op_maxpool,
    "AveragePool": op_avgpool,
    "GlobalAveragePool": lambda n, i, a: i[0].mean(dim=tuple(range(2, i[0].dim())), keepdim=True),
    "ReduceMean": op_reduce_mean,
    "Pad": op_pad,
    "Flatten": op_flatten,
    "Reshape": op_reshape,
    "Transpose": lambda n, i, a: i[0].permute(a.get("perm", list(range(i[0].dim()))[::-1])),
    "Gemm": op_gemm,
    "MatMul": lambda n, i, a: i[0] @ i[1],
    "Identity": lambda n, i, a: i[0],
    "Shape": lambda n, i, a: torch.tensor(list(i[0].shape), dtype=torch.int64),
    "Gather": op_gather,
    "Unsqueeze": op_unsqueeze,
    "Squeeze": op_squeeze,
    "Concat": lambda n, i, a: torch.cat(i, dim=a.get("axis", 0)),
    "Slice": op_slice,
}


class Model:
    """An ONNX file ready to evaluate.  dtype: torch.float32 or torch.float64
    for float tensors (integer tensors stay int64)."""

    def __init__(self, path, dtype=torch.float32):
        self.proto = onnx.load(path)
        self.dtype = dtype
        g = self.proto.graph
        self.inits = {t.name: self._tensor(onnx.numpy_helper.to_array(t)) for t in g.initializer}
        self.input_names = [i.name for i in g.input if i.name not in self.inits]
        self.output_names = [o.name for o in g.output]
        for n in g.node:
            if n.domain not in ("", "ai.onnx") or n.op_type not in OPS:
                raise ValueError("%s: node %s: operator %s not supported"
                                 % (path, n.name, n.op_type))

    def _tensor(self, arr):
        t = torch.from_numpy(np.array(arr))
        return t.to(self.dtype) if t.is_floating_point() else t

    def input_shape(self):
        vi = [i for i in self.proto.graph.input if i.name == self.input_names[0]][0]
        return [d.dim_value if d.HasField("dim_value") else -1
                for d in vi.type.tensor_type.shape.dim]

    @torch.inference_mode()
    def run(self, x, output=None):
        """Evaluates the graph on x (the first graph input) and returns the
        tensor called output (default: the first graph output)."""
        output = output or self.output_names[0]
        env = dict(self.inits)
        env[self.input_names[0]] = x.to(self.dtype)
        env[""] = None
        for n in self.proto.graph.node:
            a = _attrs(n)
            if n.op_type == "Constant":
                env[n.output[0]] = self._tensor(onnx.numpy_helper.to_array(a["value"]))
                continue
            y = OPS[n.op_type](n, [env[i] for i in n.input], a)
            env[n.output[0]] = y
            if n.output[0] == output:
                return y
        if output not in env:
            raise KeyError("no tensor called %s" % output)
        return env[output]


def preprocess(images, mode):
    """uint8 NHWC RGB → float NHWC as the model expects."""
    x = torch.from_numpy(images.astype(np.float64))
    if mode == "keras":
        return x[..., [2, 1, 0]] - torch.tensor(KERAS_MEAN_BGR, dtype=torch.float64)
    if mode == "torch":
        return (x / 255.0 - torch.tensor(TORCH_MEAN, dtype=torch.float64)) / torch.tensor(
            TORCH_STD, dtype=torch.float64)
    return x


def features(model, images, mode, output=None, batch=8):
    """N x F float64 numpy features of uint8 NHWC images."""
    nchw = model.input_shape()[-1] != 3
    out = []
    for i in range(0, len(images), batch):
        x = preprocess(images[i:i + batch], mode)
        if nchw:
            x = x.permute(0, 3, 1, 2).contiguous()
        y = model.run(x, output)
        out.append(y.reshape(y.shape[0], -1).double().numpy())
    return np.concatenate(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("--preprocess", choices=["keras", "torch", "none"], required=True)
    p.add_argument("--input", required=True, help="raw uint8 RGB images, N x SIZE x SIZE x 3")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--output", required=True, help="N x F float32 features")
    p.add_argument("--output-name", help="tensor to return (default: the graph output)")
    p.add_argument("--double", action="store_true", help="evaluate in float64")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    n, s = args.count, args.size
    images = np.fromfile(args.input, dtype=np.uint8)
    if images.size != n * s * s * 3:
        sys.exit("%s: %d bytes, expected %d images of %dx%dx3" % (args.input, images.size, n, s, s))
    model = Model(args.model, torch.float64 if args.double else torch.float32)
    feats = features(model, images.reshape(n, s, s, 3), args.preprocess, args.output_name)
    feats.astype("<f4").tofile(args.output)


if __name__ == "__main__":
    main()
