"""`docustack plan --base REF`: statement changes per target and probe flips against a git revision."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from docustack import cli, guardrail_diff
from docustack.project import ProjectError


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(project_dir: Path, tmp_path: Path) -> Path:
    """A git repository holding a copy of the project, committed as the base revision."""
    for name in ("Pulumi.yaml", "__main__.py", *(p.name for p in project_dir.glob("Pulumi.*.yaml"))):
        shutil.copy(project_dir / name, tmp_path / name)
    shutil.copytree(project_dir / "policies", tmp_path / "policies")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    return tmp_path


def test_no_change_reports_nothing(repo: Path) -> None:
    diff = guardrail_diff.compare_with_revision(repo, "HEAD")
    assert diff.empty
    assert guardrail_diff.render_text(diff) == "Guardrails: no change against HEAD"


def test_dropping_the_encryption_scp_from_workloads_flips_uploads(repo: Path) -> None:
    stack_file = repo / "Pulumi.management.yaml"
    stack_file.write_text(
        stack_file.read_text().replace(
            'targets: ["ou:Workloads"]\n        - name: deny-public-s3',
            'targets: ["ou:Sandbox"]\n        - name: deny-public-s3',
        )
    )
    diff = guardrail_diff.compare_with_revision(repo, "HEAD")
    changes = {(c.change, c.policy, c.target) for c in diff.statements}
    assert changes == {
        ("removed", "require-s3-encryption", "ou:Workloads"),
        ("added", "require-s3-encryption", "ou:Sandbox"),
    }
    flips = {f.probe: (f.before, f.after) for f in diff.flips}
    assert flips["dev upload without encryption header"] == ("denied", "allowed")
    assert flips["sandbox upload without header"] == ("allowed", "denied")
    text = guardrail_diff.render_text(diff)
    assert "probe    sandbox upload without header: allowed -> now denied" in text


def test_a_narrowed_statement_shows_the_field_that_changed(repo: Path) -> None:
    policy = repo / "policies" / "protect-cloudtrail.json"
    document = json.loads(policy.read_text())
    document["Statement"][0]["Action"].remove("cloudtrail:StopLogging")
    policy.write_text(json.dumps(document, indent=2))
    diff = guardrail_diff.compare_with_revision(repo, "HEAD")
    (change,) = diff.statements
    assert (change.change, change.policy, change.sid, change.target) == (
        "changed",
        "protect-cloudtrail",
        "DenyStoppingOrWeakeningTrails",
        "root",
    )
    assert "Action: -cloudtrail:StopLogging" in guardrail_diff.render_text(diff)
    assert {f.probe for f in diff.flips} == {"stop trail in dev"}
    markdown = guardrail_diff.render_markdown(diff)
    assert "| changed | `protect-cloudtrail` | `DenyStoppingOrWeakeningTrails` | `root` |" in markdown
    assert "| stop trail in dev | denied | **allowed** |" in markdown


def test_plan_command_with_base_in_every_format(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = repo / "policies" / "region-deny.json"
    policy.write_text(policy.read_text().replace('"iam:*",', '"iam:*",\n        "ec2:*",'))
    assert cli.main(["--project-dir", str(repo), "plan", "--stack", "management", "--base", "HEAD"]) == 0
    assert "probe    EC2 in us-west-2 from dev: denied -> now allowed" in capsys.readouterr().out
    assert (
        cli.main(["--project-dir", str(repo), "plan", "--stack", "management", "--base", "HEAD", "--format", "json"])
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert document["guardrails"]["statements"][0]["policy"] == "region-deny"
    assert {"probe": "EC2 in us-west-2 from dev", "before": "denied", "after": "allowed"}.items() <= document[
        "guardrails"
    ]["probeFlips"][0].items()


def test_unknown_revision_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(ProjectError, match="cannot read revision 'nope'"):
        guardrail_diff.compare_with_revision(repo, "nope")


@pytest.mark.parametrize("ref", ["--output=victim.txt", "-o", "", "HEAD\n--output=victim.txt"])
def test_a_ref_git_could_read_as_an_option_exits_2(repo: Path, capsys: pytest.CaptureFixture[str], ref: str) -> None:
    victim = repo / "victim.txt"
    victim.write_text("keep me\n")
    assert cli.main(["--project-dir", str(repo), "plan", "--stack", "management", f"--base={ref}"]) == 2
    assert "is not a git revision name" in capsys.readouterr().err
    assert victim.read_text() == "keep me\n"


def test_git_never_reads_the_ref_as_an_option(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even past the CLI's check, the ref reaches git only after --end-of-options and as a resolved commit ID."""
    victim = repo / "victim.txt"
    victim.write_text("keep me\n")
    monkeypatch.setattr(guardrail_diff, "check_revision", lambda revision: None)
    for ref in ("--output=victim.txt", "--remote=file:///nowhere", "-h"):
        with pytest.raises(ProjectError, match="cannot read revision"):
            guardrail_diff.compare_with_revision(repo, ref)
    assert victim.read_text() == "keep me\n"


def test_a_revision_the_simulator_cannot_decide_shows_undecided(repo: Path) -> None:
    policy = repo / "policies" / "region-deny.json"
    policy.write_text(policy.read_text().replace('"ArnNotLike"', '"ArnNotLikeIfExists"'))
    diff = guardrail_diff.compare_with_revision(repo, "HEAD")
    flip = next(f for f in diff.flips if f.probe == "EC2 in us-west-2 from dev")
    assert (flip.before, flip.after) == ("denied", "undecided")
    assert "condition operator 'ArnNotLikeIfExists' is not evaluated" in flip.reason
