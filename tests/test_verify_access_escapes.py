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
from moto_foundation import LiveFoundation, deny, finding, run_verify, with_status

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
