"""Checks of the organization the management stack owns: features, policy types, trusted services, the OU tree,
the accounts and where they sit, and each SCP's content and attachments.

All of them read through :class:`LiveOrganization`, which makes each Organizations call once per run and
maps between the names the settings use (``root``, ``ou:<path>``, ``account:<name>``) and live IDs. A
declared target that does not exist is drift in every check that needs it, so each finding stands alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import policies
from docustack.settings import FULL_AWS_ACCESS, ROOT_TARGET, MemberAccountSettings, OrganizationSettings, iter_ous
from docustack.verify import policy_compare
from docustack.verify.framework import LOW, MEDIUM, CheckContext, Finding, check, compared, drift
from policies import perimeter

SCP = "SERVICE_CONTROL_POLICY"
NOT_FOUND = "not found"


class LiveOrganization:
    """What the organization looks like now, read on demand and cached for the run."""

    def __init__(self, context: CheckContext) -> None:
        self.context = context
        self.client = context.client("organizations")
        organization = context.settings.organization
        assert organization is not None, "organization checks run only for the management stack"
        self.declared: OrganizationSettings = organization

    def read_all(self, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        pages = self.client.get_paginator(operation).paginate(**kwargs)
        return [item for page in pages for item in page[key]]

    @cached_property
    def description(self) -> dict[str, Any]:
        return self.client.describe_organization()["Organization"]

    @cached_property
    def root(self) -> dict[str, Any]:
        return self.read_all("list_roots", "Roots")[0]

    @cached_property
    def ous(self) -> dict[str, dict[str, Any]]:
        """Every OU by path ("Workloads/Regulated"), walked from the root."""
        found: dict[str, dict[str, Any]] = {}

        def walk(parent_id: str, prefix: str) -> None:
            for unit in self.read_all(
                "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id
            ):
                path = f"{prefix}/{unit['Name']}" if prefix else unit["Name"]
                found[path] = unit
                walk(unit["Id"], path)

        walk(self.root["Id"], "")
        return found

    @cached_property
    def accounts(self) -> list[dict[str, Any]]:
        return self.read_all("list_accounts", "Accounts")

    @cached_property
    def service_control_policies(self) -> dict[str, dict[str, Any]]:
        return {policy["Name"]: policy for policy in self.read_all("list_policies", "Policies", Filter=SCP)}

    def find_account(self, declared: MemberAccountSettings) -> dict[str, Any] | None:
        """By ID when the settings give one, else by email, else by the name AWS shows."""
        if declared.id:
            return next((a for a in self.accounts if a["Id"] == declared.id), None)
        by_email = next((a for a in self.accounts if a["Email"].lower() == declared.email.lower()), None)
        return by_email or next((a for a in self.accounts if a["Name"] == declared.aws_name), None)

    @cached_property
    def account_ids(self) -> dict[str, str]:
        """Declared account name -> live ID, for the accounts that exist."""
        found = {declared.name: self.find_account(declared) for declared in self.declared.accounts}
        return {name: account["Id"] for name, account in found.items() if account}

    def target_id(self, label: str) -> str | None:
        """The live ID of a settings target (``root``, ``ou:<path>``, ``account:<name>``), None if missing."""
        if label == ROOT_TARGET:
            return self.root["Id"]
        kind, _, name = label.partition(":")
        if kind == "ou":
            unit = self.ous.get(name)
            return unit["Id"] if unit else None
        return self.account_ids.get(name) if kind == "account" else None

    def label(self, target_id: str) -> str:
        """The settings label of a live ID; undeclared things are named by their ID."""
        if target_id == self.root["Id"]:
            return ROOT_TARGET
        for path, unit in self.ous.items():
            if unit["Id"] == target_id:
                return f"ou:{path}"
        for name, account_id in self.account_ids.items():
            if account_id == target_id:
                return f"account:{name}"
        if target_id == self.context.settings.account.id:
            return f"account:{self.context.settings.account.name}"
        return f"account:{target_id}" if target_id.isdigit() else target_id

    def parent_label(self, account_id: str) -> str:
        parents = self.read_all("list_parents", "Parents", ChildId=account_id)
        return self.label(parents[0]["Id"]) if parents else NOT_FOUND

    def policy_names_for_target(self, target_id: str) -> set[str]:
        return {
            p["Name"] for p in self.read_all("list_policies_for_target", "Policies", TargetId=target_id, Filter=SCP)
        }

    def declared_nodes(self) -> list[str]:
        """Every level SCPs are evaluated at: the root, each declared OU, each declared account."""
        ous = [f"ou:{node.path}" for node in iter_ous(self.declared)]
        return [ROOT_TARGET, *ous, *(f"account:{account.name}" for account in self.declared.accounts)]


def _organization(context: CheckContext) -> LiveOrganization:
    return context.reader(LiveOrganization)


@check("ORG-FEATURES", "The organization has all features enabled")
def feature_set(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    yield compared("organization", organization.declared.feature_set, organization.description["FeatureSet"])


@check("ORG-MANAGEMENT-ACCOUNT", "The organization's management account is the stack's account")
def management_account(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    yield compared("organization", context.settings.account.id, organization.description["MasterAccountId"])


@check("ORG-ID", "The organization is the one the settings adopt (importId)")
def organization_id(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    if organization.declared.import_id:
        yield compared("organization", organization.declared.import_id, organization.description["Id"])


@check("ORG-POLICY-TYPES", "The declared policy types (SCPs first) are enabled on the root")
def policy_types(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    declared = list(organization.declared.enabled_policy_types)
    if organization.declared.service_control_policies and SCP not in declared:
        declared.insert(0, SCP)
    live = {entry["Type"]: entry["Status"] for entry in organization.root.get("PolicyTypes", [])}
    for policy_type in declared:
        yield compared(f"root:{policy_type}", "ENABLED", live.get(policy_type, "DISABLED"))
    for policy_type in sorted(set(live) - set(declared)):
        yield drift(f"root:{policy_type}", "not declared", live[policy_type], severity=LOW)


@check("ORG-SERVICE-ACCESS", "Every declared service principal has trusted access", severity=MEDIUM)
def service_access(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    enabled = {
        entry["ServicePrincipal"]
        for entry in organization.read_all("list_aws_service_access_for_organization", "EnabledServicePrincipals")
    }
    declared = organization.declared.service_access_principals
    for principal in declared:
        yield compared(f"service:{principal}", "enabled", "enabled" if principal in enabled else "disabled")
    for principal in sorted(enabled - set(declared)):
        yield drift(f"service:{principal}", "not declared", "enabled", severity=LOW)


@check("ORG-OU-TREE", "Each declared OU exists under its declared parent; no undeclared OUs")
def ou_tree(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    declared = iter_ous(organization.declared)
    for node in declared:
        parent = f"ou:{node.parent_path}" if node.parent_path else ROOT_TARGET
        unit = organization.ous.get(node.path)
        if unit:
            yield compared(f"ou:{node.path}", f"exists under {parent}", f"exists under {parent}")
            continue
        elsewhere = sorted(path for path in organization.ous if path.rsplit("/", 1)[-1] == node.name)
        detail = f"an OU named {node.name!r} is at {', '.join(elsewhere)}" if elsewhere else ""
        yield drift(f"ou:{node.path}", f"exists under {parent}", NOT_FOUND, detail=detail)
    declared_paths = {node.path for node in declared}
    for path in sorted(set(organization.ous) - declared_paths):
        yield drift(f"ou:{path}", "not declared", f"exists ({organization.ous[path]['Id']})", severity=LOW)


def _account_summary(name: str, email: str, state: str) -> str:
    return f"{state}, name {name!r}, email {email.lower()}"


@check("ORG-ACCOUNT", "Each declared account is an active member with its declared name and email")
def accounts(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    for declared in organization.declared.accounts:
        expected = _account_summary(declared.aws_name, declared.email, "ACTIVE")
        live = organization.find_account(declared)
        if live is None:
            how = f"ID {declared.id}" if declared.id else f"email {declared.email} or name {declared.aws_name!r}"
            yield drift(f"account:{declared.name}", expected, NOT_FOUND, detail=f"no member account with {how}")
            continue
        state = live.get("State") or live.get("Status", "UNKNOWN")
        actual = _account_summary(live["Name"], live["Email"], state)
        yield compared(f"account:{declared.name}", expected, actual, detail=f"account {live['Id']}")
    known = set(organization.account_ids.values()) | {context.settings.account.id}
    for live in organization.accounts:
        if live["Id"] not in known:
            yield drift(f"account:{live['Id']}", "not declared", f"member {live['Name']!r}", severity=LOW)


@check("ORG-ACCOUNT-OU", "Each declared account sits in its declared OU")
def account_placement(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    for declared in organization.declared.accounts:
        account_id = organization.account_ids.get(declared.name)
        actual = organization.parent_label(account_id) if account_id else f"account {NOT_FOUND}"
        yield compared(f"account:{declared.name}", f"ou:{declared.ou}", actual)


@check("ORG-SCP-CONTENT", "Each SCP exists and says what its rendered policy file says")
def scp_content(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    # The perimeter's documents name the organization, root and OUs by ID: the live ones, as `up` filled them in
    # (docustack/stacks.py); an OU that is missing keeps its stand-in, and ORG-OU-TREE reports it.
    live_ids = {path: unit["Id"] for path, unit in organization.ous.items()}
    variables = {
        **context.settings.policy_variables(),
        **perimeter.organization_variables(organization.description["Id"], organization.root["Id"], live_ids),
    }
    for scp in organization.declared.service_control_policies:
        expected = f"statements of policies/{scp.file}"
        live = organization.service_control_policies.get(scp.name)
        if live is None:
            yield drift(f"scp:{scp.name}", expected, NOT_FOUND)
            continue
        rendered = json.loads(policies.render_file(scp.file, variables, policy_dir=context.policy_dir))
        content = organization.client.describe_policy(PolicyId=live["Id"])["Policy"]["Content"]
        try:
            document = json.loads(content)
        except json.JSONDecodeError:
            yield drift(
                f"scp:{scp.name}", expected, "1 difference(s)", detail=f"{live['Id']}; the live content is not JSON"
            )
            continue
        yield policy_compare.compared_documents(f"scp:{scp.name}", expected, rendered, document, detail=[live["Id"]])
        yield compared(f"scp:{scp.name}/Description", scp.description, live.get("Description", ""))


@check("ORG-SCP-ATTACHMENTS", "Each SCP is attached to exactly its declared targets")
def scp_attachments(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    for scp in organization.declared.service_control_policies:
        expected = ", ".join(sorted(scp.targets))
        live = organization.service_control_policies.get(scp.name)
        if live is None:
            yield drift(f"scp:{scp.name}", expected, f"policy {NOT_FOUND}")
            continue
        targets = organization.read_all("list_targets_for_policy", "Targets", PolicyId=live["Id"])
        attached = {organization.label(target["TargetId"]) for target in targets}
        missing = [f"missing {label}" for label in sorted(set(scp.targets) - attached)]
        extra = [f"extra {label}" for label in sorted(attached - set(scp.targets))]
        detail = "; ".join(missing + extra)
        yield compared(f"scp:{scp.name}", expected, ", ".join(sorted(attached)) or "nothing", detail=detail)


@check("ORG-FULLAWSACCESS", f"{FULL_AWS_ACCESS} is attached at every level (the guardrails only deny)")
def full_aws_access(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    for label in organization.declared_nodes():
        target_id = organization.target_id(label)
        if target_id is None:
            yield drift(label, "attached", f"target {NOT_FOUND}")
            continue
        attached = FULL_AWS_ACCESS in organization.policy_names_for_target(target_id)
        yield compared(label, "attached", "attached" if attached else "detached")
