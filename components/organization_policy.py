"""One organization policy of any type (SCP, RCP, tag, AI services opt-out, declarative) and its attachments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.organizational_units import resource_suffix

# The type token SCPs had before the component took every policy type: an alias keeps their URNs, so no deployed
# SCP (or attachment) is replaced, which would leave its targets unguarded between the delete and the create.
# Children inherit the parent's aliases (https://www.pulumi.com/docs/iac/concepts/options/aliases/), so the policy
# and its attachments keep theirs too.
SCP_TYPE_TOKEN_BEFORE = "docustack:guardrails:ServiceControlPolicy"


@dataclass(frozen=True)
class OrganizationPolicyArgs:
    # One of the types in policies.POLICY_TYPES, e.g. SERVICE_CONTROL_POLICY or RESOURCE_CONTROL_POLICY.
    policy_type: str
    description: str
    # The minified JSON document, exactly as sent to AWS; an output when it names IDs Organizations assigns.
    content: pulumi.Input[str]
    # target label ("root", "ou:Workloads", "account:dev") -> the target's ID
    targets: Mapping[str, pulumi.Input[str]]
    # What the attachments must wait for: the organization, whose root has the policy type enabled.
    attach_after: Sequence[pulumi.Resource] = ()


class OrganizationPolicy(pulumi.ComponentResource):
    """A policy and one ``PolicyAttachment`` per target.

    Attachments need the policy's type enabled on the root: pass the organization in ``attach_after``.
    """

    policy_id: pulumi.Output[str]

    def __init__(self, name: str, args: OrganizationPolicyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if args.policy_type == "SERVICE_CONTROL_POLICY":
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=SCP_TYPE_TOKEN_BEFORE)])
            )
        super().__init__("docustack:policies:OrganizationPolicy", name, None, opts)
        policy = aws.organizations.Policy(
            f"{name}-policy",
            name=name,
            description=args.description,
            type=args.policy_type,
            content=args.content,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for label, target_id in args.targets.items():
            aws.organizations.PolicyAttachment(
                f"{name}-{resource_suffix(label)}",
                policy_id=policy.id,
                target_id=target_id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.attach_after)),
            )
        self.policy_id = policy.id
        self.register_outputs({"policy_id": self.policy_id})
