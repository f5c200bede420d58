#!/usr/bin/python3
"""Trains a small PyTorch MLP and writes the files test/io/pytorch_test.cpp checks ctgrad against
(checked in, so the test runs without PyTorch):

    /usr/bin/python3 test/io/data/make_pytorch_mlp.py test/io/data

Needs python3-torch and python3-numpy (Debian). Written:
  mlp.safetensors      the trained state_dict (PyTorch names: fc1.weight [16, 784], fc1.bias,
                       fc2.weight [10, 16], fc2.bias), float32, by write_safetensors below
  mlp.npz              the same state_dict through numpy.savez (what NumPy users write)
  mlp_inputs.npy       4 inputs [4, 784], float32
  mlp_logits.npy       PyTorch's float32 logits of the inputs [4, 10]
  mlp_logits_f64.npy   PyTorch's logits in float64 (model.double() on the same float32 weights)
  halves.safetensors   F16, BF16, F32 and F64 tensors and __metadata__ (the element-type test)
  bn.safetensors       a 20-8-3 network with BatchNorm1d (trained, so its running estimates
                       moved; num_batches_tracked is in the file, as in every BatchNorm
                       state_dict), with bn_inputs.npy [4, 20] and bn_logits.npy (eval mode)

write_safetensors is an independent writer of the format, written here because Debian has no
`safetensors` package (and PyTorch 1.13 none built in): it follows the specification in
huggingface/safetensors' README (u64 little-endian header length, JSON header
{name: {dtype, shape, data_offsets}}, optional __metadata__ of strings, row-major little-endian
data covering the buffer exactly) and mirrors the reference writer's choices (safetensors/src/
tensor.rs, prepare() and serialize(): tensors sorted by dtype, larger first, then by name;
compact serde_json-style JSON; the header padded with spaces to a multiple of 8 bytes), so that a
file written by the reference library from the same tensors has the same bytes.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

# the reference's dtype order (Rust enum Dtype, increasing alignment); sorted descending
DTYPE_RANK = {"F16": 13, "BF16": 14, "F32": 17, "F64": 19}


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> (dtype name, shape, little-endian row-major bytes)."""
    names = sorted(tensors, key=lambda k: (-DTYPE_RANK[tensors[k][0]], k))
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset, blobs = 0, []
    for k in names:
        dtype, shape, data = tensors[k]
        header[k] = {"dtype": dtype, "shape": list(shape),
                     "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def np_entry(a):
    a = np.ascontiguousarray(a)
    name = {np.dtype("float16"): "F16", np.dtype("float32"): "F32",
            np.dtype("float64"): "F64"}[a.dtype.newbyteorder("=")]
    return (name, a.shape, a.astype(a.dtype.newbyteorder("<")).tobytes())


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 16)
        self.fc2 = torch.nn.Linear(16, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    p = lambda name: os.path.join(out, name)
    torch.manual_seed(20261206)
    model = MLP()
    # a few Adam steps on a synthetic 10-class problem: the weights move away from their
    # initialization (the test would not tell a trained network from an initialized one
    # otherwise, but trained weights are what users load)
    centers = torch.rand(10, 784)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        y = torch.randint(0, 10, (64,))
        x = (centers[y] + 0.3 * torch.randn(64, 784)).clamp(0, 1)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print("final training loss", float(loss))

    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    write_safetensors(p("mlp.safetensors"), {k: np_entry(v) for k, v in sd.items()})
    np.savez(p("mlp.npz"), **sd)
    inputs = (centers[torch.arange(4) * 2] + 0.3 * torch.randn(4, 784)).clamp(0, 1)
    with torch.no_grad():
        logits = model(inputs)
        logits64 = model.double()(inputs.double())
    np.save(p("mlp_inputs.npy"), inputs.numpy())
    np.save(p("mlp_logits.npy"), logits.numpy())
    np.save(p("mlp_logits_f64.npy"), logits64.numpy())

    # element types: F16 and BF16 converted on read, F32, F64; values exact in each type
    i = np.arange(12, dtype=np.float64)
    v = (i * 0.5 - 3).reshape(3, 4)
    bf16 = torch.tensor(v, dtype=torch.bfloat16).view(torch.int16).numpy().astype("<i2")
    write_safetensors(p("halves.safetensors"), {
        "h.f16": np_entry(v.astype(np.float16)),
        "h.bf16": ("BF16", v.shape, bf16.tobytes()),
        "h.f32": np_entry(v.astype(np.float32)),
        "h.f64": np_entry(v + i.reshape(3, 4) * 1e-9),
    }, metadata={"format": "pt", "note": "written by make_pytorch_mlp.py"})

    # batch normalisation: parameters (weight, bias) and state (running_mean, running_var)
    torch.manual_seed(7)
    bn = torch.nn.Module()
    bn.fc1 = torch.nn.Linear(20, 8)
    bn.bn1 = torch.nn.BatchNorm1d(8)
    bn.fc2 = torch.nn.Linear(8, 3)
    forward = lambda x: bn.fc2(torch.relu(bn.bn1(bn.fc1(x))))
    opt = torch.optim.SGD(bn.parameters(), lr=0.1)
    for _ in range(20):
        x = torch.randn(32, 20) * 2 + 1
        loss = (forward(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    bn.eval()
    x = torch.randn(4, 20) * 2 + 1
    with torch.no_grad():
        y = forward(x)
    entries = {}
    for k, v in bn.state_dict().items():
        a = v.detach().numpy()
        entries[k] = ("I64", a.shape, a.astype("<i8").tobytes()) if a.dtype == np.int64 \
            else np_entry(a)
    DTYPE_RANK["I64"] = 20
    write_safetensors(p("bn.safetensors"), entries)
    np.save(p("bn_inputs.npy"), x.numpy())
    np.save(p("bn_logits.npy"), y.numpy())


if __name__ == "__main__":
    main()
