"""Arguments shared by the services whose organization admin the management account designates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class OrganizationAdminArgs:
    """One region of a service administered for the organization by a delegated admin account."""

    admin_account_id: pulumi.Input[str]
    management_provider: aws.Provider  # the management account, this region: designates the admin
    admin_provider: aws.Provider  # the admin (Audit) account, this region: configures the organization
    after: Sequence[pulumi.Resource] = ()  # the organization, whose trusted service access must be on
