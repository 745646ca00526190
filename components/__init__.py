"""The program's ComponentResources, one per file. Components take typed args and never read config."""

from components.account_baseline import AccountBaseline, AccountBaselineArgs
from components.config_aggregator import ConfigAggregator, ConfigAggregatorArgs
from components.config_recorder import ConfigRecorder, ConfigRecorderArgs
from components.delegated_administrators import DelegatedAdministrators, DelegatedAdministratorsArgs
from components.github_ci_roles import GithubCiRoles, GithubCiRolesArgs
from components.guardduty_organization import GuardDutyOrganization, GuardDutyOrganizationArgs
from components.log_archive import LogArchive, LogArchiveArgs
from components.member_account import MemberAccount, MemberAccountArgs
from components.member_read_only_role import MemberReadOnlyRole, MemberReadOnlyRoleArgs
from components.organization import Organization, OrganizationArgs
from components.organization_admin import OrganizationAdminArgs
from components.organization_policy import OrganizationPolicy, OrganizationPolicyArgs
from components.organization_trail import OrganizationTrail, OrganizationTrailArgs
from components.organizational_units import (
    OrganizationalUnits,
    OrganizationalUnitsArgs,
    OrganizationalUnitSpec,
)
from components.security_hub_organization import SecurityHubOrganization, SecurityHubOrganizationArgs
from components.state_backend import StateBackend, StateBackendArgs

__all__ = [
    "AccountBaseline",
    "AccountBaselineArgs",
    "ConfigAggregator",
    "ConfigAggregatorArgs",
    "ConfigRecorder",
    "ConfigRecorderArgs",
    "DelegatedAdministrators",
    "DelegatedAdministratorsArgs",
    "GithubCiRoles",
    "GithubCiRolesArgs",
    "GuardDutyOrganization",
    "GuardDutyOrganizationArgs",
    "LogArchive",
    "LogArchiveArgs",
    "MemberAccount",
    "MemberAccountArgs",
    "MemberReadOnlyRole",
    "MemberReadOnlyRoleArgs",
    "Organization",
    "OrganizationAdminArgs",
    "OrganizationArgs",
    "OrganizationPolicy",
    "OrganizationPolicyArgs",
    "OrganizationTrail",
    "OrganizationTrailArgs",
    "OrganizationalUnitSpec",
    "OrganizationalUnits",
    "OrganizationalUnitsArgs",
    "SecurityHubOrganization",
    "SecurityHubOrganizationArgs",
    "StateBackend",
    "StateBackendArgs",
]
