"""What a change does to human access: grants added or removed, permission sets changed, groups changed (which
identity-store group a name stands for, its kind) and accounts that became or stopped being production.

A grant is named by the settings' group name, so an edit that changes what a name stands for (two groups'
display names swapped, a developer group declared ``platform``) leaves every grant as it was: the group changes
are what show the reviewer that a group of people gained access.

``docustack plan --base REF`` shows it beside the guardrail comparison. As there, only data is taken from the
base revision (``Pulumi.management.yaml`` and ``policies/``, permission set templates included); both sides are
expanded and rendered by this checkout's code (docustack/access.py), so what shows is what the change does to
who can reach which account, not what it does to the tooling.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import policies
from docustack import access, guardrail_diff
from docustack.guardrail_diff import markdown_cell as cell
from docustack.project import load_stack_settings
from docustack.settings import StackSettings


@dataclass(frozen=True)
class GrantChange:
    change: str  # "added", "removed"
    grant: access.Grant
    production: bool  # the account is one of identityCenter.production after the change (or before, if removed)


@dataclass(frozen=True)
class PermissionSetChange:
    name: str
    change: str  # "added", "removed", "changed"
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupChange:
    name: str
    change: str  # "added", "removed", "changed"
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductionChange:
    account: str
    change: str  # "added": now production; "removed": no longer production


@dataclass
class AccessDiff:
    base: str
    grants: list[GrantChange] = field(default_factory=list)
    permission_sets: list[PermissionSetChange] = field(default_factory=list)
    groups: list[GroupChange] = field(default_factory=list)
    production: list[ProductionChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.grants and not self.permission_sets and not self.groups and not self.production

    def as_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "grants": [{"change": c.change, **vars(c.grant), "production": c.production} for c in self.grants],
            "permissionSets": [
                {"name": c.name, "change": c.change, "details": list(c.details)} for c in self.permission_sets
            ],
            "groups": [{"name": c.name, "change": c.change, "details": list(c.details)} for c in self.groups],
            "production": [{"account": c.account, "change": c.change} for c in self.production],
        }


def _definitions(settings: StackSettings, policy_dir: Path) -> dict[str, dict[str, Any]]:
    organization = settings.organization
    if organization is None or organization.identity_center is None:
        return {}
    variables = settings.policy_variables()
    found = {}
    for permission_set in organization.identity_center.permission_sets:
        document = access.inline_policy(permission_set, policy_dir=policy_dir, variables=variables)
        found[permission_set.name] = {
            "sessionDuration": access.session_duration(permission_set),
            "managedPolicyArns": sorted(permission_set.managed_policy_arns),
            "inlinePolicy": policies.minify(document) if document is not None else None,
            "readOnly": access.is_read_only(permission_set, policy_dir=policy_dir, variables=variables),
        }
    return found


def _groups(settings: StackSettings) -> dict[str, dict[str, Any]]:
    organization = settings.organization
    if organization is None or organization.identity_center is None:
        return {}
    return {
        group.name: {"displayName": group.display_name, "kind": group.kind, "create": group.create}
        for group in organization.identity_center.groups
    }


def _changes(was: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, "added" | "removed" | "changed", details) for every entry that differs, by name."""
    changes: list[tuple[str, str, tuple[str, ...]]] = []
    for name in sorted(was.keys() | now.keys()):
        if name not in was:
            changes.append((name, "added", ()))
        elif name not in now:
            changes.append((name, "removed", ()))
        elif was[name] != now[name]:
            details = tuple(
                f"{key}: {_short(was[name][key])} -> {_short(now[name][key])}"
                for key in sorted(now[name])
                if was[name][key] != now[name][key]
            )
            changes.append((name, "changed", details))
    return changes


def compare(before: StackSettings, before_dir: Path, after: StackSettings, after_dir: Path, base: str) -> AccessDiff:
    diff = AccessDiff(base=base)
    old, new = set(access.expand(before)), set(access.expand(after))
    old_production, new_production = access.production_accounts(before), access.production_accounts(after)
    for grant in sorted(new - old):
        diff.grants.append(GrantChange("added", grant, grant.account in new_production))
    for grant in sorted(old - new):
        diff.grants.append(GrantChange("removed", grant, grant.account in old_production))
    definitions = _changes(_definitions(before, before_dir), _definitions(after, after_dir))
    diff.permission_sets = [PermissionSetChange(*change) for change in definitions]
    diff.groups = [GroupChange(*change) for change in _changes(_groups(before), _groups(after))]
    diff.production = [ProductionChange(account, "added") for account in sorted(new_production - old_production)]
    diff.production += [ProductionChange(account, "removed") for account in sorted(old_production - new_production)]
    return diff


def _short(value: Any) -> str:
    if isinstance(value, str) and len(value) > 80:
        return f"{len(value)} characters"
    return json.dumps(value)


def compare_with_revision(project_dir: Path, base: str) -> AccessDiff:
    """Compare the checkout's human access with that of git revision ``base`` (extracted as the guardrails are)."""
    after = load_stack_settings(project_dir, guardrail_diff.MANAGEMENT_STACK)
    with tempfile.TemporaryDirectory(prefix="docustack-base-") as folder:
        base_dir = Path(folder)
        guardrail_diff._extract(project_dir, base, base_dir)  # pyright: ignore[reportPrivateUsage]
        before = load_stack_settings(base_dir, guardrail_diff.MANAGEMENT_STACK)
        return compare(before, base_dir / "policies", after, project_dir / "policies", base)


def _grant_text(change: GrantChange) -> str:
    grant = change.grant
    where = f"{grant.account} (production)" if change.production else grant.account
    return f"{grant.group} {'gains' if change.change == 'added' else 'loses'} {grant.permission_set} in {where}"


def render_text(diff: AccessDiff) -> str:
    if diff.empty:
        return f"Human access: no change against {diff.base}"
    lines = [f"Human access compared with {diff.base}:"]
    lines += [f"  {change.change:<8} {_grant_text(change)}" for change in diff.grants]
    for change in diff.permission_sets:
        lines.append(f"  {change.change:<8} permission set {change.name}")
        lines += [f"           {detail}" for detail in change.details]
    for group in diff.groups:
        lines.append(f"  {group.change:<8} group {group.name}")
        lines += [f"           {detail}" for detail in group.details]
    lines += [f"  {change.change:<8} {_production_text(change)}" for change in diff.production]
    return "\n".join(lines)


def _production_text(change: ProductionChange) -> str:
    return f"{change.account} is {'now' if change.change == 'added' else 'no longer'} production"


def render_markdown(diff: AccessDiff) -> str:
    if diff.empty:
        return f"### Human access\n\nNo change to any assignment, permission set, group or production account against `{diff.base}`.\n"
    lines = [f"### Human access compared with `{diff.base}`", ""]
    if diff.grants:
        lines += ["| change | group | permission set | account |", "|---|---|---|---|"]
        for change in diff.grants:
            grant = change.grant
            account = cell(grant.account)
            account = f"**{account}** (production)" if change.production else account
            lines.append(f"| {change.change} | {cell(grant.group)} | `{cell(grant.permission_set)}` | {account} |")
        lines.append("")
    if diff.permission_sets:
        lines += ["| change | permission set | detail |", "|---|---|---|"]
        for change in diff.permission_sets:
            lines.append(f"| {change.change} | `{cell(change.name)}` | {'<br>'.join(map(cell, change.details))} |")
        lines.append("")
    if diff.groups or diff.production:
        lines += ["| change | group or account | detail |", "|---|---|---|"]
        for group in diff.groups:
            lines.append(f"| {group.change} | group {cell(group.name)} | {'<br>'.join(map(cell, group.details))} |")
        for change in diff.production:
            lines.append(f"| {change.change} | {cell(change.account)} | {cell(_production_text(change))} |")
        lines.append("")
    return "\n".join(lines)
