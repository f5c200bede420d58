#!/usr/bin/env python3
"""Builds and runs one of the consumer projects in test/consumers/ against ctgrad, as a user would.

    consumer.py KIND SOURCE_ROOT VERSION WORK_DIR

KIND is `cmake` (find_package against a staged install), `make` (a Makefile with
`pkg-config --cflags ctgrad` against a staged install) or `meson` (ctgrad as a subproject).
The staged install is `meson setup --prefix WORK_DIR/prefix -Dtests=false ...` followed by
`meson install`. The consumer program (test/consumers/main.cpp) prints the version it was built
against and a gradient, which are checked here. Exits non-zero with the failing step's output.
"""
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


class StepFailed(Exception):
    pass


def run(cmd, cwd=None, env=None):
    print("$", " ".join(str(c) for c in cmd), flush=True)
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        print(proc.stdout[-6000:])
        raise StepFailed(f"{cmd[0]} exited with {proc.returncode}")
    return proc.stdout


def need(tool, package):
    if shutil.which(tool) is None:
        raise StepFailed(f"{tool} is not installed (Debian package {package}; ./run.sh test installs it)")


def clean_env():
    env = dict(os.environ)
    for var in ("PKG_CONFIG_PATH", "CMAKE_PREFIX_PATH", "CPATH", "CPLUS_INCLUDE_PATH"):
        env.pop(var, None)
    return env


def stage_install(source, work):
    """Installs ctgrad into work/prefix the way a packager would; returns the prefix."""
    prefix, build = work / "prefix", work / "stage-build"
    run(["meson", "setup", build, source, f"--prefix={prefix}", "-Dtests=false",
         "-Dbenchmarks=false", "-Dexamples=false"], env=clean_env())
    run(["meson", "install", "-C", build, "--quiet"], env=clean_env())
    headers = sorted(p.relative_to(prefix).as_posix() for p in prefix.rglob("*.hpp"))
    for must in ("include/ctgrad/ctgrad.hpp", "include/ctgrad/version.hpp"):
        if must not in headers:
            raise StepFailed(f"the install has no {must}")
    return prefix


def project(kind, source, work):
    """A fresh copy of the consumer project with main.cpp next to its build file."""
    proj = work / "project"
    shutil.copytree(source / "test" / "consumers" / kind, proj)
    shutil.copy(source / "test" / "consumers" / "main.cpp", proj / "main.cpp")
    return proj


def build_cmake(source, version, work):
    need("cmake", "cmake")
    prefix = stage_install(source, work)
    proj = project("cmake", source, work)
    major_minor = ".".join(version.split(".")[:2])
    build = work / "cmake-build"
    run(["cmake", "-S", proj, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
         f"-DCTGRAD_WANT={major_minor}", "-DCMAKE_BUILD_TYPE=Release"], env=clean_env())
    run(["cmake", "--build", build], env=clean_env())
    # A version the package must refuse: the next minor release (0.x minors are not compatible).
    major, minor = int(version.split(".")[0]), int(version.split(".")[1])
    refuse = work / "cmake-refuse"
    proc = subprocess.run(["cmake", "-S", str(proj), "-B", str(refuse),
                           f"-DCMAKE_PREFIX_PATH={prefix}", f"-DCTGRAD_WANT={major}.{minor + 1}"],
                          env=clean_env(), text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    if proc.returncode == 0:
        raise StepFailed(f"find_package(ctgrad {major}.{minor + 1}) accepted version {version}")
    print(f"find_package(ctgrad {major}.{minor + 1}) refused {version}, as it should")
    return build / "consumer"


def build_make(source, version, work):
    need("make", "make")
    need("pkg-config", "pkg-config")
    prefix = stage_install(source, work)
    pcs = list(prefix.rglob("ctgrad.pc"))
    if len(pcs) != 1:
        raise StepFailed(f"expected one ctgrad.pc in the install, found {len(pcs)}")
    env = clean_env()
    env["PKG_CONFIG_PATH"] = str(pcs[0].parent)
    modversion = run(["pkg-config", "--modversion", "ctgrad"], env=env).strip()
    if modversion != version:
        raise StepFailed(f"pkg-config --modversion ctgrad is {modversion}, expected {version}")
    cflags = run(["pkg-config", "--cflags", "ctgrad"], env=env).split()
    if "-std=c++20" not in cflags or f"-I{prefix / 'include'}" not in cflags:
        raise StepFailed(f"ctgrad.pc Cflags lack -std=c++20 or the include path: {cflags}")
    proj = project("make", source, work)
    run(["make", "-C", proj], env=env)
    return proj / "consumer"


def build_meson(source, version, work):
    proj = project("meson", source, work)
    (proj / "subprojects").mkdir()
    (proj / "subprojects" / "ctgrad").symlink_to(source, target_is_directory=True)
    build = work / "meson-build"
    out = run(["meson", "setup", build, proj, "--force-fallback-for=ctgrad"], env=clean_env())
    # The subproject must not bring its tests, benchmarks or examples along.
    targets = run(["ninja", "-C", build, "-t", "targets", "all"], env=clean_env())
    extra = [t for t in targets.splitlines() if re.match(r"subprojects/ctgrad/(test|bench|examples)/", t)]
    if extra:
        raise StepFailed("the subproject built its own tests/benchmarks/examples:\n" + "\n".join(extra[:10]))
    if "ctgrad" not in out:
        raise StepFailed("meson setup did not configure the ctgrad subproject")
    run(["ninja", "-C", build], env=clean_env())
    return build / "consumer"


def check(exe, version):
    out = run([exe]).strip()
    print(out)
    m = re.fullmatch(r"ctgrad (\S+) value (\S+) dx (\S+) dy (\S+)", out)
    if not m:
        raise StepFailed(f"unexpected output: {out!r}")
    got_version, value, dx, dy = m.group(1), float(m.group(2)), float(m.group(3)), float(m.group(4))
    if got_version != version:
        raise StepFailed(f"built against ctgrad {got_version}, expected {version}")
    want = {"value": 6.0 + math.sin(2.0), "dx": 3.0 + math.cos(2.0), "dy": 2.0}
    for name, got in (("value", value), ("dx", dx), ("dy", dy)):
        if not math.isclose(got, want[name], rel_tol=1e-14):
            raise StepFailed(f"{name} = {got!r}, expected {want[name]!r}")


def main():
    kind, source, version, work = sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    builders = {"cmake": build_cmake, "make": build_make, "meson": build_meson}
    if kind not in builders:
        print(f"unknown consumer kind {kind!r}; one of {', '.join(builders)}")
        return 2
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    try:
        check(builders[kind](source.resolve(), version, work), version)
    except StepFailed as e:
        print(f"FAIL consumer/{kind}: {e}")
        return 1
    print(f"ok consumer/{kind}: built against ctgrad {version}, gradient checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
