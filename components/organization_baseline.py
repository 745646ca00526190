"""The organization baseline: what every member account gets from its first minute, through a service-managed
StackSet of the management account.

The template is data, ``policies/baseline/config-recording.yaml`` (checked by cfn-lint in the tests): AWS Config
records every supported resource type in each account and allowed region into the Log Archive's Config bucket,
global resource types in the home region only. The StackSet deploys it to the baseline's OUs; automatic deployment
gives every account that joins one of them the same stacks, and takes them away when it leaves
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_AutoDeployment.html). With
``RetainStacksOnAccountRemoval`` the stack's resources stay in an account that leaves: it keeps recording, and
what it recorded is in the Log Archive bucket either way. Service-managed StackSets never deploy to the
management account (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeploymentTargets.html),
which records through the management stack's own ``ConfigRecorder``.

StackSets run in each member account as the execution role ``stacksets-exec-*`` that StackSets creates there
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-custom-execution-role.html); the
``protect-guardrails`` SCP exempts it from its Config statement, and only from that one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

TEMPLATE = "baseline/config-recording.yaml"
PERMISSION_MODEL = "SERVICE_MANAGED"
# The template makes an IAM role (the recorder's), which CloudFormation only does when told so.
CAPABILITIES = ("CAPABILITY_IAM",)
AUTO_DEPLOYMENT = {"Enabled": True, "RetainStacksOnAccountRemoval": True}
# An instance removed from the program (the baseline taken out of the settings, a region dropped) leaves its
# stacks in the accounts: recording does not stop as a side effect of a config edit.
RETAIN_STACKS_ON_INSTANCE_DELETE = True


def template_text(policy_dir: Path | None = None) -> str:
    """The baseline template as the StackSet receives it."""
    base = policy_dir if policy_dir is not None else Path(__file__).resolve().parent.parent / "policies"
    return (base / TEMPLATE).read_text(encoding="utf-8")


@dataclass(frozen=True)
class OrganizationBaselineArgs:
    stack_set_name: str
    template_body: str
    home_region: str
    regions: Sequence[str]
    # The OU IDs the StackSet deploys to (each baseline OU and every OU nested in it).
    organizational_unit_ids: Sequence[pulumi.Input[str]]
    config_bucket_name: pulumi.Input[str]
    config_key_arn: pulumi.Input[str]
    # What must exist before any member account records: trusted access (the organization's service access) and
    # the Config bucket's and key's policies in the Log Archive.
    after: Sequence[pulumi.Resource] = ()
    description: str = "DocuStack organization baseline: AWS Config recording into the Log Archive"


def service_managed_stack_set(
    resource_name: str,
    parent: pulumi.Resource,
    *,
    name: str,
    description: str,
    template_body: pulumi.Input[str],
    auto_deployment: Mapping[str, bool],
    capabilities: Sequence[str],
    after: Sequence[pulumi.Resource],
    parameters: Mapping[str, pulumi.Input[str]] | None = None,
) -> aws.cloudformation.StackSet:
    """A service-managed StackSet (``PERMISSION_MODEL``) run by the management account itself (``call_as`` SELF),
    with automatic deployment as ``auto_deployment`` says; the baseline's and the member read-only role's."""
    return aws.cloudformation.StackSet(
        resource_name,
        name=name,
        description=description,
        permission_model=PERMISSION_MODEL,
        call_as="SELF",
        auto_deployment=aws.cloudformation.StackSetAutoDeploymentArgs(
            enabled=auto_deployment["Enabled"],
            retain_stacks_on_account_removal=auto_deployment["RetainStacksOnAccountRemoval"],
        ),
        capabilities=list(capabilities),
        template_body=template_body,
        parameters=parameters,
        # Service-managed StackSets take no administration role (pulumi-aws cloudformation.StackSet:
        # administration_role_arn "must be defined when using the SELF_MANAGED permission model"), but AWS
        # reports one back, so Terraform modules for service-managed StackSets ignore it to avoid a perpetual
        # diff (UNVERIFIED in AWS's or the provider's documentation; common practice, not observed here).
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after), ignore_changes=["administrationRoleArn"]),
    )


class OrganizationBaseline(pulumi.ComponentResource):
    """The StackSet and one stack-set instance per allowed region over the baseline's OUs."""

    stack_set_name: pulumi.Output[str]
    instances: dict[str, aws.cloudformation.StackSetInstance]

    def __init__(self, name: str, args: OrganizationBaselineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:baseline:OrganizationBaseline", name, None, opts)
        parameters: Mapping[str, pulumi.Input[str]] = {
            "HomeRegion": args.home_region,
            "ConfigBucketName": args.config_bucket_name,
            "ConfigKeyArn": args.config_key_arn,
            "DeliveryFrequency": "TwentyFour_Hours",
        }
        stack_set = service_managed_stack_set(
            f"{name}-stack-set",
            self,
            name=args.stack_set_name,
            description=args.description,
            template_body=args.template_body,
            auto_deployment=AUTO_DEPLOYMENT,
            capabilities=CAPABILITIES,
            after=args.after,
            parameters=parameters,
        )
        self.instances = {
            region: aws.cloudformation.StackSetInstance(
                f"{name}-{region}",
                stack_set_name=stack_set.name,
                call_as="SELF",
                stack_set_instance_region=region,
                deployment_targets=aws.cloudformation.StackSetInstanceDeploymentTargetsArgs(
                    organizational_unit_ids=list(args.organizational_unit_ids)
                ),
                retain_stack=RETAIN_STACKS_ON_INSTANCE_DELETE,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[stack_set]),
            )
            for region in [args.home_region, *(r for r in args.regions if r != args.home_region)]
        }
        self.stack_set_name = stack_set.name
        self.register_outputs({"stack_set_name": self.stack_set_name})
