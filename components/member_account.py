"""One member account of the organization, created or adopted, never closed by a config edit."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class MemberAccountArgs:
    account_name: str
    email: str
    parent_id: pulumi.Input[str]
    # The existing account's ID to adopt (import); None creates the account.
    existing_account_id: str | None = None
    # Created accounts get this role, trusted by the management account; Organizations cannot add it later.
    role_name: str = "OrganizationAccountAccessRole"


class MemberAccount(pulumi.ComponentResource):
    """A member account: ``protect=True`` and ``retain_on_delete=True``, ``close_on_deletion`` off.

    Removing an account from the config therefore fails on the protection instead of closing or removing the
    account. ``role_name`` and ``iam_user_access_to_billing`` cannot be read back from Organizations and
    force a replacement when they differ, so an adopted account ignores them (pulumi-aws
    ``organizations.Account`` docs, "Import"). The name, email and parent of an adopted account are not
    ignored: the first ``up`` imports and then writes the declared values, so ``docustack adopt-check`` lists
    every one that differs before it.
    """

    account_id: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: MemberAccountArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:organization:MemberAccount", name, None, opts)
        adopted = args.existing_account_id is not None
        account = aws.organizations.Account(
            f"{name}-account",
            name=args.account_name,
            email=args.email,
            parent_id=args.parent_id,
            role_name=None if adopted else args.role_name,
            close_on_deletion=False,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=True,
                retain_on_delete=True,
                import_=args.existing_account_id,
                ignore_changes=["role_name", "iam_user_access_to_billing"] if adopted else None,
            ),
        )
        self.account_id = account.id
        self.arn = account.arn
        self.register_outputs({"account_id": self.account_id, "arn": self.arn})
