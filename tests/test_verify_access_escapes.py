"""``docustack verify`` on human access, attacked: what a person in the console could add to a permission set or
an assignment that the declared checks would otherwise miss.

A customer managed policy reference grants whatever the policy of that name says in each account the set is
provisioned to (https://docs.aws.amazon.com/singlesignon/latest/userguide/howtocmp.html): attached by hand to the
read-only set, it gives the developers whatever that policy allows in prod. moto has the API
(AttachCustomerManagedPolicyReferenceToPermissionSet, ListCustomerManagedPolicyReferencesInPermissionSet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto_foundation import LiveFoundation, deny, finding, patch_api, run_verify, with_status

from docustack import access
from docustack.verify.framework import DRIFT, ERROR, OK

REGION = "us-east-1"


def _sso(live: LiveFoundation) -> tuple[Any, str]:
    ic = live.settings.organization.identity_center  # type: ignore[union-attr]
    assert ic is not None
    return boto3.Session(region_name=REGION).client("sso-admin"), ic.instance_arn


def _set_arn(sso: Any, instance: str, name: str) -> str:
    for arn in sso.list_permission_sets(InstanceArn=instance)["PermissionSets"]:
        if sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)["PermissionSet"]["Name"] == name:
            return arn
    raise LookupError(name)


def test_no_customer_managed_policy_is_compliant(live_foundation: LiveFoundation, project_dir: Path) -> None:
    report = run_verify(live_foundation, project_dir)
    for name in ("Developer", "ReadOnlyMetadata", "PlatformAdministrator", "BreakGlass"):
        assert ("ACCESS-PERMISSION-SETS", f"permission-set:{name}/CustomerManagedPolicies") in with_status(report, OK)


def test_a_customer_managed_policy_attached_by_hand_is_drift(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    sso, instance = _sso(live_foundation)
    sso.attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=_set_arn(sso, instance, "ReadOnlyMetadata"),
        CustomerManagedPolicyReference={"Name": "ProdWrite", "Path": "/team/"},
    )
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, DRIFT) == {
        ("ACCESS-PERMISSION-SETS", "permission-set:ReadOnlyMetadata/CustomerManagedPolicies")
    }
    found = finding(report, "ACCESS-PERMISSION-SETS", "permission-set:ReadOnlyMetadata/CustomerManagedPolicies")
    assert (found.expected, found.actual) == ("none", "/team/ProdWrite")
    assert report.exit_code == 1


def test_customer_managed_policies_that_cannot_be_read_are_never_compliant(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny(monkeypatch, "ListCustomerManagedPolicyReferencesInPermissionSet")
    report = run_verify(live_foundation, project_dir)
    assert {check for check, _ in with_status(report, ERROR)} == {"ACCESS-PERMISSION-SETS"}
    assert report.exit_code == 2


@pytest.mark.parametrize(
    "operation",
    [
        "ListPermissionSets",
        "ListAccountAssignments",
        "ListManagedPoliciesInPermissionSet",
        "ListCustomerManagedPolicyReferencesInPermissionSet",
    ],
)
def test_every_page_is_read(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    """moto pages these answers (its MaxResults is honoured): one item per page, a hand-made assignment and a
    customer managed policy on a later page are still found, and the compliant rest stays compliant."""
    sso, instance = _sso(live_foundation)
    store = boto3.Session(region_name=REGION).client("identitystore")
    ic = live_foundation.settings.organization.identity_center  # type: ignore[union-attr]
    assert ic is not None
    contractors = store.create_group(IdentityStoreId=ic.identity_store_id, DisplayName="Contractors")["GroupId"]
    sso.create_account_assignment(
        InstanceArn=instance,
        TargetId=live_foundation.account_ids["prod"],
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=_set_arn(sso, instance, "ReadOnlyMetadata"),
        PrincipalType="GROUP",
        PrincipalId=contractors,
    )
    metadata = _set_arn(sso, instance, "ReadOnlyMetadata")
    for name in ("First", "Second"):
        sso.attach_customer_managed_policy_reference_to_permission_set(
            InstanceArn=instance, PermissionSetArn=metadata, CustomerManagedPolicyReference={"Name": name}
        )

    def one_per_page(call: Any, _name: str, params: dict[str, Any]) -> Any:
        params["MaxResults"] = 1
        return call()

    patch_api(monkeypatch, operation, one_per_page, "sso-admin")
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, ERROR) == set()
    assert with_status(report, DRIFT) == {
        ("ACCESS-ASSIGNMENTS", "account:prod"),
        ("ACCESS-PERMISSION-SETS", "permission-set:ReadOnlyMetadata/CustomerManagedPolicies"),
    }
    found = finding(report, "ACCESS-PERMISSION-SETS", "permission-set:ReadOnlyMetadata/CustomerManagedPolicies")
    assert found.actual == "/First, /Second"
    declared = [f for f in report.findings if f.check_id == "ACCESS-ASSIGNMENTS" and f.status == OK]
    assert len(declared) == len(access.expand(live_foundation.settings))


def test_an_assignment_in_an_account_the_settings_do_not_declare_is_drift(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    """An account made by hand in the organization, and access to it made by hand: named by its ID."""
    created = live_foundation.organizations.create_account(Email="shadow@docustack.example", AccountName="shadow")
    shadow = created["CreateAccountStatus"]["AccountId"]
    sso, instance = _sso(live_foundation)
    store = boto3.Session(region_name=REGION).client("identitystore")
    ic = live_foundation.settings.organization.identity_center  # type: ignore[union-attr]
    assert ic is not None
    developers = store.get_group_id(
        IdentityStoreId=ic.identity_store_id,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "DisplayName", "AttributeValue": "DocuStack Developers"}
        },
    )["GroupId"]
    sso.create_account_assignment(
        InstanceArn=instance,
        TargetId=shadow,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=_set_arn(sso, instance, "Developer"),
        PrincipalType="GROUP",
        PrincipalId=developers,
    )
    report = run_verify(live_foundation, project_dir)
    found = [f for f in report.findings if f.check_id == "ACCESS-ASSIGNMENTS" and f.status == DRIFT]
    assert [(f.resource, f.actual) for f in found] == [(f"account:{shadow}", "developers holds Developer")]
    assert report.exit_code == 1


@pytest.mark.parametrize(
    "operation",
    ["ListAccountAssignments", "DescribePermissionSet", "ListCustomerManagedPolicyReferencesInPermissionSet"],
)
def test_one_failing_call_among_many_is_never_compliant(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    """Only the third call of the operation fails (a throttle, a transient denial): the check it belongs to is an
    error, the run exits 2, whatever the other calls found."""
    calls = {"count": 0}

    def third_fails(call: Any, name: str, _params: dict[str, Any]) -> Any:
        calls["count"] += 1
        if calls["count"] == 3:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name)
        return call()

    patch_api(monkeypatch, operation, third_fails, "sso-admin")
    report = run_verify(live_foundation, project_dir)
    assert calls["count"] >= 3
    errors = {check for check, _ in with_status(report, ERROR)}
    assert errors and all(check.startswith("ACCESS-") for check in errors), errors
    assert report.exit_code == 2
