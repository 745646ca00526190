"""The organization trail: management account, every region, validated, encrypted, after the policies."""

from __future__ import annotations

from typing import Any

from audit_helpers import provider_of, provider_pins, settings_problems

from components import OrganizationTrail, OrganizationTrailArgs
from docustack.offline import run_program
from docustack.plan import StackPlan

TRAIL = "aws:cloudtrail/trail:Trail"
MANAGEMENT = "348665872333"


def test_trail_is_an_organization_multi_region_validated_encrypted_and_protected(
    stack_plans: dict[str, StackPlan],
) -> None:
    plan = stack_plans["management"].plan
    trail = plan.one(TRAIL)
    archive_bucket = plan.one("aws:s3/bucket:Bucket", "log-archive-bucket")
    key = plan.one("aws:kms/key:Key", "log-archive-key")
    assert trail.inputs["name"] == "organization-trail"
    assert trail.inputs["isOrganizationTrail"] is True
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["includeGlobalServiceEvents"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["s3BucketName"] == archive_bucket.outputs["bucket"]
    assert trail.inputs["kmsKeyId"] == key.outputs["arn"]
    assert trail.protect
    assert "cloudWatchLogsGroupArn" not in trail.inputs  # off unless the config turns it on


def test_trail_waits_for_the_bucket_policy_and_the_key_policy(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    trail = plan.one(TRAIL)
    bucket_policy = plan.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-bucket-policy")
    key_policy = plan.one("aws:kms/keyPolicy:KeyPolicy")
    organization = plan.one("aws:organizations/organization:Organization")
    assert bucket_policy.urn in trail.dependencies
    assert key_policy.urn in trail.dependencies
    assert organization.urn in trail.dependencies  # cloudtrail.amazonaws.com service access


def test_trail_is_created_by_the_management_account_in_the_home_region(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    provider = provider_of(plan, plan.one(TRAIL))
    assert provider.name == "management-account"
    assert provider_pins(provider) == ([MANAGEMENT], "us-east-1", [])


def test_bucket_policy_names_the_trail_that_is_created(stack_plans: dict[str, StackPlan]) -> None:
    settings = stack_plans["management"].settings
    assert settings.trail_arn() == f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/organization-trail"


def test_cloud_watch_logs_delivery_when_configured() -> None:
    def program() -> None:
        OrganizationTrail(
            "trail",
            OrganizationTrailArgs(
                trail_name="org",
                bucket_name="b",
                kms_key_arn="arn:aws:kms:us-east-1:1:key/k",
                cloud_watch_logs_retention_days=90,
            ),
        )

    plan = run_program(program, stack="test")
    group = plan.one("aws:cloudwatch/logGroup:LogGroup")
    role = plan.one("aws:iam/role:Role")
    role_policy = plan.one("aws:iam/rolePolicy:RolePolicy")
    trail = plan.one(TRAIL)
    assert group.inputs["retentionInDays"] == 90
    assert trail.inputs["cloudWatchLogsGroupArn"] == f"{group.outputs['arn']}:*"
    assert trail.inputs["cloudWatchLogsRoleArn"] == role.outputs["arn"]
    assert role_policy.urn in trail.dependencies
    assert '"Service":"cloudtrail.amazonaws.com"' in role.inputs["assumeRolePolicy"]
    assert f'"Resource":"{group.outputs["arn"]}:log-stream:*"' in role_policy.inputs["policy"]


def test_bad_trail_name_is_rejected_naming_the_field(management_raw: dict[str, Any]) -> None:
    management_raw["organization"]["auditServices"]["trailName"] = "no spaces allowed"
    problems = settings_problems(management_raw)
    assert any(p.startswith("docustack:settings.organization.auditServices.trailName:") for p in problems), problems


def test_missing_cloudtrail_service_access_is_rejected(management_raw: dict[str, Any]) -> None:
    management_raw["organization"]["serviceAccessPrincipals"].remove("cloudtrail.amazonaws.com")
    problems = settings_problems(management_raw)
    assert problems == [
        "docustack:settings.organization.serviceAccessPrincipals: must include 'cloudtrail.amazonaws.com' for the "
        "organization trail (auditServices is set)"
    ]
