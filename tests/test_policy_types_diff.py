"""`docustack plan --base REF` reports changes to policies of every type: management-policy settings by key path,
attachments, and no probe flips from types that decide no request."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from docustack import cli, guardrail_diff
from policies import management_syntax


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(project_dir: Path, tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py", *(p.name for p in project_dir.glob("Pulumi.*.yaml"))):
        shutil.copy(project_dir / name, tmp_path / name)
    shutil.copytree(project_dir / "policies", tmp_path / "policies")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    return tmp_path


def _edit_policy(repo: Path, file: str, edit: Callable[[Any], object]) -> None:
    path = repo / "policies" / file
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document, indent=2))


def test_an_added_tag_value_is_a_changed_setting_on_each_target(repo: Path) -> None:
    _edit_policy(
        repo, "tag-policy.json", lambda d: d["tags"]["data-classification"]["tag_value"]["@@assign"].append("secret")
    )
    diff = guardrail_diff.compare_with_revision(repo, "HEAD")
    (change,) = diff.statements
    assert (change.change, change.type, change.policy, change.sid, change.target) == (
        "changed",
        "TAG_POLICY",
        "tag-policy",
        "tags/data-classification/tag_value",
        "root",
    )
    assert diff.attachments == [] and diff.flips == []
    text = guardrail_diff.render_text(diff)
    assert "changed  tag policy tag-policy (tags/data-classification/tag_value) on root" in text
    assert "@@assign: +secret" in text


def test_an_ai_opt_in_shows_the_value_that_changed(repo: Path) -> None:
    _edit_policy(
        repo, "ai-opt-out.json", lambda d: d["services"]["default"]["opt_out_policy"].update({"@@assign": "optIn"})
    )
    diff = guardrail_diff.compare_with_revision(repo, "HEAD")
    (change,) = diff.statements
    assert (change.type, change.sid) == ("AISERVICES_OPT_OUT_POLICY", "services/default/opt_out_policy")
    assert '@@assign: "optOut" -> "optIn"' in guardrail_diff.render_text(diff)
    markdown = guardrail_diff.render_markdown(diff)
    assert (
        "| changed | `ai-opt-out` | `services/default/opt_out_policy (AI services opt-out policy)` | `root` | "
        '@@assign: "optOut" -&gt; "optIn" |'
    ) in markdown


def test_unlocking_a_setting_for_child_policies_is_reported(repo: Path) -> None:
    _edit_policy(
        repo,
        "ec2-declarative.json",
        lambda d: d["ec2_attributes"]["serial_console_access"]["status"].update(
            {"@@operators_allowed_for_child_policies": ["@@all"]}
        ),
    )
    diff = guardrail_diff.compare_with_revision(repo, "HEAD")
    (change,) = diff.statements
    assert (change.type, change.sid) == ("DECLARATIVE_POLICY_EC2", "ec2_attributes/serial_console_access/status")
    assert "@@operators_allowed_for_child_policies: +@@all; -@@none" in guardrail_diff.render_text(diff)


def test_moving_a_policy_reports_the_attachments_and_every_setting(repo: Path) -> None:
    stack_file = repo / "Pulumi.management.yaml"
    text = stack_file.read_text()
    marker = "          file: ec2-declarative.json\n"
    start = text.index(marker)
    targets = text.index("targets: [root]", start)
    stack_file.write_text(text[:targets] + 'targets: ["ou:Sandbox"]' + text[targets + len("targets: [root]") :])
    diff = guardrail_diff.compare_with_revision(repo, "HEAD")
    assert [(a.change, a.type, a.policy, a.target) for a in diff.attachments] == [
        ("detached", "DECLARATIVE_POLICY_EC2", "ec2-declarative", "root"),
        ("attached", "DECLARATIVE_POLICY_EC2", "ec2-declarative", "ou:Sandbox"),
    ]
    moved = {(c.change, c.target) for c in diff.statements}
    assert moved == {("removed", "root"), ("added", "ou:Sandbox")}
    assert {c.sid for c in diff.statements if c.change == "added"} >= {
        "ec2_attributes/snapshot_block_public_access/state",
        "ec2_attributes/instance_metadata_defaults/http_tokens",
    }
    assert all(c.type == "DECLARATIVE_POLICY_EC2" for c in diff.statements)
    assert diff.flips == []
    text = guardrail_diff.render_text(diff)
    assert "detached EC2 declarative policy ec2-declarative from root" in text
    assert "attached EC2 declarative policy ec2-declarative to ou:Sandbox" in text
    assert "| detached | EC2 declarative policy | `ec2-declarative` | `root` |" in guardrail_diff.render_markdown(diff)


def test_the_json_comparison_names_each_change_s_type(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit_policy(repo, "tag-policy.json", lambda d: d["tags"]["cost-center"]["tag_value"]["@@assign"].remove("shared"))
    argv = ["--project-dir", str(repo), "plan", "--stack", "management", "--base", "HEAD", "--format", "json"]
    assert cli.main(argv) == 0
    guardrails = json.loads(capsys.readouterr().out)["guardrails"]
    (statement,) = guardrails["statements"]
    assert statement["type"] == "TAG_POLICY" and statement["sid"] == "tags/cost-center/tag_value"
    assert "shared" in statement["before"]["@@assign"] and "shared" not in statement["after"]["@@assign"]
    assert guardrails["attachments"] == [] and guardrails["probeFlips"] == []


def test_setting_paths_cover_operators_at_every_level() -> None:
    document = {
        "services": {
            "@@operators_allowed_for_child_policies": ["@@none"],
            "default": {"opt_out_policy": {"@@assign": "optOut"}},
        }
    }
    assert management_syntax.setting_paths(document) == {
        "services": {"@@operators_allowed_for_child_policies": ["@@none"]},
        "services/default/opt_out_policy": {"@@assign": "optOut"},
    }
