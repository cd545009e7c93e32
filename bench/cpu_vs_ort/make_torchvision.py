#!/usr/bin/python3
"""Exports torchvision classifiers beyond the shared reference models, for cpu_vs_ort.js.

Usage: /usr/bin/python3 bench/cpu_vs_ort/make_torchvision.py DIR [model ...]

Writes DIR/<model>.onnx (opset 17, batch 1, 3x224x224 — 299x299 for inception_v3, random
weights: no downloads), DIR/<model>.input.npy and DIR/<model>.output.npy (PyTorch's output on
that input) and DIR/manifest.json in the layout of ../shared/models, so that
  node bench/cpu_vs_ort/cpu_vs_ort.js --kiln build/release/bin/kiln --models DIR
times kiln beside ONNX Runtime on them. Needs Debian's python3-torch, python3-torchvision,
python3-numpy. Default: the families whose patterns the reference models lack (grouped 3x3,
BatchNorm after concatenations, SiLU, hard-swish, squeeze-excitation, channel shuffles, padded
average pools, depthwise 7x7 + LayerNorm).
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

DEFAULT = [
    "densenet121", "regnet_y_400mf", "efficientnet_b0", "convnext_tiny", "shufflenet_v2_x1_0",
    "mnasnet1_0", "mobilenet_v3_large", "resnext50_32x4d", "inception_v3",
]


def export(directory, name):
    torch.manual_seed(0)
    kwargs = {"aux_logits": False, "init_weights": True} if name == "inception_v3" else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    side = 299 if name == "inception_v3" else 224
    x = torch.randn(1, 3, side, side)
    path = os.path.join(directory, f"{name}.onnx")
    torch.onnx.export(model, (x,), path, opset_version=17, input_names=["input"],
                      output_names=["output"])
    with torch.no_grad():
        y = model(x).numpy()
    np.save(os.path.join(directory, f"{name}.input.npy"), x.numpy())
    np.save(os.path.join(directory, f"{name}.output.npy"), y)
    return {
        "name": name,
        "file": f"{name}.onnx",
        "opset": 17,
        "bytes": os.path.getsize(path),
        "inputs": [{"name": "input", "shape": list(x.shape), "dtype": "float32",
                    "npy": f"{name}.input.npy"}],
        "outputs": [{"name": "output", "shape": list(y.shape), "dtype": "float32",
                     "npy": f"{name}.output.npy"}],
        "dynamic_axes": None,
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    names = sys.argv[2:] or DEFAULT
    os.makedirs(directory, exist_ok=True)
    manifest_path = os.path.join(directory, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    for name in names:
        if not hasattr(torchvision.models, name):
            sys.exit(f"make_torchvision.py: torchvision has no model '{name}'")
        manifest[name] = export(directory, name)
        print(f"{name}: {manifest[name]['bytes']} bytes", flush=True)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
