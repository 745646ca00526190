"""The docustack command: plan and simulate, their output and exit codes, as an operator sees them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docustack import cli


def test_plan_all_stacks_prints_tree_chart_and_warnings(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    assert cli.main(["--project-dir", str(project_dir), "plan"]) == 0
    out = capsys.readouterr().out
    for stack in ("management", "dev", "staging", "prod"):
        assert f"Stack {stack}: account" in out
    assert (
        "aws:organizations/organization:Organization docustack-organization [protected; adopts <organization-id>]"
        in out
    )
    assert "Root  SCPs: region-deny, protect-cloudtrail, protect-guardrails" in out
    assert "OU Workloads  SCPs: require-s3-encryption, deny-public-s3" in out
    assert "account log-archive (to be created)  SCPs: protect-log-archive" in out
    assert "WARNING: docustack:settings still has placeholders" in out
    # Resources created through the member accounts' providers are counted under those accounts.
    assert "log-archive-us-east-1: " in out and "audit-us-east-1: " in out


def test_plan_one_stack(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    assert cli.main(["--project-dir", str(project_dir), "plan", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stack dev: account 216482851263 (dev), region us-east-1")
    assert "Stack management" not in out


def _copy_project(project_dir: Path, tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(project_dir / name, tmp_path / name)
    shutil.copytree(project_dir / "policies", tmp_path / "policies")
    for stack_file in project_dir.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, tmp_path / stack_file.name)
    return tmp_path


def test_plan_with_bad_config_exits_1_listing_every_problem(
    capsys: pytest.CaptureFixture[str], project_dir: Path, tmp_path: Path
) -> None:
    copy = _copy_project(project_dir, tmp_path)
    stack_file = copy / "Pulumi.management.yaml"
    text = stack_file.read_text().replace('id: "348665872333"', 'id: "3486"').replace("ou: Security", "ou: Securty", 1)
    stack_file.write_text(text)
    assert cli.main(["--project-dir", str(copy), "plan"]) == 1
    captured = capsys.readouterr()
    assert "Stack management: NOT PLANNED" in captured.out
    assert "docustack:settings.account.id: '3486' is not a 12-digit AWS account ID" in captured.out
    assert "Stack dev: account 216482851263" in captured.out  # the other stacks are still planned
    assert "1 of 4 stack(s) have errors" in captured.err


def test_a_folder_that_is_not_the_project_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--project-dir", str(tmp_path), "plan"]) == 1
    assert "has no Pulumi.yaml: not the project folder" in capsys.readouterr().err
    (tmp_path / "Pulumi.yaml").write_text("name: docustack\nruntime: python\n")
    assert cli.main(["--project-dir", str(tmp_path), "plan"]) == 1
    assert "no Pulumi.<stack>.yaml in" in capsys.readouterr().err


def test_simulate_the_management_account_by_name(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    args = ["--project-dir", str(project_dir), "simulate", "--account", "management", "--action", "ec2:RunInstances"]
    assert cli.main([*args, "--region", "us-west-2"]) == 0
    assert capsys.readouterr().out.startswith("ALLOWED: the management account is not restricted by SCPs")


def test_plan_unknown_stack(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    assert cli.main(["--project-dir", str(project_dir), "plan", "--stack", "qa"]) == 1
    assert "no stack 'qa': Pulumi.qa.yaml does not exist" in capsys.readouterr().out


def test_simulate_denied_names_the_statement(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    code = cli.main(
        [
            "--project-dir",
            str(project_dir),
            "simulate",
            "--account",
            "dev",
            "--action",
            "ec2:RunInstances",
            "--region",
            "us-west-2",
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert out.startswith("DENIED: explicitly denied by region-deny (DenyOutsideAllowedRegions) attached to root")
    assert "evaluated: root -> ou:Workloads -> account:dev" in out


def test_simulate_allowed_with_context_as_json(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    args = ["--project-dir", str(project_dir), "simulate", "--account", "216482851263", "--action", "s3:PutObject"]
    args += ["--resource", "arn:aws:s3:::b/k", "--context", "s3:x-amz-server-side-encryption=aws:kms", "--json"]
    assert cli.main(args) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["decision"] == "allowed"
    assert decision["deniedBy"] == []


def test_simulate_usage_errors(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    base = ["--project-dir", str(project_dir), "simulate", "--action", "s3:PutObject"]
    assert cli.main([*base, "--account", "nope"]) == 2
    assert "no account 'nope'" in capsys.readouterr().err
    assert cli.main([*base, "--account", "dev", "--context", "novalue"]) == 2
    assert "must be KEY=VALUE" in capsys.readouterr().err
    assert cli.main([*base, "--stack", "dev", "--account", "dev"]) == 2
    capsys.readouterr()
    assert cli.main([*base[:-2], "--account", "dev", "--action", ""]) == 2
    assert "must be service:Action" in capsys.readouterr().err
    assert cli.main([*base, "--account", "dev", "--region", "nowhere"]) == 2
    assert "is not an AWS region name" in capsys.readouterr().err


def test_console_script_runs_outside_the_project(tmp_path: Path) -> None:
    """Installed as `docustack`: finds no project from an unrelated folder and says so, without a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "docustack.cli", "plan"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "no Pulumi.yaml in" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_markdown_has_a_mermaid_chart_and_a_summary(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    assert cli.main(["--project-dir", str(project_dir), "plan", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "```mermaid\ngraph TD" in out
    assert (
        'n0["Root<br/>SCPs: region-deny, protect-cloudtrail, protect-guardrails<br/>tag policies: tag-policy'
        "<br/>AI services opt-out policies: ai-opt-out<br/>EC2 declarative policies: ec2-declarative"
        '<br/>S3 policies: s3-block-public-access"]'
    ) in out
    assert "#lt;staging-account-id#gt;" in out  # placeholders cannot break the diagram
    assert "| `aws:organizations/account:Account` | 5 |" in out
    for stack in ("management", "dev", "staging", "prod"):
        assert f"## Stack `{stack}`" in out


def test_plan_json_is_stable_and_machine_readable(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    assert cli.main(["--project-dir", str(project_dir), "plan", "--format", "json"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["--project-dir", str(project_dir), "plan", "--format", "json"]) == 0
    assert capsys.readouterr().out == first
    document = json.loads(first)
    management = next(s for s in document["stacks"] if s["stack"] == "management")
    organization = next(
        r for r in management["resources"] if r["type"] == "aws:organizations/organization:Organization"
    )
    assert organization["protect"] is True
    assert organization["import"] == "<organization-id>"
    assert organization["provider"] == "pulumi:providers:aws::management-account"
    assert [child["key"] for child in management["organization"]["children"]] == [
        "management",
        "Security",
        "Sandbox",
        "Workloads",
    ]
