"""MEMBER-READ-ONLY-ROLE compares the Log Archive and Audit accounts' read-only role's permissions, not only its
trust: a managed policy (ReadOnlyAccess reads data) or a widened allow-list is drift, never compliant."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from moto_foundation import LiveFoundation, run_verify, with_status

from docustack.verify.framework import DRIFT

ROLE = "docustack-readonly"


def _attach_managed_policy(f: LiveFoundation) -> None:
    # A customer managed stand-in for ReadOnlyAccess (moto does not load AWS's managed policies): any managed
    # policy is drift, whoever manages it.
    iam = f.member("audit").client("iam")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="reads-tables", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=arn)


def _widen_allow_list(f: LiveFoundation) -> None:
    iam = f.member("log-archive").client("iam")
    document = iam.get_role_policy(RoleName=ROLE, PolicyName="read-only")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    document["Statement"].append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    iam.put_role_policy(RoleName=ROLE, PolicyName="read-only", PolicyDocument=json.dumps(document))


def _extra_inline_policy(f: LiveFoundation) -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    f.member("audit").client("iam").put_role_policy(
        RoleName=ROLE, PolicyName="more", PolicyDocument=json.dumps(document)
    )


@pytest.mark.parametrize(
    ("tamper", "resource"),
    [
        (_attach_managed_policy, f"account:audit/role:{ROLE}/ManagedPolicies"),
        (_widen_allow_list, f"account:log-archive/role:{ROLE}/read-only"),
        (_extra_inline_policy, f"account:audit/role:{ROLE}/InlinePolicies"),
    ],
    ids=["managed policy attached", "allow-list widened", "extra inline policy"],
)
def test_member_read_only_role_permissions_drift(
    tamper: Callable[[LiveFoundation], None], resource: str, live_foundation: LiveFoundation, project_dir: Path
) -> None:
    tamper(live_foundation)
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, DRIFT) == {("MEMBER-READ-ONLY-ROLE", resource)}
    assert report.exit_code == 1
