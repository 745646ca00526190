"""What the offline plan of every stack costs beyond importing the code it runs.

Run:  .venv/bin/python benchmarks/plan_overhead.py [--runs 5]

Two commands, each in a fresh Python process, alternated run by run (so a change in the machine's speed hits
both alike):

- ``plan``: ``docustack plan`` of every stack (stack files read and checked, the program run under the mocks
  once per stack, the text rendered), its output thrown away;
- ``import``: importing exactly the modules that plan ends up with (``sys.modules`` after a plan, recorded once
  in a child process: the project's packages, Pulumi, pulumi_aws and the submodules of it the program touches),
  and nothing else.

Prints the median wall time of each and their ratio, plan / import: the cost of the work itself, the imports
being paid either way. Target (README): at most 1.2.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

RECORD_MODULES = """
import contextlib, io, json, sys
from docustack import cli
with contextlib.redirect_stdout(io.StringIO()):
    code = cli.main(["--project-dir", sys.argv[1], "plan"])
print(json.dumps({"code": code, "modules": sorted(name for name in sys.modules if not name.startswith("__"))}))
"""

IMPORT_ONLY = """
import importlib, json, sys
for name in json.load(open(sys.argv[1])):
    try:
        importlib.import_module(name)
    except Exception:
        pass  # a module that only imports as part of another (the same either way)
"""

PLAN = """
import contextlib, io, sys
from docustack import cli
with contextlib.redirect_stdout(io.StringIO()):
    sys.exit(cli.main(["--project-dir", sys.argv[1], "plan"]))
"""


def _wall(arguments: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(arguments, check=True, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args()

    recorded = subprocess.run(
        [sys.executable, "-c", RECORD_MODULES, str(PROJECT_DIR)], check=True, capture_output=True, text=True
    )
    answer = json.loads(recorded.stdout.strip().splitlines()[-1])
    if answer["code"] != 0:
        print(f"docustack plan exited {answer['code']}: fix the stacks first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        modules_file = Path(scratch) / "plan-modules.json"
        modules_file.write_text(json.dumps(answer["modules"]), encoding="utf-8")
        return _compare(modules_file, len(answer["modules"]), args.runs)


def _compare(modules_file: Path, module_count: int, runs: int) -> int:
    plan_command = [sys.executable, "-c", PLAN, str(PROJECT_DIR)]
    import_command = [sys.executable, "-c", IMPORT_ONLY, str(modules_file)]
    _wall(plan_command), _wall(import_command)  # warm the file cache
    plan_times, import_times, ratios = [], [], []
    for _ in range(runs):
        plan_seconds, import_seconds = _wall(plan_command), _wall(import_command)
        plan_times.append(plan_seconds)
        import_times.append(import_seconds)
        ratios.append(plan_seconds / import_seconds)
    print(f"modules imported by a plan of every stack: {module_count}")
    print(f"{'':8} {'median s':>9} {'min s':>7} {'max s':>7}")
    for label, times in (("plan", plan_times), ("import", import_times)):
        print(f"{label:8} {statistics.median(times):9.2f} {min(times):7.2f} {max(times):7.2f}")
    print(f"ratio plan/import, median of {runs} pairs: {statistics.median(ratios):.2f} (target <= 1.2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
