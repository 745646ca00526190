"""Checks of the organization the management stack owns: features, policy types, trusted services, the OU tree,
the accounts and where they sit, and each organization policy's content and attachments, per type.

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
from docustack.settings import (
    FULL_AWS_ACCESS,
    ROOT_TARGET,
    MemberAccountSettings,
    OrganizationPolicySettings,
    OrganizationSettings,
    iter_ous,
)
from docustack.verify import policy_compare
from docustack.verify.framework import LOW, MEDIUM, CheckContext, Finding, check, compared, drift
from policies import management_syntax, perimeter

SCP = "SERVICE_CONTROL_POLICY"
NOT_FOUND = "not found"
# How a finding names a policy of each type: scp:<name>, tag-policy:<name>, ...
RESOURCE_PREFIX: dict[str, str] = {
    "SERVICE_CONTROL_POLICY": "scp",
    "RESOURCE_CONTROL_POLICY": "rcp",
    "TAG_POLICY": "tag-policy",
    "AISERVICES_OPT_OUT_POLICY": "ai-opt-out-policy",
    "DECLARATIVE_POLICY_EC2": "declarative-policy-ec2",
    "BACKUP_POLICY": "backup-policy",
    "S3_POLICY": "s3-policy",
}


class LiveOrganization:
    """What the organization looks like now, read on demand and cached for the run."""

    def __init__(self, context: CheckContext) -> None:
        self.context = context
        self.client = context.client("organizations")
        organization = context.settings.organization
        assert organization is not None, "organization checks run only for the management stack"
        self.declared: OrganizationSettings = organization
        self._policies: dict[str, dict[str, dict[str, Any]]] = {}

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
        return self.policies_of(SCP)

    def policies_of(self, policy_type: str) -> dict[str, dict[str, Any]]:
        """The organization's policies of one type by name, read once per type."""
        if policy_type not in self._policies:
            listed = self.read_all("list_policies", "Policies", Filter=policy_type)
            self._policies[policy_type] = {policy["Name"]: policy for policy in listed}
        return self._policies[policy_type]

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

    def policy_names_for_target(self, target_id: str, policy_type: str = SCP) -> set[str]:
        return {
            p["Name"]
            for p in self.read_all("list_policies_for_target", "Policies", TargetId=target_id, Filter=policy_type)
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


@check("ORG-POLICY-TYPES", "Every declared policy type, and the type of every declared policy, is enabled on the root")
def policy_types(context: CheckContext) -> Iterator[Finding]:
    organization = _organization(context)
    declared = list(organization.declared.enabled_policy_types)
    for policy in organization.declared.policies:
        if policy.type not in declared:
            declared.append(policy.type)
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


def _resource(policy: OrganizationPolicySettings) -> str:
    return f"{RESOURCE_PREFIX[policy.type]}:{policy.name}"


def _declared(context: CheckContext, *, scps: bool) -> list[OrganizationPolicySettings]:
    """The SCPs (``scps``), or the declared policies of every other type."""
    return [p for p in _organization(context).declared.policies if (p.type == SCP) == scps]


def _content_findings(context: CheckContext, declared: list[OrganizationPolicySettings]) -> Iterator[Finding]:
    """Each policy exists by name within its type and means what its rendered file means, and has its description.

    SCPs and RCPs are compared as IAM documents (:mod:`policy_compare`: statements as a multiset). The other types
    are compared setting by setting (:func:`management_syntax.setting_paths`): the same inheritance operators on
    the same key paths, lists taken as sets (tag values, resource types and operator lists are unordered)."""
    organization = _organization(context)
    # The perimeter's documents name the organization, root and OUs by ID: the live ones, as `up` filled them in
    # (docustack/stacks.py); an OU that is missing keeps its stand-in, and ORG-OU-TREE reports it.
    live_ids = {path: unit["Id"] for path, unit in organization.ous.items()}
    variables = {
        **context.settings.policy_variables(),
        **perimeter.organization_variables(organization.description["Id"], organization.root["Id"], live_ids),
    }
    for policy in declared:
        resource = _resource(policy)
        expected = f"settings of policies/{policy.file}"
        if policy.type in policies.AUTHORIZATION_POLICY_TYPES:
            expected = f"statements of policies/{policy.file}"
        live = organization.policies_of(policy.type).get(policy.name)
        if live is None:
            yield drift(resource, expected, NOT_FOUND)
            continue
        rendered = json.loads(
            policies.render_file(policy.file, variables, policy_type=policy.type, policy_dir=context.policy_dir)
        )
        content = organization.client.describe_policy(PolicyId=live["Id"])["Policy"]["Content"]
        try:
            document = json.loads(content)
        except json.JSONDecodeError:
            yield drift(resource, expected, "1 difference(s)", detail=f"{live['Id']}; the live content is not JSON")
            continue
        if policy.type in policies.AUTHORIZATION_POLICY_TYPES:
            yield policy_compare.compared_documents(resource, expected, rendered, document, detail=[live["Id"]])
        else:
            found = setting_differences(rendered, document)
            actual = expected if not found else f"{len(found)} difference(s)"
            yield compared(resource, expected, actual, detail="; ".join([live["Id"], *found]))
        yield compared(f"{resource}/Description", policy.description, live.get("Description", ""))


def _normalized(value: Any) -> Any:
    if isinstance(value, list):
        return sorted((_normalized(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, dict):
        return {key: _normalized(item) for key, item in value.items()}
    return value


def setting_differences(declared: Any, live: Any) -> list[str]:
    """The key paths where a live management policy says something else than the declared one."""
    wanted = {path: _normalized(value) for path, value in management_syntax.setting_paths(declared).items()}
    found = {path: _normalized(value) for path, value in management_syntax.setting_paths(live).items()}
    problems = []
    for path in sorted(wanted.keys() | found.keys()):
        where = path or "(top level)"
        if path not in found:
            problems.append(f"{where} is missing")
        elif path not in wanted:
            problems.append(f"{where} is not declared ({json.dumps(found[path], sort_keys=True)})")
        elif wanted[path] != found[path]:
            problems.append(
                f"{where} is {json.dumps(found[path], sort_keys=True)} instead of "
                f"{json.dumps(wanted[path], sort_keys=True)}"
            )
    return problems


def _attachment_findings(context: CheckContext, declared: list[OrganizationPolicySettings]) -> Iterator[Finding]:
    organization = _organization(context)
    for policy in declared:
        resource = _resource(policy)
        expected = ", ".join(sorted(policy.targets))
        live = organization.policies_of(policy.type).get(policy.name)
        if live is None:
            yield drift(resource, expected, f"policy {NOT_FOUND}")
            continue
        targets = organization.read_all("list_targets_for_policy", "Targets", PolicyId=live["Id"])
        attached = {organization.label(target["TargetId"]) for target in targets}
        missing = [f"missing {label}" for label in sorted(set(policy.targets) - attached)]
        extra = [f"extra {label}" for label in sorted(attached - set(policy.targets))]
        detail = "; ".join(missing + extra)
        yield compared(resource, expected, ", ".join(sorted(attached)) or "nothing", detail=detail)


@check("ORG-SCP-CONTENT", "Each SCP exists and says what its rendered policy file says")
def scp_content(context: CheckContext) -> Iterator[Finding]:
    yield from _content_findings(context, _declared(context, scps=True))


@check("ORG-SCP-ATTACHMENTS", "Each SCP is attached to exactly its declared targets")
def scp_attachments(context: CheckContext) -> Iterator[Finding]:
    yield from _attachment_findings(context, _declared(context, scps=True))


@check("ORG-POLICY-CONTENT", "Each policy of the other types exists and says what its rendered policy file says")
def policy_content(context: CheckContext) -> Iterator[Finding]:
    yield from _content_findings(context, _declared(context, scps=False))


@check("ORG-POLICY-ATTACHMENTS", "Each policy of the other types is attached to exactly its declared targets")
def policy_attachments(context: CheckContext) -> Iterator[Finding]:
    yield from _attachment_findings(context, _declared(context, scps=False))


@check(
    "ORG-POLICY-UNDECLARED", "No policy the settings do not declare there is attached to the root, an OU or an account"
)
def undeclared_attachments(context: CheckContext) -> Iterator[Finding]:
    """Per declared node (the management account included) and per type enabled on the root: every policy attached
    directly is declared for that node, or is the type's AWS-managed default (FullAWSAccess, RCPFullAWSAccess)."""
    organization = _organization(context)
    live_types = [
        entry["Type"] for entry in organization.root.get("PolicyTypes", []) if entry.get("Status") == "ENABLED"
    ]
    types = [t for t in policies.POLICY_TYPES if t in live_types]
    management = f"account:{context.settings.account.name}"
    for label in [*organization.declared_nodes(), management]:
        target_id = context.settings.account.id if label == management else organization.target_id(label)
        if target_id is None:
            continue  # a missing OU or account is drift of ORG-OU-TREE / ORG-ACCOUNT
        for policy_type in types:
            declared = {p.name for p in organization.declared.policies_of(policy_type) if label in p.targets}
            default = policies.QUOTAS[policy_type].default_policy
            allowed = declared | ({default} if default else set())
            extra = sorted(organization.policy_names_for_target(target_id, policy_type) - allowed)
            plural = policies.PLURAL_NAMES[policy_type]
            yield compared(
                f"{label}/{policy_type}",
                f"no undeclared {plural}",
                f"undeclared: {', '.join(extra)}" if extra else f"no undeclared {plural}",
            )


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
