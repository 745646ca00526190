"""OrganizationPolicy: one policy of any type, one attachment per target, attachments after the organization."""

from __future__ import annotations

import pytest

from components import Organization, OrganizationArgs, OrganizationPolicy, OrganizationPolicyArgs
from components.organization_policy import SCP_TYPE_TOKEN_BEFORE
from docustack.offline import run_program

SCP = '{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}'
AI_OPT_OUT = '{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}'


@pytest.mark.parametrize(
    ("policy_type", "content"), [("SERVICE_CONTROL_POLICY", SCP), ("AISERVICES_OPT_OUT_POLICY", AI_OPT_OUT)]
)
def test_policy_and_one_attachment_per_target_after_the_gate(policy_type: str, content: str) -> None:
    def build() -> None:
        gate = Organization("org", OrganizationArgs())
        OrganizationPolicy(
            "deny-s3",
            OrganizationPolicyArgs(
                policy_type=policy_type,
                description="test",
                content=content,
                targets={"root": "r-root", "ou:Workloads/Regulated": "ou-1", "account:dev": "216482851263"},
                attach_after=(gate,),
            ),
        )

    plan = run_program(build, stack="t")
    policy = plan.one("aws:organizations/policy:Policy")
    assert (policy.inputs["name"], policy.inputs["type"]) == ("deny-s3", policy_type)
    assert policy.inputs["content"] == content
    organization = plan.one("aws:organizations/organization:Organization")
    attachments = plan.by_type("aws:organizations/policyAttachment:PolicyAttachment")
    assert {a.name: a.inputs["targetId"] for a in attachments} == {
        "deny-s3-root": "r-root",
        "deny-s3-ou-workloads-regulated": "ou-1",
        "deny-s3-account-dev": "216482851263",
    }
    for attachment in attachments:
        assert attachment.inputs["policyId"] == policy.outputs["id"]
        assert policy.urn in attachment.dependencies
        assert organization.urn in attachment.dependencies
    # Only SCPs existed before the component took every type: only they keep their old URNs through an alias,
    # which Pulumi extends to the children (the policy and its attachments), so none is replaced.
    (component,) = plan.by_type("docustack:policies:OrganizationPolicy")
    expected = (SCP_TYPE_TOKEN_BEFORE,) if policy_type == "SERVICE_CONTROL_POLICY" else ()
    assert component.aliases == expected
