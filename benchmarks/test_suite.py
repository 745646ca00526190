"""Wall-time benchmark of ``make test``: linters, type checker and the pytest suite, with where the time goes.

Run:  .venv/bin/python benchmarks/test_suite.py [--runs 2] [--slowest 15]   (or `make benchmark-tests`)

Runs the steps of ``make test`` in order (``ruff check``, ``ruff format --check``, ``basedpyright``, ``pytest``)
--runs times, each in a fresh process as make runs them, and prints the wall time of every step and of the
whole per run, the CPU time of the run's processes, and the medians over the runs (on a shared machine the
median and the CPU time move least). For the last run it also prints the time of each test module (setup, call
and teardown of its tests, from pytest's JUnit XML report) and the slowest tests. Nothing is installed or cached
by this script: run it after `make test` has installed everything once, so it measures a warm suite (the
issue's target: 30 s on 2 cores). It exits with pytest's status when a test fails, so a broken suite is not
reported as a time.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the command's processes, exit status). CPU time moves less than wall time
    when other work shares the machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.returncode


def per_test_seconds(junit: Path) -> list[tuple[str, str, float]]:
    """(module, test, seconds) for every test case in pytest's JUnit XML report."""
    cases = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "").split(".")
        # classname is "tests.test_x" or "tests.test_x.TestClass": the module is the first two parts
        cases.append((".".join(module[:2]), case.get("name", ""), float(case.get("time", "0"))))
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs of the whole suite (default 2)")
    parser.add_argument("--slowest", type=int, default=15, help="how many of the slowest tests to list")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        steps = {
            "ruff check": [str(BIN / "ruff"), "check", "."],
            "ruff format": [str(BIN / "ruff"), "format", "--check", "."],
            "basedpyright": [str(BIN / "basedpyright")],
            # -p no:cacheprovider: a run must not change what the next one does (last-failed ordering).
            "pytest": [
                sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
                "-o", "junit_duration_report=total",
            ],
        }  # fmt: skip
        for run in range(1, args.runs + 1):
            seconds = {}
            cpu = 0.0
            for name, command in steps.items():
                seconds[name], step_cpu, code = timed(command)
                cpu += step_cpu
                if code != 0:
                    print(f"run {run}: {name} failed (exit {code}); fix the suite before timing it", file=sys.stderr)
                    return code
            rows.append((seconds, cpu))
        cases = per_test_seconds(junit)

    print(
        f"{'run':>3} {'ruff check':>10} {'ruff format':>11} {'basedpyright':>12} {'pytest':>8} {'total s':>8} {'CPU s':>7}"
    )
    for run, (seconds, cpu) in enumerate(rows, 1):
        total = sum(seconds.values())
        print(
            f"{run:>3} {seconds['ruff check']:>10.2f} {seconds['ruff format']:>11.2f} {seconds['basedpyright']:>12.2f}"
            f" {seconds['pytest']:>8.2f} {total:>8.2f} {cpu:>7.2f}"
        )
    totals = [sum(seconds.values()) for seconds, _ in rows]
    cpus = [cpu for _, cpu in rows]
    print(
        f"median total: {statistics.median(totals):.1f} s wall, {statistics.median(cpus):.1f} s CPU; best"
        f" {min(totals):.1f} s; over {len(rows)} run(s); {len(cases)} tests"
    )

    modules: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for module, _, seconds in cases:
        modules[module] += seconds
        counts[module] += 1
    in_tests = sum(modules.values())
    print("\nper module (last run; setup + call + teardown of its tests):")
    for module, seconds in sorted(modules.items(), key=lambda item: -item[1]):
        print(f"  {seconds:7.2f} s {100 * seconds / in_tests:5.1f} % {counts[module]:5d} tests  {module}")
    print(f"\nslowest {args.slowest} tests (last run):")
    for module, name, seconds in sorted(cases, key=lambda c: -c[2])[: args.slowest]:
        print(f"  {seconds:7.2f} s  {module}::{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
