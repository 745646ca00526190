"""Human access in the commands: the matrix in `docustack plan`, access changes with `--base`, and
`docustack simulate --as-permission-set`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from docustack import access_diff, cli
from docustack import plan as plan_module

PROD_ID = "123456789012"


def _project_copy(project_dir: Path, into: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py", *(p.name for p in project_dir.glob("Pulumi.*.yaml"))):
        shutil.copy(project_dir / name, into / name)
    shutil.copytree(project_dir / "policies", into / "policies")
    return into


def _edit(project: Path, old: str, new: str) -> None:
    stack_file = project / "Pulumi.management.yaml"
    text = stack_file.read_text()
    assert old in text, old
    stack_file.write_text(text.replace(old, new, 1))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(project_dir: Path, tmp_path: Path) -> Path:
    _project_copy(project_dir, tmp_path)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    return tmp_path


# --------------------------------------------------------------------------------------------------------
# plan


def test_the_plan_shows_the_matrix_in_every_format(stack_plans: dict[str, plan_module.StackPlan]) -> None:
    management = stack_plans["management"]
    text = plan_module.render_text(management)
    assert "    prod: developers: ReadOnlyMetadata; emergency: BreakGlass; platform: PlatformAdministrator" in text
    assert "    management: emergency: BreakGlass; platform: PlatformAdministrator" in text
    markdown = plan_module.render_markdown(management)
    assert "| account | developers | platform | emergency |" in markdown
    assert "| dev | `Developer` | `PlatformAdministrator` | `BreakGlass` |" in markdown
    assert "| management | - | `PlatformAdministrator` | `BreakGlass` |" in markdown
    document = plan_module.render_json(management)["access"]
    assert document["matrix"]["staging"]["developers"] == ["ReadOnlyMetadata"]
    assert {"group": "developers", "account": "dev", "permission_set": "Developer"} in document["grants"]
    assert document["permissionSets"]["ReadOnlyMetadata"] == {
        "sessionDuration": "PT8H",
        "managedPolicyArns": [],
        "readOnly": True,
    }
    assert plan_module.render_json(stack_plans["dev"])["access"] is None


def test_no_access_change_reports_nothing(repo: Path) -> None:
    diff = access_diff.compare_with_revision(repo, "HEAD")
    assert diff.empty
    assert access_diff.render_text(diff) == "Human access: no change against HEAD"


def test_base_comparison_shows_grants_and_permission_set_changes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(repo, 'targets: ["account:staging", "account:prod"]', 'targets: ["account:prod"]')
    _edit(repo, 'targets: ["ou:Sandbox", "account:dev"]', 'targets: ["ou:Sandbox", "account:dev", "account:staging"]')
    _edit(repo, "sessionDuration: PT4H", "sessionDuration: PT2H")
    diff = access_diff.compare_with_revision(repo, "HEAD")
    assert [(c.change, c.grant.group, c.grant.account, c.grant.permission_set) for c in diff.grants] == [
        ("added", "developers", "staging", "Developer"),
        ("removed", "developers", "staging", "ReadOnlyMetadata"),
    ]
    assert [(c.name, c.change, c.details) for c in diff.permission_sets] == [
        ("PlatformAdministrator", "changed", ('sessionDuration: "PT4H" -> "PT2H"',))
    ]
    assert cli.main(["--project-dir", str(repo), "plan", "--stack", "management", "--base", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "Human access compared with HEAD:" in out
    assert "  added    developers gains Developer in staging" in out
    assert "  removed  developers loses ReadOnlyMetadata in staging" in out
    assert "  changed  permission set PlatformAdministrator" in out
    args = ["--project-dir", str(repo), "plan", "--stack", "management", "--base", "HEAD"]
    assert cli.main([*args, "--format", "markdown"]) == 0
    assert "| added | developers | `Developer` | staging |" in capsys.readouterr().out
    assert cli.main([*args, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)["access"]
    assert document["grants"][0] == {
        "change": "added",
        "group": "developers",
        "account": "staging",
        "permission_set": "Developer",
        "production": False,
    }


def test_access_given_in_production_is_marked(repo: Path) -> None:
    _edit(repo, 'targets: ["ou:Sandbox", "account:dev"]', 'targets: ["ou:Sandbox", "account:dev", "ou:Security"]')
    _edit(repo, 'production: ["account:prod"]', 'production: ["account:prod", "ou:Security"]')
    _edit(
        repo,
        'permissionSet: Developer\n            targets: ["ou:Sandbox", "account:dev", "ou:Security"]',
        'permissionSet: ReadOnlyMetadata\n            targets: ["ou:Security"]\n          - group: developers\n'
        '            permissionSet: Developer\n            targets: ["ou:Sandbox", "account:dev"]',
    )
    diff = access_diff.compare_with_revision(repo, "HEAD")
    assert {(c.grant.account, c.production) for c in diff.grants} == {("audit", True), ("log-archive", True)}
    assert "developers gains ReadOnlyMetadata in audit (production)" in access_diff.render_text(diff)


# --------------------------------------------------------------------------------------------------------
# simulate


def _simulate(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--project-dir", str(project), "simulate", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def filled(project_dir: Path, tmp_path: Path) -> Path:
    project = _project_copy(project_dir, tmp_path)
    _edit(project, "id: <prod-account-id>", f'id: "{PROD_ID}"')
    return project


def test_the_emergency_set_is_bound_by_the_guardrails(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _simulate(
        capsys,
        filled,
        "--account",
        "prod",
        "--action",
        "s3:PutBucketPublicAccessBlock",
        "--resource",
        "arn:aws:s3:::patients",
        "--as-permission-set",
        "BreakGlass",
    )
    assert code == 1
    assert out.startswith("DENIED: explicitly denied by deny-public-s3")
    role = f"arn:aws:iam::{PROD_ID}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_0000000000000000"
    assert f"  aws:PrincipalArn: {role}" in out


def test_a_developer_reads_metadata_in_prod_only_in_the_allowed_region(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--account", "prod", "--action", "ec2:DescribeInstances", "--resource", "*"]
    code, out, _ = _simulate(capsys, filled, *argv, "--as-permission-set", "ReadOnlyMetadata")
    assert code == 0 and out.startswith("ALLOWED")
    code, out, _ = _simulate(capsys, filled, *argv, "--region", "eu-west-1", "--as-permission-set", "ReadOnlyMetadata")
    assert code == 1 and "region-deny" in out


def test_a_set_not_assigned_in_the_account_cannot_be_simulated(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--account", "prod", "--action", "ec2:RunInstances", "--resource", "*"]
    code, _, err = _simulate(capsys, filled, *argv, "--as-permission-set", "Developer")
    assert code == 2
    assert "no group holds the permission set 'Developer' in account 'prod'" in err
    assert "held there: BreakGlass, PlatformAdministrator, ReadOnlyMetadata" in err
    code, _, err = _simulate(
        capsys, filled, *argv, "--as-permission-set", "BreakGlass", "--principal", f"arn:aws:iam::{PROD_ID}:role/x"
    )
    assert code == 2 and "give no --principal" in err


def test_an_instance_outside_us_east_1_puts_its_region_in_the_role_path(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(filled, "allowedRegions: [us-east-1]", "allowedRegions: [us-east-1, eu-west-2]")
    _edit(
        filled,
        "identityStoreId: <identity-store-id>",
        "identityStoreId: <identity-store-id>\n        region: eu-west-2",
    )
    code, out, _ = _simulate(
        capsys,
        filled,
        "--account",
        "dev",
        "--action",
        "ec2:RunInstances",
        "--resource",
        "*",
        "--as-permission-set",
        "Developer",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["principalArn"].startswith(
        "arn:aws:iam::216482851263:role/aws-reserved/sso.amazonaws.com/eu-west-2/AWSReservedSSO_Developer_"
    )
