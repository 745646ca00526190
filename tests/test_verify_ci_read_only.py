"""`docustack verify`'s CI-ROLE-READ-ONLY: the read-only CI role carries no managed policy and exactly its declared
allow-list; a managed policy attached by hand, a widened or an extra inline policy is drift."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from conftest import filled_in_config
from moto_foundation import (
    REGION,
    LiveAccount,
    LiveFoundation,
    build_account_stack,
    finding,
    run_verify,
    sign_in,
    with_status,
)

from docustack.settings import CONFIG_KEY
from docustack.verify.framework import DRIFT, OK

PREVIEW_ROLE = "docustack-github-preview"
CHECK = "CI-ROLE-READ-ONLY"


@pytest.fixture
def live_account(aws: None, monkeypatch: pytest.MonkeyPatch) -> LiveAccount:
    sign_in(monkeypatch, "216482851263")
    return build_account_stack(filled_in_config("dev")[CONFIG_KEY], "dev")


def iam() -> object:
    return boto3.Session(region_name=REGION).client("iam")


def read_only_findings(report: object) -> dict[str, str]:
    return {f.resource: f.status for f in report.findings if f.check_id == CHECK}  # type: ignore[attr-defined]


def test_the_declared_role_is_compliant(live_account: LiveAccount, project_dir: Path) -> None:
    report = run_verify(live_account, project_dir, "dev")
    assert read_only_findings(report) == {
        f"role:{PREVIEW_ROLE}/ManagedPolicies": OK,
        f"role:{PREVIEW_ROLE}/InlinePolicies": OK,
        f"role:{PREVIEW_ROLE}/read-only": OK,
    }


def test_the_management_role_with_its_step_into_the_member_roles_is_compliant(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    statuses = read_only_findings(run_verify(live_foundation, project_dir))
    assert statuses == {
        f"role:{PREVIEW_ROLE}/ManagedPolicies": OK,
        f"role:{PREVIEW_ROLE}/InlinePolicies": OK,
        f"role:{PREVIEW_ROLE}/read-only": OK,
        f"role:{PREVIEW_ROLE}/assume-member-read-only": OK,
    }


def test_a_managed_policy_attached_by_hand_is_drift(live_account: LiveAccount, project_dir: Path) -> None:
    # moto does not load AWS managed policies by default; a customer managed one stands in for ReadOnlyAccess.
    client = iam()
    reads = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
    arn = client.create_policy(PolicyName="ReadEverything", PolicyDocument=json.dumps(reads))["Policy"]["Arn"]
    client.attach_role_policy(RoleName=PREVIEW_ROLE, PolicyArn=arn)
    report = run_verify(live_account, project_dir, "dev")
    managed = finding(report, CHECK, f"role:{PREVIEW_ROLE}/ManagedPolicies")
    assert (managed.status, managed.expected, managed.actual) == (DRIFT, "none", arn)
    assert report.exit_code != 0


def test_a_widened_allow_list_is_drift(live_account: LiveAccount, project_dir: Path) -> None:
    client = iam()
    document = json.loads(
        json.dumps(client.get_role_policy(RoleName=PREVIEW_ROLE, PolicyName="read-only")["PolicyDocument"])
    )
    document["Statement"][0]["Action"].append("lambda:GetFunctionConfiguration")
    client.put_role_policy(RoleName=PREVIEW_ROLE, PolicyName="read-only", PolicyDocument=json.dumps(document))
    report = run_verify(live_account, project_dir, "dev")
    widened = finding(report, CHECK, f"role:{PREVIEW_ROLE}/read-only")
    assert widened.status == DRIFT
    assert "statement ReadConfiguration differs in Action" in widened.detail


def test_an_extra_inline_policy_or_a_missing_role_is_drift(live_account: LiveAccount, project_dir: Path) -> None:
    client = iam()
    extra = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
    client.put_role_policy(RoleName=PREVIEW_ROLE, PolicyName="extra", PolicyDocument=json.dumps(extra))
    report = run_verify(live_account, project_dir, "dev")
    names = finding(report, CHECK, f"role:{PREVIEW_ROLE}/InlinePolicies")
    assert (names.status, names.expected, names.actual) == (DRIFT, "read-only", "extra, read-only")

    client.delete_role_policy(RoleName=PREVIEW_ROLE, PolicyName="extra")
    client.delete_role_policy(RoleName=PREVIEW_ROLE, PolicyName="read-only")
    client.delete_role(RoleName=PREVIEW_ROLE)
    report = run_verify(live_account, project_dir, "dev")
    assert (CHECK, f"role:{PREVIEW_ROLE}") in with_status(report, DRIFT)
