"""Human access: IAM Identity Center permission sets and their assignments to groups in accounts.

Everything here is registered in the management account (the provider passed in must be the management
account's, in the instance's region): Identity Center is administered from there rather than from a delegated
administrator, because a delegated administrator cannot manage permission sets provisioned to the management
account (https://docs.aws.amazon.com/singlesignon/latest/userguide/delegated-admin.html), and the platform and
emergency sets are provisioned there.

Resource names carry the settings' names, never live IDs: an assignment is ``<name>-<group>-<account>-<set>``,
so its URN stays the same for the same (group, account, permission set) whatever the order of the settings or
the account's ID. Permission sets and assignments hold no data and are not protected; a group this component
creates (``create: true``) holds its memberships and is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# CreateAccountAssignment: PrincipalType USER | GROUP, TargetType AWS_ACCOUNT
# (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html).
PRINCIPAL_TYPE = "GROUP"
TARGET_TYPE = "AWS_ACCOUNT"
GROUP_LOOKUP_ATTRIBUTE = "DisplayName"


@dataclass(frozen=True)
class GroupSpec:
    name: str  # the settings' name, used in resource names
    display_name: str
    create: bool = False


@dataclass(frozen=True)
class PermissionSetSpec:
    name: str
    description: str
    session_duration: str  # ISO-8601, e.g. PT1H
    managed_policy_arns: tuple[str, ...] = ()
    inline_policy: str | None = None  # the minified JSON document, exactly as sent to AWS


@dataclass(frozen=True)
class AssignmentSpec:
    group: str
    account: str  # the settings' name of the account
    permission_set: str
    account_id: pulumi.Input[str]


@dataclass(frozen=True)
class IdentityCenterAccessArgs:
    instance_arn: str
    identity_store_id: str
    groups: tuple[GroupSpec, ...]
    permission_sets: tuple[PermissionSetSpec, ...]
    assignments: tuple[AssignmentSpec, ...]
    # False while the identity store ID is a placeholder: a lookup could not succeed, and `up` refuses anyway.
    look_up_groups: bool = True


class IdentityCenterAccess(pulumi.ComponentResource):
    """Permission sets (with their inline policy and managed policies) and group assignments per account."""

    permission_set_arns: dict[str, pulumi.Output[str]]
    group_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: IdentityCenterAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:access:IdentityCenterAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.group_ids = {group.name: self._group_id(name, group, args) for group in args.groups}
        self.permission_set_arns = {}
        provisioned: dict[str, list[pulumi.Resource]] = {}
        for spec in args.permission_sets:
            permission_set = aws.ssoadmin.PermissionSet(
                f"{name}-{spec.name}",
                name=spec.name,
                description=spec.description,
                instance_arn=args.instance_arn,
                session_duration=spec.session_duration,
                opts=child,
            )
            policies: list[pulumi.Resource] = []
            if spec.inline_policy is not None:
                policies.append(
                    aws.ssoadmin.PermissionSetInlinePolicy(
                        f"{name}-{spec.name}-inline",
                        instance_arn=args.instance_arn,
                        permission_set_arn=permission_set.arn,
                        inline_policy=spec.inline_policy,
                        opts=child,
                    )
                )
            for arn in spec.managed_policy_arns:
                policies.append(
                    aws.ssoadmin.ManagedPolicyAttachment(
                        f"{name}-{spec.name}-{arn.rsplit('/', 1)[-1]}",
                        instance_arn=args.instance_arn,
                        permission_set_arn=permission_set.arn,
                        managed_policy_arn=arn,
                        opts=child,
                    )
                )
            self.permission_set_arns[spec.name] = permission_set.arn
            provisioned[spec.name] = [permission_set, *policies]
        for assignment in args.assignments:
            # After the set's policies: the role Identity Center provisions into the account carries them at once.
            aws.ssoadmin.AccountAssignment(
                f"{name}-{assignment.group}-{assignment.account}-{assignment.permission_set}",
                instance_arn=args.instance_arn,
                permission_set_arn=self.permission_set_arns[assignment.permission_set],
                principal_id=self.group_ids[assignment.group],
                principal_type=PRINCIPAL_TYPE,
                target_id=assignment.account_id,
                target_type=TARGET_TYPE,
                opts=pulumi.ResourceOptions(parent=self, depends_on=provisioned[assignment.permission_set]),
            )
        self.register_outputs({"permission_set_arns": self.permission_set_arns, "group_ids": self.group_ids})

    def _group_id(self, name: str, group: GroupSpec, args: IdentityCenterAccessArgs) -> pulumi.Output[str]:
        if group.create:
            created = aws.identitystore.Group(
                f"{name}-group-{group.name}",
                display_name=group.display_name,
                identity_store_id=args.identity_store_id,
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            return created.group_id
        if not args.look_up_groups:
            return pulumi.Output.from_input(f"<group-id-of-{group.name}>")
        # Groups may come from an external identity provider: looked up by display name, never created.
        found = aws.identitystore.get_group_output(
            identity_store_id=args.identity_store_id,
            alternate_identifier=aws.identitystore.GetGroupAlternateIdentifierArgs(
                unique_attribute=aws.identitystore.GetGroupAlternateIdentifierUniqueAttributeArgs(
                    attribute_path=GROUP_LOOKUP_ATTRIBUTE, attribute_value=group.display_name
                )
            ),
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        return found.group_id
