"""GuardDuty for the whole organization in one region, administered from the Audit account.

GuardDuty is regional and allows one delegated administrator, the same in every region
(https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_organizations.html): make one of these per allowed
region. The management account designates the admin; the admin turns on auto-enable for every member.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.organization_admin import OrganizationAdminArgs

GuardDutyOrganizationArgs = OrganizationAdminArgs
# Every member, existing and new, gets GuardDuty (DescribeOrganizationConfiguration's AutoEnableOrganizationMembers).
AUTO_ENABLE_ORGANIZATION_MEMBERS = "ALL"


class GuardDutyOrganization(pulumi.ComponentResource):
    """Detectors in the management and Audit accounts, the admin designation, auto-enable ``ALL``."""

    detector_id: pulumi.Output[str]

    def __init__(self, name: str, args: GuardDutyOrganizationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:audit:GuardDutyOrganization", name, None, opts)
        # The management account is monitored too, and enabling GuardDuty creates the service-linked role
        # the designation needs.
        management_detector = aws.guardduty.Detector(
            f"{name}-management-detector",
            enable=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.management_provider),
        )
        # Enabled in the admin account before the designation, so the designation finds it rather than racing it.
        detector = aws.guardduty.Detector(
            f"{name}-detector",
            enable=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.admin_provider),
        )
        admin = aws.guardduty.OrganizationAdminAccount(
            f"{name}-admin-account",
            admin_account_id=args.admin_account_id,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.management_provider,
                depends_on=[management_detector, detector, *args.after],
            ),
        )
        # Only the delegated administrator may call UpdateOrganizationConfiguration. The API takes
        # autoEnableOrganizationMembers or the legacy autoEnable, never both.
        aws.guardduty.OrganizationConfiguration(
            f"{name}-organization-configuration",
            detector_id=detector.id,
            auto_enable_organization_members=AUTO_ENABLE_ORGANIZATION_MEMBERS,
            opts=pulumi.ResourceOptions(parent=self, provider=args.admin_provider, depends_on=[admin]),
        )
        self.detector_id = detector.id
        self.register_outputs({"detector_id": self.detector_id})
