"""The perimeter attacked: requests an account without an ID yet could smuggle past the simulator, and the
paths round the Sandbox's SCP that AWS documents.

An account of the settings without an ID yet (``prod``, ``staging``) may be any account AWS has not told us
about, but not one whose ID the settings give to another account: an ARN in dev's account is never prod's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from docustack import cli

DEV = "216482851263"
MANAGEMENT = "348665872333"


def _run(capsys: pytest.CaptureFixture[str], project_dir: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--project-dir", str(project_dir), "simulate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("owner", [DEV, MANAGEMENT])
def test_a_resource_account_without_an_id_is_not_an_arn_of_another_known_account(
    capsys: pytest.CaptureFixture[str], project_dir: Path, owner: str
) -> None:
    key = f"arn:aws:kms:us-east-1:{owner}:key/k"
    code, out, err = _run(
        capsys,
        project_dir,
        "--account",
        "dev",
        "--action",
        "kms:Decrypt",
        "--resource",
        key,
        "--resource-account",
        "prod",
    )
    assert (code, out) == (2, ""), out
    assert "--resource-account 'prod'" in err and owner in err


def test_a_resource_account_without_an_id_may_hold_an_arn_of_an_unknown_id(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    key = "arn:aws:kms:us-east-1:333344445555:key/k"
    code, out, err = _run(
        capsys,
        project_dir,
        "--account",
        "dev",
        "--action",
        "kms:Decrypt",
        "--resource",
        key,
        "--resource-account",
        "prod",
    )
    assert (code, err) == (0, ""), err
    assert "RCPs evaluated (prod)" in out


@pytest.mark.parametrize("principal_account", [DEV, MANAGEMENT])
def test_a_caller_without_an_id_is_not_a_principal_of_another_known_account(
    capsys: pytest.CaptureFixture[str], project_dir: Path, principal_account: str
) -> None:
    """SCPs bind a principal through its own account: prod's SCPs say nothing of a dev role."""
    code, out, err = _run(
        capsys,
        project_dir,
        "--account",
        "prod",
        "--principal",
        f"arn:aws:iam::{principal_account}:role/x",
        "--action",
        "kms:Decrypt",
        "--resource",
        f"arn:aws:kms:us-east-1:{DEV}:key/k",
    )
    assert (code, out) == (2, ""), out
    assert principal_account in err and "prod" in err


def test_a_web_identity_of_another_known_account_is_not_called_in_an_account_without_an_id(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    code, out, err = _run(
        capsys,
        project_dir,
        "--account",
        "prod",
        "--principal",
        f"arn:aws:iam::{DEV}:oidc-provider/token.actions.githubusercontent.com",
        "--action",
        "sts:AssumeRoleWithWebIdentity",
        "--resource",
        f"arn:aws:iam::{DEV}:role/ci",
        "--context",
        "token.actions.githubusercontent.com:sub=repo:<github-repository>:ref:refs/heads/main",
    )
    assert (code, out) == (2, ""), out
    assert DEV in err
