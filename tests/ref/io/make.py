#!/usr/bin/python3
"""Writes the numpy-made fixtures in this folder (run from here; needs numpy).

numpy-2x3.npy       np.save of a float32 (2, 3) array
numpy-stream.npy    three np.save calls into one file: int32 (4,), float64 (), uint8 (0, 2)
bundle.safetensors  laid out as the safetensors package writes it (json.dumps with
                    compact separators, keys sorted, padded with spaces to 8 bytes)

axon.npy and axon.safetensors are written by the library itself: test-io
compares its writer's bytes with them (AXON_REGEN=1 rewrites them), and
tests/cmd/ax-info.sh checks that numpy reads them.
"""
import json
import struct

import numpy as np

np.save("numpy-2x3.npy", np.array([[1, 2, 3], [4, 5, 6.5]], np.float32))
with open("numpy-stream.npy", "wb") as f:
    np.save(f, np.arange(4, dtype=np.int32))
    np.save(f, np.array(2.5))
    np.save(f, np.zeros((0, 2), np.uint8))

tensors = {"layer.weight": np.array([[1, 2], [3, 4]], np.float32),
           "layer.bias": np.array([-1, 1], np.float32)}
header, data, off = {"__metadata__": {"format": "pt", "step": "100"}}, b"", 0
for name in sorted(tensors):
    b = tensors[name].tobytes()
    header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                    "data_offsets": [off, off + len(b)]}
    data += b
    off += len(b)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open("bundle.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)
