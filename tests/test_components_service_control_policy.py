"""ServiceControlPolicy: one policy, one attachment per target, attachments after the organization."""

from __future__ import annotations

from components import Organization, OrganizationArgs, ServiceControlPolicy, ServiceControlPolicyArgs
from docustack.offline import run_program


def test_policy_and_one_attachment_per_target_after_the_gate() -> None:
    content = '{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}'

    def build() -> None:
        gate = Organization("org", OrganizationArgs())
        ServiceControlPolicy(
            "deny-s3",
            ServiceControlPolicyArgs(
                description="test",
                content=content,
                targets={"root": "r-root", "ou:Workloads/Regulated": "ou-1", "account:dev": "216482851263"},
                attach_after=(gate,),
            ),
        )

    plan = run_program(build, stack="t")
    policy = plan.one("aws:organizations/policy:Policy")
    assert (policy.inputs["name"], policy.inputs["type"]) == ("deny-s3", "SERVICE_CONTROL_POLICY")
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
