"""`docustack simulate` answers exactly or exits 2 naming what it cannot decide, as an operator sees it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from docustack import cli

DEV = "216482851263"
BREAK_GLASS_SESSION = f"arn:aws:sts::{DEV}:assumed-role/docustack-break-glass/alice"


def _simulate(project_dir: Path, *args: str) -> list[str]:
    return ["--project-dir", str(project_dir), "simulate", *args]


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


EC2_IN_US_WEST_2 = ("--account", "dev", "--action", "ec2:RunInstances", "--region", "us-west-2")


def test_a_break_glass_session_is_evaluated_as_its_role(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    """What `aws sts get-caller-identity` prints, with the role's path: exempt, as the role's ARN is."""
    argv = _simulate(project_dir, *EC2_IN_US_WEST_2, "--principal", BREAK_GLASS_SESSION, "--role-path", "/")
    code, out, err = _run(capsys, argv)
    assert (code, err) == (0, "")
    assert out.startswith("ALLOWED: no SCP denies it")
    assert f"aws:PrincipalArn: arn:aws:iam::{DEV}:role/docustack-break-glass" in out
    # The role's ARN itself, as --principal, gives the same answer.
    role = f"arn:aws:iam::{DEV}:role/docustack-break-glass"
    assert _run(capsys, _simulate(project_dir, *EC2_IN_US_WEST_2, "--principal", role))[0] == 0
    # A role of that name under another path is not the exempt role: the path decides.
    argv = _simulate(project_dir, *EC2_IN_US_WEST_2, "--principal", BREAK_GLASS_SESSION, "--role-path", "/x/")
    assert _run(capsys, argv)[0] == 1


def test_a_session_without_the_role_path_is_refused(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    code, out, err = _run(capsys, _simulate(project_dir, *EC2_IN_US_WEST_2, "--principal", BREAK_GLASS_SESSION))
    assert (code, out) == (2, "")
    assert "is a role session" in err and "--role-path" in err
    assert "aws iam get-role --role-name docustack-break-glass --query Role.Path" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--context", "aws:RequestedRegion=us-east-1"), "contradicts --region ('us-west-2')"),
        (("--context", "aws:requestedregion=us-east-1"), "contradicts --region"),
        (("--context", f"aws:PrincipalArn=arn:aws:iam::{DEV}:role/docustack-break-glass"), "contradicts --principal"),
        (("--context", "aws:PrincipalAccount=111122223333"), "contradicts --account/--principal"),
        (("--context", "k=1", "--context", "k=2"), "given twice with different values"),
        (("--resource", "arn:aws:s3:::"), "is not an ARN"),
        (("--resource", "bucket/key"), "is not an ARN"),
        (("--principal", "arn:aws:iam::2164:role/x"), "is not an IAM role, user, root"),
        (("--principal", f"arn:aws:iam::{DEV}:instance-profile/x"), "is not an IAM role, user, root"),
        (("--principal", "arn:aws:iam::111122223333:role/x"), "--principal is in account 111122223333"),
        (("--role-path", "/"), "is not a role session ARN"),
    ],
)
def test_contradictory_or_malformed_input_exits_2(
    capsys: pytest.CaptureFixture[str], project_dir: Path, extra: tuple[str, ...], message: str
) -> None:
    code, out, err = _run(capsys, _simulate(project_dir, *EC2_IN_US_WEST_2, *extra))
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


def test_an_account_without_an_id_needs_a_principal(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    code, _, err = _run(capsys, _simulate(project_dir, "--account", "staging", "--action", "ec2:RunInstances"))
    assert code == 2
    assert "account 'staging' has no ID in the settings yet: pass --principal" in err
    argv = _simulate(project_dir, "--account", "staging", "--action", "ec2:RunInstances", "--region", "us-west-2")
    assert _run(capsys, [*argv, "--principal", "arn:aws:iam::123456789012:role/x"])[0] == 1


def test_a_resource_the_decision_depends_on_must_be_given(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    """Changing a role's trust policy: protect-guardrails names the exempt roles, so the resource decides."""
    argv = _simulate(project_dir, "--account", "dev", "--action", "iam:UpdateAssumeRolePolicy")
    code, _, err = _run(capsys, argv)
    assert code == 2
    assert "applies to some resources only: the decision needs the resource ARN" in err
    exempt_role = f"arn:aws:iam::{DEV}:role/docustack-break-glass"
    assert _run(capsys, [*argv, "--resource", exempt_role])[0] == 1
    assert _run(capsys, [*argv, "--resource", f"arn:aws:iam::{DEV}:role/app"])[0] == 0


def test_absent_keys_are_reported(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    argv = _simulate(project_dir, "--account", "dev", "--action", "s3:PutObject", "--resource", "arn:aws:s3:::b/k")
    code, out, _ = _run(capsys, [*argv, "--json"])
    assert code == 1
    document = json.loads(out)
    assert "s3:x-amz-server-side-encryption" in document["absentKeys"]
    assert document["principalArn"] == f"arn:aws:iam::{DEV}:role/docustack-simulated-principal"
    code, out, _ = _run(capsys, argv)
    assert "taken as absent from the request: " in out


def _project_copy(project_dir: Path, tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py", *(p.name for p in project_dir.glob("Pulumi.*.yaml"))):
        shutil.copy(project_dir / name, tmp_path / name)
    shutil.copytree(project_dir / "policies", tmp_path / "policies")
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"ArnNotLike"', '"ArnNotLikeIfExists"', "condition operator 'ArnNotLikeIfExists' is not evaluated"),
        ('"StringNotEquals"', '"ForAnyValue:StringNotEquals"', "'ForAnyValue:StringNotEquals' is not evaluated"),
        ('"{{allowed_regions}}"', '"${aws:PrincipalTag/region}"', "policy variable"),
    ],
)
def test_an_unsupported_construct_in_a_policy_file_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], project_dir: Path, tmp_path: Path, old: str, new: str, message: str
) -> None:
    copy = _project_copy(project_dir, tmp_path)
    policy = copy / "policies" / "region-deny.json"
    text = policy.read_text()
    assert old in text
    policy.write_text(text.replace(old, new))
    code, out, err = _run(capsys, _simulate(copy, *EC2_IN_US_WEST_2))
    assert (code, out) == (2, "")
    assert "policy 'region-deny', statement 'DenyOutsideAllowedRegions'" in err
    assert message in err
    assert "Traceback" not in err
