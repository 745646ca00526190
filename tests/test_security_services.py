"""GuardDuty and Security Hub: the Audit account is organization admin, auto-enabling every member."""

from __future__ import annotations

from typing import Any

from audit_helpers import provider_of, provider_pins, settings_problems

from docustack import stacks
from docustack.offline import fake_account_id, run_program
from docustack.plan import StackPlan
from docustack.settings import parse_settings

MANAGEMENT = "348665872333"
AUDIT = fake_account_id("DocuStack Audit")


def _in(plan, resource, provider_name: str, account_id: str, region: str) -> None:
    provider = provider_of(plan, resource)
    assert provider.name == provider_name, resource.name
    assert provider_pins(provider)[:2] == ([account_id], region), resource.name


def test_guardduty_admin_designated_from_management_and_auto_enabled_from_audit(
    stack_plans: dict[str, StackPlan],
) -> None:
    plan = stack_plans["management"].plan
    admin = plan.one("aws:guardduty/organizationAdminAccount:OrganizationAdminAccount")
    detector = plan.one("aws:guardduty/detector:Detector", "guardduty-us-east-1-detector")
    management_detector = plan.one("aws:guardduty/detector:Detector", "guardduty-us-east-1-management-detector")
    configuration = plan.one("aws:guardduty/organizationConfiguration:OrganizationConfiguration")
    assert admin.inputs["adminAccountId"] == AUDIT
    _in(plan, admin, "management-account", MANAGEMENT, "us-east-1")
    _in(plan, management_detector, "management-account", MANAGEMENT, "us-east-1")
    _in(plan, detector, "audit-us-east-1", AUDIT, "us-east-1")
    _in(plan, configuration, "audit-us-east-1", AUDIT, "us-east-1")
    assert configuration.inputs["autoEnableOrganizationMembers"] == "ALL"
    assert "autoEnable" not in configuration.inputs  # the API takes one or the other
    assert configuration.inputs["detectorId"] == detector.outputs["id"]
    assert admin.urn in configuration.dependencies
    assert detector.urn in admin.dependencies
    assert plan.one("aws:organizations/organization:Organization").urn in admin.dependencies


def test_security_hub_admin_designated_from_management_and_auto_enabled_from_audit(
    stack_plans: dict[str, StackPlan],
) -> None:
    plan = stack_plans["management"].plan
    admin = plan.one("aws:securityhub/organizationAdminAccount:OrganizationAdminAccount")
    account = plan.one("aws:securityhub/account:Account")
    configuration = plan.one("aws:securityhub/organizationConfiguration:OrganizationConfiguration")
    assert admin.inputs["adminAccountId"] == AUDIT
    _in(plan, admin, "management-account", MANAGEMENT, "us-east-1")
    _in(plan, account, "audit-us-east-1", AUDIT, "us-east-1")
    _in(plan, configuration, "audit-us-east-1", AUDIT, "us-east-1")
    assert configuration.inputs["autoEnable"] is True
    assert configuration.inputs["autoEnableStandards"] == "DEFAULT"
    assert admin.urn in configuration.dependencies
    assert account.urn in admin.dependencies


def test_every_allowed_region_gets_its_own_pinned_providers(management_raw: dict[str, Any]) -> None:
    """Two allowed regions: Audit providers per region, and the management account designates the admin in each."""
    management_raw["allowedRegions"] = ["us-east-1", "us-west-2"]
    settings = parse_settings(management_raw, source="test")
    plan = run_program(lambda: stacks.compose(settings), stack="management")
    for region in ("us-east-1", "us-west-2"):
        management_provider = "management-account" if region == "us-east-1" else f"management-{region}"
        for component_type, name in (
            ("docustack:audit:GuardDutyOrganization", f"guardduty-{region}"),
            ("docustack:audit:SecurityHubOrganization", f"securityhub-{region}"),
        ):
            children = plan.children(plan.one(component_type, name).urn)
            assert children
            for child in children:
                if child.name.endswith(("-admin-account", "-management-detector")):
                    _in(plan, child, management_provider, MANAGEMENT, region)
                else:
                    _in(plan, child, f"audit-{region}", AUDIT, region)
    # Global resource types are recorded once per account, in the home region, whose recorder made the role.
    # (The management account's recorder here; member accounts record through the organization baseline, with a
    # stack instance per allowed region: tests/test_organization_baseline.py.)
    west = plan.one("aws:cfg/recorder:Recorder", "config-management-us-west-2-recorder")
    assert west.inputs["recordingGroup"]["includeGlobalResourceTypes"] is False
    assert west.inputs["roleArn"] == plan.one("aws:iam/role:Role", "config-management-us-east-1-role").outputs["arn"]
    assert not [r for r in plan.by_type("aws:iam/role:Role") if "us-west-2" in r.name]
    instances = plan.by_type("aws:cloudformation/stackSetInstance:StackSetInstance")
    baseline = [i for i in instances if i.name.startswith("organization-baseline-")]
    assert sorted(i.inputs["stackSetInstanceRegion"] for i in baseline) == ["us-east-1", "us-west-2"]
    # The member read-only role is IAM, which is global: one instance, in the home region only.
    read_only = [i for i in instances if i.name.startswith("member-read-only-")]
    assert [i.inputs["stackSetInstanceRegion"] for i in read_only] == ["us-east-1"]


def test_guardduty_and_security_hub_service_access_is_required(management_raw: dict[str, Any]) -> None:
    principals = management_raw["organization"]["serviceAccessPrincipals"]
    principals.remove("guardduty.amazonaws.com")
    principals.remove("securityhub.amazonaws.com")
    assert settings_problems(management_raw) == [
        "docustack:settings.organization.serviceAccessPrincipals: must include 'guardduty.amazonaws.com' for "
        "GuardDuty's organization admin account (auditServices is set)",
        "docustack:settings.organization.serviceAccessPrincipals: must include 'securityhub.amazonaws.com' for "
        "Security Hub's organization admin account (auditServices is set)",
    ]


def test_audit_account_must_not_be_the_log_archive(management_raw: dict[str, Any]) -> None:
    management_raw["organization"]["auditServices"]["auditAccount"] = "log-archive"
    problems = settings_problems(management_raw)
    assert any(
        p.startswith("docustack:settings.organization.auditServices.auditAccount: must not be") for p in problems
    )


def test_access_role_must_be_exempt_or_the_stack_locks_itself_out(management_raw: dict[str, Any]) -> None:
    management_raw["organization"]["guardrailExemptRoles"] = ["docustack-break-glass"]
    problems = settings_problems(management_raw)
    assert [p.split(":")[1].strip() for p in problems] == [
        "settings.organization.accounts[0].roleName",
        "settings.organization.accounts[1].roleName",
    ]
