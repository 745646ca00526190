"""One service control policy and its attachments to the root, OUs and accounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.organizational_units import resource_suffix


@dataclass(frozen=True)
class ServiceControlPolicyArgs:
    description: str
    content: str  # the minified JSON document, exactly as sent to AWS
    # target label ("root", "ou:Workloads", "account:dev") -> the target's ID
    targets: Mapping[str, pulumi.Input[str]]
    # What the attachments must wait for: the organization, whose root has the SCP policy type enabled.
    attach_after: Sequence[pulumi.Resource] = ()


class ServiceControlPolicy(pulumi.ComponentResource):
    """An SCP and one ``PolicyAttachment`` per target.

    Attachments need the SCP policy type enabled on the root: pass the organization in ``attach_after``.
    """

    policy_id: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceControlPolicyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:guardrails:ServiceControlPolicy", name, None, opts)
        policy = aws.organizations.Policy(
            f"{name}-policy",
            name=name,
            description=args.description,
            type="SERVICE_CONTROL_POLICY",
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
