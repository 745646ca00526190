"""Whole program, every stack from its own Pulumi.<stack>.yaml: the account baseline in the stack's own account."""

from __future__ import annotations

import json
import runpy

import pulumi
import pytest

from docustack import offline, plan, project
from docustack.settings import CONFIG_KEY
from docustack.state_backend_spec import StateBackendSpec

STACKS = ["management", "dev", "staging", "prod"]
STATE_TYPES = {
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:kms/key:Key",
    "aws:kms/alias:Alias",
}


def test_every_stack_is_planned(stack_plans: dict[str, plan.StackPlan]) -> None:
    assert sorted(stack_plans) == sorted(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_is_pinned_to_the_stacks_account(stack_plans: dict[str, plan.StackPlan], stack: str) -> None:
    stack_plan = stack_plans[stack]
    account = stack_plan.settings.account
    provider = stack_plan.plan.one("pulumi:providers:aws", f"{account.name}-account")
    # Provider inputs reach the engine as strings, lists as JSON.
    assert json.loads(provider.inputs["allowedAccountIds"]) == [account.id]
    assert provider.inputs["region"] == account.region
    baseline = stack_plan.plan.one("docustack:baseline:AccountBaseline")
    for resource in stack_plan.plan.subtree(baseline.urn).resources:
        if resource.custom:
            assert resource.provider_urn == provider.urn, resource.name
    for resource in stack_plan.plan.resources:
        assert not resource.type.split(":")[-1].endswith("V2"), f"{resource.type} is deprecated in pulumi-aws v7"


@pytest.mark.parametrize("stack", STACKS)
def test_baseline_in_every_stack(stack_plans: dict[str, plan.StackPlan], stack: str) -> None:
    stack_plan = stack_plans[stack]
    settings = stack_plan.settings
    spec = StateBackendSpec.from_settings(settings, stack)
    baseline = stack_plan.plan.one("docustack:baseline:AccountBaseline")
    resources = stack_plan.plan.subtree(baseline.urn)
    # Account-level S3 Block Public Access comes from the organization's S3 policy now: a stack that still set it
    # would be refused by S3 (403) once the policy applies (tests/test_s3_policy.py).
    assert resources.by_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock") == []
    assert {r.type for r in resources.resources} >= STATE_TYPES
    assert resources.one("aws:s3/bucket:Bucket").inputs["bucket"] == f"docustack-pulumi-state-{settings.account.id}"
    assert resources.by_type("aws:dynamodb/table:Table") == []  # Terraform's lock table is off by default
    assert resources.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs["clientIdLists"] == [
        "sts.amazonaws.com"
    ]
    deploy = json.loads(
        resources.one("aws:iam/role:Role", f"{settings.account.name}-ci-deploy").inputs["assumeRolePolicy"]
    )
    assert deploy["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        f"repo:{settings.ci.repository}:environment:{stack}"
    )
    outputs = stack_plan.plan.outputs
    assert outputs["stateBucket"] == spec.bucket_name
    assert outputs["secretsProvider"] == "awskms://alias/docustack-pulumi-state?region=us-east-1"
    assert outputs["stateLoginUrl"] == spec.login_url(resources.one("aws:kms/key:Key").outputs["arn"])
    assert "&ssetype=aws:kms&kmskeyid=" in outputs["stateLoginUrl"]


@pytest.mark.parametrize("stack", STACKS)
def test_bootstrapped_bucket_key_and_alias_are_adopted_and_protected(
    stack_plans: dict[str, plan.StackPlan], stack: str
) -> None:
    whole = stack_plans[stack].plan
    resources = whole.subtree(whole.one("docustack:baseline:AccountBaseline").urn)
    settings = stack_plans[stack].settings
    adopted = {r.type: r.import_id for r in resources.resources if r.type in STATE_TYPES and r.import_id}
    assert adopted == {
        "aws:s3/bucket:Bucket": f"docustack-pulumi-state-{settings.account.id}",
        "aws:kms/key:Key": settings.state_backend.key_id,
        "aws:kms/alias:Alias": "alias/docustack-pulumi-state",
    }
    assert all(r.protect for r in resources.resources if r.type in adopted)


@pytest.mark.parametrize("stack", STACKS)
def test_previews_warn_about_the_placeholders_to_fill_in(stack_plans: dict[str, plan.StackPlan], stack: str) -> None:
    [warning] = stack_plans[stack].plan.warnings
    assert "stateBackend.keyId" in warning
    assert "ci.repository" in warning


def test_pulumi_up_refuses_the_placeholders(project_dir) -> None:
    config = project.read_stack_config(project_dir, "dev")
    assert config[CONFIG_KEY]["ci"]["repository"] == "<github-repository>"
    with pytest.raises(pulumi.RunError, match=r"refusing to deploy.*stateBackend\.keyId, ci\.repository"):
        offline.run_program(
            lambda: runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__"),
            stack="dev",
            config=config,
            preview=False,
        )
