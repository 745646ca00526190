"""A read-only role in a member account, for what only reads it from the management account.

The management stack's previews (pull requests run them with the read-only CI role) and ``docustack verify``
read the Log Archive and Audit accounts through this role instead of the accounts' admin access role, so
code in a pull request never holds admin rights in a member account. Its one policy is the allow-list of
:mod:`components.ci_read_permissions` for what the management stack registers there and verify checks there:
configuration only. It cannot read a log object, decrypt with the Log Archive key, or read any data; it may
list the log buckets' keys (HeadBucket needs ``s3:ListBucket``), which name accounts, services and dates.
Every other member account gets a role of the same name, trust and session limit, with only verify's reads,
from the member read-only StackSet (:mod:`components.member_read_only_stack_set`), which leaves these two out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.ci_read_permissions import role_read_actions
from components.github_ci_roles import read_only_policy
from policies import minify

MAX_SESSION_SECONDS = 3600
READ_ONLY_POLICY_NAME = "read-only"


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
    # The buckets the management stack keeps in the account (the Log Archive's): HeadBucket needs s3:ListBucket.
    bucket_arns: tuple[str, ...] = ()


def member_read_only_policy(bucket_arns: list[str]) -> dict[str, Any]:
    return read_only_policy(role_read_actions("member"), bucket_arns)


class MemberReadOnlyRole(pulumi.ComponentResource):
    """The role and its read-only allow-list; pass the member account's provider in ``opts``."""

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
        # Replaces the earlier ReadOnlyAccess attachment, which reads data (the next `up` detaches it).
        aws.iam.RolePolicy(
            f"{name}-read-only",
            name=READ_ONLY_POLICY_NAME,
            role=role.name,
            policy=minify(member_read_only_policy(list(args.bucket_arns))),
            opts=child,
        )
        self.arn = role.arn
        self.register_outputs({"arn": self.arn})
