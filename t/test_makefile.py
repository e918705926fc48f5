"""`make demo` builds only what the demo runs: the engine target builds the
parley binary alone, and the unit tests are built by `make unit` (and so by
`make test`). Checked with make's dry run: nothing is compiled here."""

import subprocess

from conftest import REPO


def dry_run(target):
    r = subprocess.run(["make", "-n", "-C", str(REPO), target], text=True,
                       capture_output=True, check=True)
    return [line for line in r.stdout.splitlines() if "cmake --build" in line]


def test_the_engine_target_builds_only_the_binary():
    [build] = dry_run("engine")
    assert build.split()[-2:] == ["--target", "parley"], build


def test_demo_builds_nothing_but_the_binary():
    builds = dry_run("demo")
    assert builds
    assert all(b.split()[-2:] == ["--target", "parley"] for b in builds), builds


def test_unit_builds_the_tests_before_running_them():
    [build] = dry_run("unit")
    assert build.split()[-2:] == ["--target", "parley_tests"], build
    out = subprocess.run(["make", "-n", "-C", str(REPO), "unit"], text=True,
                         capture_output=True, check=True).stdout
    assert out.index("--target parley_tests") < out.index("ctest")
