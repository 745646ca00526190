"""AWS Config: a recorder in every account the management stack reaches, and the aggregator in Audit."""

from __future__ import annotations

import json
from typing import Any

from audit_helpers import provider_of, provider_pins, settings_problems

from components import ConfigRecorder, ConfigRecorderArgs
from docustack.offline import fake_account_id, run_program
from docustack.plan import StackPlan

ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _recorder_plan(**overrides: Any):
    args = {"bucket_name": "logs", "kms_key_arn": "arn:aws:kms:us-east-1:444455556666:key/k", **overrides}
    return run_program(lambda: ConfigRecorder("config", ConfigRecorderArgs(**args)), stack="test")


def test_recorder_records_everything_and_delivers_encrypted_to_the_bucket() -> None:
    plan = _recorder_plan()
    recorder = plan.one("aws:cfg/recorder:Recorder")
    channel = plan.one("aws:cfg/deliveryChannel:DeliveryChannel")
    status = plan.one("aws:cfg/recorderStatus:RecorderStatus")
    role = plan.one("aws:iam/role:Role")
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert recorder.inputs["recordingGroup"] == {"allSupported": True, "includeGlobalResourceTypes": True}
    assert recorder.inputs["roleArn"] == role.outputs["arn"]
    assert json.loads(role.inputs["assumeRolePolicy"]) == ROLE_TRUST
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
    assert channel.inputs["s3BucketName"] == "logs"
    assert channel.inputs["s3KmsKeyArn"] == "arn:aws:kms:us-east-1:444455556666:key/k"
    assert status.inputs["isEnabled"] is True
    # Order: role ready -> recorder -> channel -> recording on.
    assert attachment.urn in recorder.dependencies
    assert recorder.urn in channel.dependencies
    assert channel.urn in status.dependencies


def test_other_regions_reuse_the_role_and_skip_global_types() -> None:
    plan = _recorder_plan(role_arn="arn:aws:iam::1:role/config", include_global_resource_types=False, s3_key_prefix="p")
    assert not plan.by_type("aws:iam/role:Role")
    recorder = plan.one("aws:cfg/recorder:Recorder")
    assert recorder.inputs["roleArn"] == "arn:aws:iam::1:role/config"
    assert recorder.inputs["recordingGroup"]["includeGlobalResourceTypes"] is False
    assert plan.one("aws:cfg/deliveryChannel:DeliveryChannel").inputs["s3KeyPrefix"] == "p"


def test_the_management_account_records_through_its_own_provider_and_members_through_the_baseline(
    stack_plans: dict[str, StackPlan],
) -> None:
    """Service-managed StackSets never deploy to the management account, so the management stack records there
    itself; the Log Archive and Audit accounts are in the Security OU and record through the baseline only."""
    plan = stack_plans["management"].plan
    recorders = {r.name for r in plan.by_type("docustack:audit:ConfigRecorder")}
    assert recorders == {"config-management-us-east-1"}
    stack_set = plan.one("aws:cloudformation/stackSet:StackSet", "organization-baseline-stack-set")
    assert stack_set.inputs["permissionModel"] == "SERVICE_MANAGED"
    expected: dict[str, tuple[str, str, Any]] = {
        "config-management-us-east-1": ("management-account", "348665872333", []),
    }
    archive_bucket = plan.one("aws:s3/bucket:Bucket", "log-archive-config-bucket")
    bucket_policy = plan.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-config-bucket-policy")
    key_policy = plan.one("aws:kms/keyPolicy:KeyPolicy")
    for component, (provider_name, account_id, assumes) in expected.items():
        component_urn = plan.one("docustack:audit:ConfigRecorder", component).urn
        children = [r for r in plan.children(component_urn)]
        assert children, component
        for child in children:
            provider = provider_of(plan, child)
            assert provider.name == provider_name, child.name
            allowed, region, roles = provider_pins(provider)
            assert (allowed, region) == ([account_id], "us-east-1")
            if assumes:  # a preview reads the member accounts through their read-only role
                assert roles == [{"roleArn": f"arn:aws:iam::{account_id}:role/docustack-readonly"}]
            else:
                assert roles == []
        channel = next(r for r in children if r.type == "aws:cfg/deliveryChannel:DeliveryChannel")
        assert channel.inputs["s3BucketName"] == archive_bucket.outputs["bucket"]
        assert bucket_policy.urn in channel.dependencies and key_policy.urn in channel.dependencies


def test_aggregator_in_audit_after_delegation_and_role_policy(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    audit_id = fake_account_id("DocuStack Audit")
    aggregator = plan.one("aws:cfg/configurationAggregator:ConfigurationAggregator")
    role = plan.one("aws:iam/role:Role", "config-aggregator-role")
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "config-aggregator-role-policy")
    delegations = plan.by_type("aws:organizations/delegatedAdministrator:DelegatedAdministrator")
    assert aggregator.inputs["organizationAggregationSource"] == {"allRegions": True, "roleArn": role.outputs["arn"]}
    assert json.loads(role.inputs["assumeRolePolicy"]) == ROLE_TRUST
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
    assert sorted(d.inputs["servicePrincipal"] for d in delegations) == [
        "config-multiaccountsetup.amazonaws.com",
        "config.amazonaws.com",
    ]
    assert attachment.urn in aggregator.dependencies
    for delegation in delegations:
        assert delegation.urn in aggregator.dependencies
        assert delegation.inputs["accountId"] == audit_id
        assert provider_of(plan, delegation).name == "management-account"
    for resource in (aggregator, role, attachment):
        provider = provider_of(plan, resource)
        assert provider.name == "audit-us-east-1"
        assert provider_pins(provider)[:2] == ([audit_id], "us-east-1")


def test_audit_account_must_exist(management_raw: dict[str, Any]) -> None:
    management_raw["organization"]["auditServices"]["auditAccount"] = "security-tooling"
    assert settings_problems(management_raw) == [
        "docustack:settings.organization.auditServices.auditAccount: no account named 'security-tooling' in "
        "organization.accounts"
    ]


def test_log_archive_account_must_exist(management_raw: dict[str, Any]) -> None:
    management_raw["organization"]["logArchiveAccount"] = "logs"
    problems = settings_problems(management_raw)
    assert "docustack:settings.organization.logArchiveAccount: no account named 'logs'" in problems


def test_config_service_access_is_required(management_raw: dict[str, Any]) -> None:
    principals = management_raw["organization"]["serviceAccessPrincipals"]
    principals.remove("config.amazonaws.com")
    principals.remove("config-multiaccountsetup.amazonaws.com")
    problems = settings_problems(management_raw)
    assert len(problems) == 2
    assert all(
        p.startswith("docustack:settings.organization.serviceAccessPrincipals: must include 'config") for p in problems
    )
