"""onnx_torch.py (the reference evaluator the resnet50-embed tests trust)
agrees with PyTorch's own forward on torchvision's ResNet50 exported by
torch.onnx, with BN kept and folded; an evaluator with a deliberate bug (BN
epsilon ignored) must fail the same check.
"""
import os
import sys
import tempfile

import torch
import torchvision

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/resnet50-embed"))
import onnx_torch  # noqa: E402


def close(got, want):
    return (got - want).abs().max().item() <= 1e-4 * want.abs().max().item()


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = torchvision.models.resnet50().eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        want = net(x)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "resnet50.onnx")
        for kept in (True, False):
            extra = dict(training=torch.onnx.TrainingMode.PRESERVE,
                         do_constant_folding=False) if kept else {}
            torch.onnx.export(net, x, path, opset_version=13, input_names=["x"],
                              output_names=["y"], **extra)
            model = onnx_torch.Model(path)
            n_bn = [n.op_type for n in model.proto.graph.node].count("BatchNormalization")
            assert n_bn == (53 if kept else 0), n_bn
            got = model.run(x)
            assert close(got, want), "BN %s: max diff %g" % (kept, (got - want).abs().max())
            print("BN %s: max |diff| %.3g of max %.3g" % (
                "kept" if kept else "folded", (got - want).abs().max(), want.abs().max()))
            if kept:
                # A deliberately wrong evaluator (BN epsilon dropped) fails the check.
                right = onnx_torch.OPS["BatchNormalization"]
                onnx_torch.OPS["BatchNormalization"] = lambda n, i, a: right(
                    n, i, dict(a, epsilon=0.0))
                try:
                    assert not close(model.run(x), want), "BN epsilon 0 went unnoticed"
                finally:
                    onnx_torch.OPS["BatchNormalization"] = right


if __name__ == "__main__":
    main()
