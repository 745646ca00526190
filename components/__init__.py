"""The program's ComponentResources, one per file. Components take typed args and never read config."""

from components.account_baseline import AccountBaseline, AccountBaselineArgs
from components.github_ci_roles import GithubCiRoles, GithubCiRolesArgs
from components.member_account import MemberAccount, MemberAccountArgs
from components.organization import Organization, OrganizationArgs
from components.organizational_units import (
    OrganizationalUnits,
    OrganizationalUnitsArgs,
    OrganizationalUnitSpec,
)
from components.service_control_policy import ServiceControlPolicy, ServiceControlPolicyArgs
from components.state_backend import StateBackend, StateBackendArgs

__all__ = [
    "AccountBaseline",
    "AccountBaselineArgs",
    "GithubCiRoles",
    "GithubCiRolesArgs",
    "MemberAccount",
    "MemberAccountArgs",
    "Organization",
    "OrganizationArgs",
    "OrganizationalUnitSpec",
    "OrganizationalUnits",
    "OrganizationalUnitsArgs",
    "ServiceControlPolicy",
    "ServiceControlPolicyArgs",
    "StateBackend",
    "StateBackendArgs",
]
