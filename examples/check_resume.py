#!/usr/bin/env python3
"""Smoke test of fashion_mnist's --checkpoint/--resume: a run of 2 short epochs, and a run
stopped after epoch 1 then resumed, must end with byte-identical checkpoints (parameters and
Adam's moments and step count). (Two epochs, not three: the same check at two thirds of the
cost; in the sanitizer build the CNN's took 44 s, most of it the evaluations after each epoch.)

    check_resume.py FASHION_MNIST_BINARY SCRATCH_DIR [--no-csv] [EXTRA OPTIONS...]

(--no-csv: the binary has no --csv option, as fashion_mnist_parallel.)

(fashion_mnist_cnn: the extra options turn on augmentation, whose draws must resume too; its
checkpoints also hold the layers' state: running estimates, dropout's step counter.)
"""
import filecmp
import os
import subprocess
import sys


def main():
    exe, scratch, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    use_csv = not (extra and extra[0] == "--no-csv")
    if not use_csv:
        extra = extra[1:]
    os.makedirs(scratch, exist_ok=True)
    common = ["--epochs", "2", "--max-batches", "10", *extra]

    def run(*args):
        r = subprocess.run([exe, *common, *args], stdout=subprocess.PIPE, text=True)
        print(r.stdout, end="")
        return r.returncode

    whole, parts = os.path.join(scratch, "whole.ckpt"), os.path.join(scratch, "parts.ckpt")
    csv = ["--csv", os.path.join(scratch, "resume.csv")] if use_csv else []
    rc = run(*csv, "--checkpoint", whole)
    if rc != 0:
        return rc  # 77: no data set (skipped)
    for stage in (["--stop-after", "1"], ["--resume", parts]):
        rc = run(*csv, "--checkpoint", parts, *stage)
        if rc != 0:
            return rc
    if not filecmp.cmp(whole, parts, shallow=False):
        print("resumed run differs from the uninterrupted one")
        return 1
    print("resumed run identical to the uninterrupted one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
