"""The AWS organization itself: all features, the SCP policy type enabled, trusted service access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class OrganizationArgs:
    feature_set: str = "ALL"
    enabled_policy_types: tuple[str, ...] = ("SERVICE_CONTROL_POLICY",)
    service_access_principals: tuple[str, ...] = field(default_factory=tuple)
    # The ID of the existing organization (o-...) to adopt on the first `pulumi up`; None creates one.
    import_id: str | None = None


class Organization(pulumi.ComponentResource):
    """The organization. Protected: no config edit can delete it (deleting it would orphan every account).

    SCPs need all features and the ``SERVICE_CONTROL_POLICY`` type enabled on the root before any attachment
    (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_enable-disable.html);
    attachments therefore depend on this component.

    Adopting: ``service_access_principals`` and ``enabled_policy_types`` are complete lists. The provider
    enables what is declared and off, and disables what is on and not declared, on the first ``up`` too: Pulumi
    imports and then updates to the declaration (pulumi/pulumi#16397). Nothing here keeps an undeclared
    service on; ``docustack adopt-check`` (docustack/adoption.py) names each one before that ``up`` and calls it
    undecided until the settings declare it or list it in ``disableServiceAccessPrincipals`` /
    ``disablePolicyTypes``.
    """

    id: pulumi.Output[str]
    arn: pulumi.Output[str]
    root_id: pulumi.Output[str]
    management_account_id: pulumi.Output[str]

    def __init__(self, name: str, args: OrganizationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:organization:Organization", name, None, opts)
        organization = aws.organizations.Organization(
            f"{name}-organization",
            feature_set=args.feature_set,
            enabled_policy_types=list(args.enabled_policy_types),
            aws_service_access_principals=sorted(args.service_access_principals),
            opts=pulumi.ResourceOptions(parent=self, protect=True, import_=args.import_id),
        )
        self.resource = organization
        self.id = organization.id
        self.arn = organization.arn
        self.root_id = organization.roots.apply(_root_id)
        self.management_account_id = organization.master_account_id
        self.register_outputs(
            {
                "id": self.id,
                "arn": self.arn,
                "root_id": self.root_id,
                "management_account_id": self.management_account_id,
            }
        )


def _root_id(roots: Sequence[aws.organizations.outputs.OrganizationRoot]) -> str:
    """The ID of the organization's root. The API marks a root's ``Id`` as not required, so the provider types it
    optional (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Root.html); a root without one
    cannot be a parent or a policy target, so it is an error here rather than a ``None`` passed on."""
    root_id = roots[0].id if roots else None
    if root_id is None:
        raise ValueError("the organization reports no root ID")
    return root_id
