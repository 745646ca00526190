"""Security Hub for the whole organization in one region, administered from the Audit account.

Security Hub is regional: designate the admin in every region used
(https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html). The management
account does not need Security Hub enabled to designate it; only the admin may set the organization
configuration.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.organization_admin import OrganizationAdminArgs

SecurityHubOrganizationArgs = OrganizationAdminArgs
# LOCAL configuration: new members are enabled with the default standards (CENTRAL would need AutoEnable False).
AUTO_ENABLE = True
AUTO_ENABLE_STANDARDS = "DEFAULT"


class SecurityHubOrganization(pulumi.ComponentResource):
    """Security Hub on in the Audit account, designated admin, new members auto-enabled with default standards."""

    def __init__(
        self, name: str, args: SecurityHubOrganizationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("docustack:audit:SecurityHubOrganization", name, None, opts)
        # Enabled in the admin account before the designation, so the designation finds it rather than racing it.
        account = aws.securityhub.Account(
            f"{name}-account",
            enable_default_standards=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.admin_provider),
        )
        admin = aws.securityhub.OrganizationAdminAccount(
            f"{name}-admin-account",
            admin_account_id=args.admin_account_id,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.management_provider, depends_on=[account, *args.after]
            ),
        )
        aws.securityhub.OrganizationConfiguration(
            f"{name}-organization-configuration",
            auto_enable=AUTO_ENABLE,
            auto_enable_standards=AUTO_ENABLE_STANDARDS,
            opts=pulumi.ResourceOptions(parent=self, provider=args.admin_provider, depends_on=[admin]),
        )
        self.register_outputs({})
