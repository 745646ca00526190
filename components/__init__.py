"""The program's ComponentResources, one per file. Components take typed args and never read config."""

from components.member_account import MemberAccount, MemberAccountArgs
from components.organization import Organization, OrganizationArgs
from components.organizational_units import (
    OrganizationalUnits,
    OrganizationalUnitsArgs,
    OrganizationalUnitSpec,
)
from components.service_control_policy import ServiceControlPolicy, ServiceControlPolicyArgs

__all__ = [
    "MemberAccount",
    "MemberAccountArgs",
    "Organization",
    "OrganizationArgs",
    "OrganizationalUnitSpec",
    "OrganizationalUnits",
    "OrganizationalUnitsArgs",
    "ServiceControlPolicy",
    "ServiceControlPolicyArgs",
]
