"""Scale benchmark for the offline plan: organizations of 10, 100 and 500 accounts across nested OUs.

Run:  .venv/bin/python benchmarks/plan_scale.py [--sizes 10 100 500] [--repeat 3]

Each size is planned in a fresh Python process (so peak memory is that run's own) from a generated copy of
the project whose management stack has that many accounts spread over a nested OU tree, with the five SCPs
attached as in the real stack. Prints one row per size: wall time of the whole plan (settings checks,
program run under mocks, rendering) as the best of --repeat runs, peak resident memory, and time per account.
Targets (README): linear growth; 500 accounts in under 10 s and 500 MiB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
from pathlib import Path
from docustack import plan
start = time.perf_counter()
stack_plan = plan.plan_stack(Path(sys.argv[1]), "management")
text = plan.render_text(stack_plan)
elapsed = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024, "resources": len(stack_plan.plan.resources)}))
"""


def organization_of(size: int, base: dict) -> dict:
    """``base`` management settings with ``size`` accounts in Workloads/Sandbox OUs nested up to 4 deep."""
    settings = json.loads(json.dumps(base))
    organization = settings["organization"]
    teams = max(1, size // 25)
    units = [{"name": "Security"}, {"name": "Sandbox", "children": []}, {"name": "Workloads", "children": []}]
    account_ous = []
    for team in range(teams):
        product = {"name": f"Team{team}", "children": [{"name": "Regulated", "children": [{"name": "PHI"}]}]}
        units[2]["children"].append(product)
        account_ous += [
            f"Workloads/Team{team}",
            f"Workloads/Team{team}/Regulated",
            f"Workloads/Team{team}/Regulated/PHI",
        ]
        units[1]["children"].append({"name": f"Team{team}"})
        account_ous.append(f"Sandbox/Team{team}")
    organization["organizationalUnits"] = units
    accounts = [
        {"name": "log-archive", "email": "log-archive@example.com", "ou": "Security"},
        {"name": "audit", "email": "audit@example.com", "ou": "Security"},
    ]
    for index in range(size - len(accounts)):
        accounts.append(
            {
                "name": f"acct-{index:04d}",
                "email": f"acct-{index:04d}@example.com",
                "ou": account_ous[index % len(account_ous)],
            }
        )
    organization["accounts"] = accounts
    organization["importId"] = "o-exampleorg01"
    for scp in organization["policies"]:
        if scp["name"] in ("require-s3-encryption", "deny-public-s3"):
            scp["targets"] = ["ou:Workloads"]
    return settings


def generate_project(size: int, into: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, into / name)
    shutil.copytree(PROJECT_DIR / "policies", into / "policies")
    stack_file = yaml.safe_load((PROJECT_DIR / "Pulumi.management.yaml").read_text())
    stack_file["config"]["docustack:settings"] = organization_of(size, stack_file["config"]["docustack:settings"])
    (into / "Pulumi.management.yaml").write_text(yaml.safe_dump(stack_file, sort_keys=False))
    return into


def measure(project: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(project)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"plan failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'accounts':>8} {'resources':>9} {'wall s':>8} {'peak MiB':>9} {'ms/account':>10}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            project = generate_project(size, Path(folder))
            runs = [measure(project) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        peak = max(r["peak_mib"] for r in runs)
        print(
            f"{size:>8} {best['resources']:>9} {best['seconds']:>8.2f} {peak:>9.0f} {1000 * best['seconds'] / size:>10.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
