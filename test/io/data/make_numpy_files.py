#!/usr/bin/python3
"""Writes the small NumPy files test/io/numpy_test.cpp reads (checked in, so the tests run
without NumPy): `/usr/bin/python3 test/io/data/make_numpy_files.py test/io/data`.

Element i (row-major, C order) of every float array is i * 0.5 - 3 (exact in every float type);
the float64 arrays add i * 1e-9 (not exact in float32, so a float64 path that goes through
float32 is caught). The test computes the same expressions in C++.
"""
import os
import sys

import numpy as np


def values(shape, dtype):
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.float64)
    v = i * 0.5 - 3
    if np.dtype(dtype).itemsize == 8:
        v = v + i * 1e-9
    return v.astype(dtype).reshape(shape)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    p = lambda name: os.path.join(out, name)
    np.save(p("f4_v1.npy"), values((2, 3, 4), "<f4"))
    np.save(p("f8_big_endian.npy"), values((3, 5), ">f8"))
    np.save(p("f2.npy"), values((2, 5), "<f2"))
    np.save(p("f4_fortran.npy"), np.asfortranarray(values((3, 4), "<f4")))
    np.save(p("f8_fortran_3d.npy"), np.asfortranarray(values((2, 3, 4), "<f8")))
    np.save(p("f8_scalar.npy"), np.array(2.5, dtype="<f8"))
    np.save(p("f4_vector.npy"), values((7,), "<f4"))
    np.save(p("i8.npy"), np.arange(6, dtype="<i8").reshape(2, 3))
    for version in [(2, 0), (3, 0)]:
        with open(p("f4_v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, values((4, 3), "<f4"), version=version)
    pack = {"fc.W": values((3, 4), "<f4"), "fc.b": values((4,), "<f4")}
    np.savez(p("pack.npz"), **pack)
    np.savez_compressed(p("pack_compressed.npz"), **pack)


if __name__ == "__main__":
    main()
