#!/usr/bin/env python3
"""Runs an MPI test program under mpirun, with a time limit (a hang is a failure).

    mpi_run.py [--np N] [--timeout S] CASE -- PROGRAM [ARGS...]

CASE:
  train           PROGRAM train CHECKPOINT (a file in a temporary directory): exit status 0
  data-ok         PROGRAM data DIR with a valid IDX file for every rank: exit status 0
  data-missing    rank 1's file absent: every rank must stop (exit status 3 from each) with
                  the same error, which names rank 1 and its file; no hang
  data-corrupt    rank 1's file truncated: as data-missing
  thread-level    PROGRAM thread-level: MPI initialized asking for MPI_THREAD_SINGLE; an
                  environment must refuse it (or, if MPI gives more, check what can be checked;
                  77, skipped, when MPI gives MPI_THREAD_MULTIPLE: nothing to refuse)
  thread-level-funneled  the same, MPI asked for MPI_THREAD_FUNNELED
  run             PROGRAM [ARGS...] as given: exit status 0 (77, skipped, passed through)

As root, Open MPI needs --allow-run-as-root; --oversubscribe lets N exceed the cores. The
sanitizer build's leak checker is turned off for the MPI ranks: Open MPI does not free its own
allocations at exit (that is not ctgrad's memory).
"""
import argparse
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile


def write_idx(path, values, truncate=False):
    data = struct.pack(">BBBB", 0, 0, 0x0D, 1) + struct.pack(">I", len(values))
    data += b"".join(struct.pack(">f", v) for v in values)
    if truncate:
        data = data[: len(data) - 5]
    with open(path, "wb") as f:
        f.write(data)


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    split = sys.argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("case")
    args = ap.parse_args(sys.argv[1:split])
    program = sys.argv[split + 1:]

    mpirun = shutil.which("mpirun")
    if mpirun is None:
        print("mpirun not found (Debian: openmpi-bin)")
        return 77
    cmd = [mpirun, "-np", str(args.np), "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    env = dict(os.environ)
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
    # Containers often forbid the cross-memory attach Open MPI's shared-memory transport tries
    # first; copying through the shared segment works everywhere.
    env.setdefault("OMPI_MCA_btl_vader_single_copy_mechanism", "none")

    with tempfile.TemporaryDirectory() as tmp:
        if args.case == "train":
            run = program + ["train", os.path.join(tmp, "rank0.ckpt")]
        elif args.case == "run":
            run = program
        elif args.case in ("thread-level", "thread-level-funneled"):
            run = program + [args.case]
        elif args.case.startswith("data-"):
            for r in range(args.np):
                write_idx(os.path.join(tmp, f"rank{r}.idx"), [float(r + i) for i in range(10)])
            bad = os.path.join(tmp, "rank1.idx")
            if args.case == "data-missing":
                os.remove(bad)
            elif args.case == "data-corrupt":
                write_idx(bad, [1.0] * 10, truncate=True)
            elif args.case != "data-ok":
                sys.exit(f"unknown case {args.case}")
            run = program + ["data", tmp]
        else:
            sys.exit(f"unknown case {args.case}")
        print("$", " ".join(cmd + run), flush=True)
        proc = subprocess.Popen(cmd + run, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            print(out)
            print(f"FAIL: no result within {args.timeout} s (a rank is waiting forever)")
            return 1
        print(out)
        rc = proc.returncode

    if args.case == "run":
        return 77 if rc == 77 else (0 if rc == 0 else 1)
    if args.case.startswith("thread-level") and rc == 77 and out.count("skipped: ") == args.np:
        return 77  # nothing to refuse on this MPI (every rank says why): skipped, not passed
    if args.case in ("train", "data-ok", "thread-level", "thread-level-funneled"):
        if rc != 0:
            print(f"FAIL: exit status {rc}")
            return 1
        if args.case == "train" and out.count(": ok: ") < 7 * args.np:
            print("FAIL: fewer checks passed than expected")
            return 1
        if args.case.startswith("thread-level") and out.count(": ok: ") < args.np:
            print("FAIL: fewer checks passed than expected")
            return 1
        return 0
    # a bad file on rank 1: every rank stops with the agreed error naming rank 1
    if rc == 0:
        print("FAIL: the run succeeded although rank 1's data file is bad")
        return 1
    stopped = [line for line in out.splitlines() if "stopped: rank 1: " in line]
    if len(stopped) != args.np:
        print(f"FAIL: {len(stopped)} of {args.np} ranks reported rank 1's error")
        return 1
    if not all("rank1.idx" in line for line in stopped):
        print("FAIL: the error does not name rank 1's file")
        return 1
    print(f"ok: all {args.np} ranks stopped with rank 1's error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
