"""The organization's AWS Config aggregator, in the Audit account (its delegated administrator).

https://docs.aws.amazon.com/config/latest/developerguide/set-up-aggregator-cli.html: the management account
enables ``config.amazonaws.com`` and ``config-multiaccountsetup.amazonaws.com`` service access and registers the
Audit account as delegated administrator; the aggregator then uses a role trusted by ``config.amazonaws.com``
with ``AWSConfigRoleForOrganizations`` to list the organization's accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import policies

ORGANIZATIONS_ROLE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
# The services the Audit account is registered as delegated administrator of before the aggregator exists.
DELEGATED_SERVICES = ("config.amazonaws.com", "config-multiaccountsetup.amazonaws.com")
ALL_REGIONS = True


@dataclass(frozen=True)
class ConfigAggregatorArgs:
    aggregator_name: str
    # The delegated-administrator registrations: before them, the Audit account may not read the organization.
    after: Sequence[pulumi.Resource] = ()


class ConfigAggregator(pulumi.ComponentResource):
    """Organization aggregation source over all regions; pass the Audit account's provider in ``opts``."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: ConfigAggregatorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:audit:ConfigAggregator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role", assume_role_policy=policies.service_trust_policy("config.amazonaws.com"), opts=child
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-role-policy", role=role.name, policy_arn=ORGANIZATIONS_ROLE_POLICY_ARN, opts=child
        )
        aggregator = aws.cfg.ConfigurationAggregator(
            f"{name}-aggregator",
            name=args.aggregator_name,
            organization_aggregation_source=aws.cfg.ConfigurationAggregatorOrganizationAggregationSourceArgs(
                all_regions=ALL_REGIONS, role_arn=role.arn
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, *args.after]),
        )
        self.arn = aggregator.arn
        self.register_outputs({"arn": self.arn})
