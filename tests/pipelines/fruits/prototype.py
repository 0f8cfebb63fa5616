"""prototype — the Fruits! prototype's whole job as an independent Python
reference, sharing no code with flowrun's C path:

  Pillow 9.4 (Debian)  Image.open(f).convert("RGB").resize((224, 224)):
                       the prototype's img.resize, Pillow's default BICUBIC
  numpy                Keras resnet50.preprocess_input ("caffe"): RGB->BGR,
                       minus the ImageNet means [103.939, 116.779, 123.68]
  onnx_torch.py        the same ONNX model, node by node on torch.nn.functional
                       (tests/plugins/resnet50-embed), float32
  numpy float64        Spark ML StandardScaler() (withMean=False, withStd=True,
                       n-1 std, 0 for a constant column) and Spark PCA: the
                       components are the leading eigenvectors of the centred
                       covariance, PCAModel.transform is components^T x with no
                       centring.

Each step takes the knob a deliberate bug turns (resample, with_mean, ddof),
so a test can show that its check tells the bug apart."""
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "plugins", "resnet50-embed"))
import onnx_torch  # noqa: E402

KERAS_MEAN_BGR = np.array([103.939, 116.779, 123.68])


def pixels(path, resample=Image.BICUBIC):
    """uint8 224x224x3 RGB, as the prototype's PIL code made them."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB").resize((224, 224), resample), dtype=np.uint8)


def keras_preprocess(images):
    """Keras' resnet50.preprocess_input on uint8 NHWC RGB, in float64."""
    return images[..., ::-1].astype(np.float64) - KERAS_MEAN_BGR


def embed(model_path, images, threads=2, batch=8):
    """N x 2048 float64 features of uint8 NHWC images (float32 evaluation)."""
    torch.set_num_threads(threads)
    model = onnx_torch.Model(model_path)
    return onnx_torch.features(model, keras_preprocess(images), "none", batch=batch)


def spark_scaler(x, with_mean=False, ddof=1):
    x = np.asarray(x, dtype=np.float64)
    std = x.std(axis=0, ddof=ddof)
    inv = np.where(std != 0, 1 / np.where(std != 0, std, 1), 0)
    return ((x - x.mean(axis=0)) if with_mean else x) * inv


def spark_pca(z, k):
    """(scores N x k, eigenvalues of the centred covariance, all, descending)."""
    z = np.asarray(z, dtype=np.float64)
    w, v = np.linalg.eigh(np.cov(z, rowvar=False))
    order = np.argsort(w)[::-1]
    return z @ v[:, order[:k]], w[order]


def prototype(features, k=200, with_mean=False, ddof=1):
    return spark_pca(spark_scaler(features, with_mean, ddof), k)
