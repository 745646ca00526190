"""OrganizationalUnits and MemberAccount: the tree is wired parent-first; accounts can never be closed by an edit."""

from __future__ import annotations

from components import (
    MemberAccount,
    MemberAccountArgs,
    OrganizationalUnits,
    OrganizationalUnitsArgs,
    OrganizationalUnitSpec,
)
from docustack.offline import run_program

OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
ACCOUNT = "aws:organizations/account:Account"


def test_nested_ous_name_their_parent() -> None:
    units = (
        OrganizationalUnitSpec("Workloads", "Workloads", None),
        OrganizationalUnitSpec("Workloads/Regulated", "Regulated", "Workloads"),
        OrganizationalUnitSpec("Workloads/Regulated/PHI", "PHI", "Workloads/Regulated"),
    )
    plan = run_program(
        lambda: OrganizationalUnits("ou", OrganizationalUnitsArgs(root_id="r-root", units=units)), stack="t"
    )
    by_name = {r.inputs["name"]: r for r in plan.by_type(OU)}
    assert by_name["Workloads"].inputs["parentId"] == "r-root"
    assert by_name["Regulated"].inputs["parentId"] == by_name["Workloads"].outputs["id"]
    assert by_name["PHI"].inputs["parentId"] == by_name["Regulated"].outputs["id"]
    assert sorted(r.name for r in plan.by_type(OU)) == [
        "ou-workloads",
        "ou-workloads-regulated",
        "ou-workloads-regulated-phi",
    ]


def test_created_account_is_protected_retained_and_gets_the_access_role() -> None:
    plan = run_program(
        lambda: MemberAccount("audit", MemberAccountArgs("DocuStack Audit", "audit@example.com", "ou-1")), stack="t"
    )
    account = plan.one(ACCOUNT)
    assert account.protect and account.retain_on_delete
    assert account.inputs["closeOnDeletion"] is False
    assert account.inputs["roleName"] == "OrganizationAccountAccessRole"
    assert account.inputs["parentId"] == "ou-1"
    assert account.import_id == ""


def test_adopted_account_is_imported_and_ignores_what_cannot_be_read_back() -> None:
    plan = run_program(
        lambda: MemberAccount(
            "dev", MemberAccountArgs("Dev", "dev@example.com", "ou-1", existing_account_id="216482851263")
        ),
        stack="t",
    )
    account = plan.one(ACCOUNT)
    assert account.import_id == "216482851263"
    assert account.protect and account.retain_on_delete
    assert "roleName" not in account.inputs
    assert set(account.ignore_changes) == {"roleName", "iamUserAccessToBilling"}
