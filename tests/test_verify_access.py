"""``docustack verify`` on human access, against moto's IAM Identity Center (``sso-admin``) and identity store.

moto has every API these checks call (ListInstances, ListPermissionSets, DescribePermissionSet,
GetInlinePolicyForPermissionSet, ListManagedPoliciesInPermissionSet, ListAccountAssignments, GetGroupId); the
one gap is its identity store ID, made of letters where AWS's pattern has hexadecimal digits, which the moto
foundation replaces (tests/moto_foundation.py). Each test tampers as a person in the console would, then
asserts the finding that names it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto_foundation import LiveFoundation, deny, finding, run_verify, with_status

from docustack import access
from docustack.verify.framework import DRIFT, ERROR, OK

REGION = "us-east-1"


def _clients(live: LiveFoundation) -> tuple[Any, Any, str, str]:
    ic = live.settings.organization.identity_center  # type: ignore[union-attr]
    assert ic is not None
    session = boto3.Session(region_name=REGION)
    return session.client("sso-admin"), session.client("identitystore"), ic.instance_arn, ic.identity_store_id


def _set_arn(sso: Any, instance: str, name: str) -> str:
    for arn in sso.list_permission_sets(InstanceArn=instance)["PermissionSets"]:
        if sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)["PermissionSet"]["Name"] == name:
            return arn
    raise LookupError(name)


def _group_id(store: Any, store_id: str, display_name: str) -> str:
    return store.get_group_id(
        IdentityStoreId=store_id,
        AlternateIdentifier={"UniqueAttribute": {"AttributePath": "DisplayName", "AttributeValue": display_name}},
    )["GroupId"]


def _assign(live: LiveFoundation, account: str, permission_set: str, principal: str, kind: str = "GROUP") -> None:
    sso, _, instance, _ = _clients(live)
    sso.create_account_assignment(
        InstanceArn=instance,
        TargetId=live.account_ids[account],
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=_set_arn(sso, instance, permission_set),
        PrincipalType=kind,
        PrincipalId=principal,
    )


def test_the_compliant_organization_has_every_grant(live_foundation: LiveFoundation, project_dir: Path) -> None:
    report = run_verify(live_foundation, project_dir)
    access_findings = [f for f in report.findings if f.check_id.startswith("ACCESS-")]
    assert access_findings and all(f.status == OK for f in access_findings), [
        (f.check_id, f.resource, f.actual) for f in access_findings if f.status != OK
    ]
    grants = access.expand(live_foundation.settings)
    ok = {(f.resource, f.expected) for f in access_findings if f.check_id == "ACCESS-ASSIGNMENTS"}
    assert ok == {(f"account:{g.account}", f"{g.group} holds {g.permission_set}") for g in grants}
    for name in ("Developer", "ReadOnlyMetadata", "PlatformAdministrator", "BreakGlass"):
        for part in ("SessionDuration", "ManagedPolicies", "InlinePolicy"):
            assert ("ACCESS-PERMISSION-SETS", f"permission-set:{name}/{part}") in with_status(report, OK)
    assert report.exit_code == 0


def test_a_hand_made_group_assignment_is_drift(live_foundation: LiveFoundation, project_dir: Path) -> None:
    _, store, _, store_id = _clients(live_foundation)
    contractors = store.create_group(IdentityStoreId=store_id, DisplayName="Contractors")["GroupId"]
    _assign(live_foundation, "prod", "PlatformAdministrator", contractors)
    report = run_verify(live_foundation, project_dir)
    drifted = [f for f in report.findings if f.status == DRIFT]
    assert [(f.check_id, f.resource, f.expected, f.actual) for f in drifted] == [
        ("ACCESS-ASSIGNMENTS", "account:prod", "not declared", f"group {contractors} holds PlatformAdministrator")
    ]
    assert report.exit_code == 1


def test_a_declared_group_given_more_by_hand_is_drift(live_foundation: LiveFoundation, project_dir: Path) -> None:
    _, store, _, store_id = _clients(live_foundation)
    _assign(live_foundation, "prod", "Developer", _group_id(store, store_id, "DocuStack Developers"))
    report = run_verify(live_foundation, project_dir)
    assert {(f.resource, f.actual) for f in report.findings if f.status == DRIFT} == {
        ("account:prod", "developers holds Developer")
    }


def test_a_hand_made_user_assignment_is_drift(live_foundation: LiveFoundation, project_dir: Path) -> None:
    _, store, _, store_id = _clients(live_foundation)
    user = store.create_user(
        IdentityStoreId=store_id, UserName="mallory", DisplayName="Mallory", Name={"GivenName": "M", "FamilyName": "X"}
    )["UserId"]
    _assign(live_foundation, "dev", "BreakGlass", user, kind="USER")
    report = run_verify(live_foundation, project_dir)
    found = [f for f in report.findings if f.status == DRIFT]
    assert [(f.resource, f.actual) for f in found] == [("account:dev", f"user {user} holds BreakGlass")]


def test_an_assignment_through_an_undeclared_permission_set_is_drift(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    sso, store, instance, store_id = _clients(live_foundation)
    sso.create_permission_set(Name="HandMadeAdmin", InstanceArn=instance, SessionDuration="PT12H")
    _assign(live_foundation, "staging", "HandMadeAdmin", _group_id(store, store_id, "DocuStack Developers"))
    report = run_verify(live_foundation, project_dir)
    assert ("ACCESS-ASSIGNMENTS", "account:staging") in with_status(report, DRIFT)
    extra = [f for f in report.findings if f.status == DRIFT]
    assert [f.actual for f in extra] == ["developers holds HandMadeAdmin"]


def test_a_removed_assignment_is_drift(live_foundation: LiveFoundation, project_dir: Path) -> None:
    sso, store, instance, store_id = _clients(live_foundation)
    sso.delete_account_assignment(
        InstanceArn=instance,
        TargetId=live_foundation.account_ids["staging"],
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=_set_arn(sso, instance, "ReadOnlyMetadata"),
        PrincipalType="GROUP",
        PrincipalId=_group_id(store, store_id, "DocuStack Developers"),
    )
    report = run_verify(live_foundation, project_dir)
    [missing] = [f for f in report.findings if f.status == DRIFT]
    assert (missing.resource, missing.expected, missing.actual) == (
        "account:staging",
        "developers holds ReadOnlyMetadata",
        "not found",
    )


def test_a_changed_permission_set_is_drift(live_foundation: LiveFoundation, project_dir: Path) -> None:
    sso, _, instance, _ = _clients(live_foundation)
    developer = _set_arn(sso, instance, "Developer")
    sso.update_permission_set(InstanceArn=instance, PermissionSetArn=developer, SessionDuration="PT12H")
    metadata = _set_arn(sso, instance, "ReadOnlyMetadata")
    document = json.loads(
        sso.get_inline_policy_for_permission_set(InstanceArn=instance, PermissionSetArn=metadata)["InlinePolicy"]
    )
    document["Statement"][0]["Action"].append("s3:GetObject")
    sso.put_inline_policy_to_permission_set(
        InstanceArn=instance, PermissionSetArn=metadata, InlinePolicy=json.dumps(document)
    )
    sso.attach_managed_policy_to_permission_set(
        InstanceArn=instance, PermissionSetArn=metadata, ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, DRIFT) == {
        ("ACCESS-PERMISSION-SETS", "permission-set:Developer/SessionDuration"),
        ("ACCESS-PERMISSION-SETS", "permission-set:ReadOnlyMetadata/InlinePolicy"),
        ("ACCESS-PERMISSION-SETS", "permission-set:ReadOnlyMetadata/ManagedPolicies"),
    }
    assert finding(report, "ACCESS-PERMISSION-SETS", "permission-set:Developer/SessionDuration").actual == "PT12H"
    inline = finding(report, "ACCESS-PERMISSION-SETS", "permission-set:ReadOnlyMetadata/InlinePolicy")
    assert "ReadConfigurationMetadata" in inline.detail
    managed = finding(report, "ACCESS-PERMISSION-SETS", "permission-set:ReadOnlyMetadata/ManagedPolicies")
    assert managed.actual == "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_a_deleted_group_is_drift(live_foundation: LiveFoundation, project_dir: Path) -> None:
    _, store, _, store_id = _clients(live_foundation)
    # moto keeps the group's assignments when it is deleted (AWS's behaviour here is not what is under test)
    store.delete_group(IdentityStoreId=store_id, GroupId=_group_id(store, store_id, "DocuStack BreakGlass"))
    report = run_verify(live_foundation, project_dir)
    assert finding(report, "ACCESS-GROUPS", "group:emergency").status == DRIFT
    assert finding(report, "ACCESS-GROUPS", "group:emergency").actual == "not found"
    assert report.exit_code == 1


@pytest.mark.parametrize("operation", ["ListAccountAssignments", "GetInlinePolicyForPermissionSet", "GetGroupId"])
def test_what_cannot_be_read_is_never_compliant(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    deny(monkeypatch, operation)
    report = run_verify(live_foundation, project_dir)
    errors = {check for check, _ in with_status(report, ERROR)}
    assert errors and all(check.startswith("ACCESS-") for check in errors), errors
    assert report.exit_code == 2
