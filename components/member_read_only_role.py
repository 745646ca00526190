"""A read-only role in a member account, for what only reads it from the management account.

The management stack's previews (pull requests run them with the read-only CI role) and ``docustack verify``
read the Log Archive and Audit accounts through this role instead of the accounts' admin access role, so
code in a pull request never holds admin rights in a member account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from policies import minify

READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
MAX_SESSION_SECONDS = 3600


def management_trust_policy(management_account_id: str) -> dict[str, Any]:
    """Trust the management account; its IAM policies decide who (the read-only CI role, operators)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ManagementAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{management_account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


@dataclass(frozen=True)
class MemberReadOnlyRoleArgs:
    role_name: str
    management_account_id: str


class MemberReadOnlyRole(pulumi.ComponentResource):
    """The role and its ``ReadOnlyAccess`` attachment; pass the member account's provider in ``opts``."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: MemberReadOnlyRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:organization:MemberReadOnlyRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="read-only access from the management account (previews, docustack verify)",
            assume_role_policy=minify(management_trust_policy(args.management_account_id)),
            max_session_duration=MAX_SESSION_SECONDS,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(f"{name}-read-only", role=role.name, policy_arn=READ_ONLY_ACCESS, opts=child)
        self.arn = role.arn
        self.register_outputs({"arn": self.arn})
