"""The offline plan: run ``__main__.py`` for a stack under mocks and show what it would create.

Needs no AWS account and no Pulumi CLI. The stack's own ``Pulumi.<stack>.yaml`` is read the way the CLI hands
config to a program, the settings are checked first (so bad config is reported as a list of problems, not a
traceback), and the program then runs under :mod:`docustack.offline`, which records every registration.
"""

from __future__ import annotations

import contextlib
import json
import runpy
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import RunError

import policies
from docustack import access, offline
from docustack.project import ProjectError, read_stack_config, settings_from_config
from docustack.settings import ROOT_TARGET, StackSettings, iter_ous, resolved_budget

# The inputs worth a reviewer's eye, by resource type. Everything else is in the JSON of a real preview.
KEY_SETTINGS: dict[str, tuple[str, ...]] = {
    "pulumi:providers:aws": ("region", "allowedAccountIds", "assumeRoles"),
    "aws:organizations/organization:Organization": (
        "featureSet",
        "enabledPolicyTypes",
        "awsServiceAccessPrincipals",
    ),
    "aws:organizations/organizationalUnit:OrganizationalUnit": ("name",),
    "aws:organizations/account:Account": ("name", "email", "roleName", "closeOnDeletion"),
    "aws:organizations/policy:Policy": ("name", "type"),
    "aws:organizations/policyAttachment:PolicyAttachment": ("targetId",),
    "aws:organizations/delegatedAdministrator:DelegatedAdministrator": ("servicePrincipal",),
    "aws:s3/bucket:Bucket": ("bucket", "objectLockEnabled"),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": ("rule",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("rule",),
    "aws:kms/key:Key": ("enableKeyRotation",),
    "aws:cloudtrail/trail:Trail": (
        "name",
        "isOrganizationTrail",
        "isMultiRegionTrail",
        "enableLogFileValidation",
        "cloudWatchLogsGroupArn",
    ),
    "aws:cfg/recorder:Recorder": ("recordingGroup",),
    "aws:cfg/configurationAggregator:ConfigurationAggregator": ("name",),
    "aws:guardduty/organizationConfiguration:OrganizationConfiguration": ("autoEnableOrganizationMembers",),
    "aws:securityhub/organizationConfiguration:OrganizationConfiguration": ("autoEnable", "autoEnableStandards"),
    "aws:kms/alias:Alias": ("name",),
    "aws:s3/bucketVersioning:BucketVersioning": ("versioningConfiguration",),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ("url", "clientIdLists"),
    "aws:iam/role:Role": ("name",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn",),
    "aws:dynamodb/table:Table": ("name",),
}


@dataclass
class StackPlan:
    stack: str
    settings: StackSettings
    plan: offline.Plan


def plan_stack(project_dir: Path, stack: str) -> StackPlan:
    """Check the stack's settings, then run the program offline; raises SettingsError or ProjectError.

    The stack file is read once: the same ``config:`` map gives the settings checked here and is handed to the
    program as the Pulumi CLI would hand it over (:func:`offline.run_program`).
    """
    config = read_stack_config(project_dir, stack)
    settings = settings_from_config(config, project_dir, stack)
    main = project_dir / "__main__.py"
    try:
        plan = offline.run_program(lambda: runpy.run_path(str(main), run_name="__main__"), stack=stack, config=config)
    except RunError as error:  # the program's own refusal: a message, as the Pulumi CLI shows it
        raise ProjectError(f"Pulumi.{stack}.yaml: the program refused to run: {error}") from None
    return StackPlan(stack, settings, plan)


def render_text(stack_plan: StackPlan) -> str:
    settings, plan = stack_plan.settings, stack_plan.plan
    account = settings.account
    lines = [f"Stack {stack_plan.stack}: account {account.id} ({account.name}), region {account.region}"]
    lines += [f"  WARNING: {warning}" for warning in plan.warnings]
    lines.append(
        f"  Resources ({len(plan.resources)}; '@ <provider>' marks those created in another account or region):"
    )
    lines += ["    " + line for line in _resource_tree(plan, home_provider=f"{account.name}-account")]
    lines.append("  Where they land (by provider: account and region):")
    lines += [f"    {where}: {count} resource(s)" for where, count in landing_counts(plan, account.name).items()]
    if settings.organization is not None:
        lines.append(f"  Organization chart ({chart_legend(settings)}):")
        lines += ["    " + line for line in chart_lines(organization_chart(settings))]
        lines += ["  " + line for line in access.matrix_text(settings)]
    budgets = account_budgets(settings)
    if budgets:
        lines.append("  Budgets (monthly, in the management account, each filtered on its account):")
        lines += [
            f"    {b['account']} ({b['ou']}): {b['monthlyLimitUsd']:.2f} USD; alerts {', '.join(b['alerts'])}"
            for b in budgets
        ]
    return "\n".join(lines)


def account_budgets(settings: StackSettings) -> list[dict[str, Any]]:
    """Each member account's budget as the settings resolve it (its own, its nearest OU's, the default)."""
    organization = settings.organization
    if organization is None or organization.budgets is None:
        return []
    rows = []
    for account in organization.accounts:
        limit, notifications = resolved_budget(organization, account)
        rows.append(
            {
                "account": account.name,
                "ou": account.ou,
                "budgetName": settings.budget_name(account.name),
                "monthlyLimitUsd": limit,
                "alerts": [
                    f"{n.type} > {n.threshold_percent:g} % -> {', '.join([*n.emails, *n.sns_topic_arns])}"
                    for n in notifications
                ],
            }
        )
    return rows


def landing_counts(plan: offline.Plan, account_name: str) -> dict[str, int]:
    """Resources per provider; the stack's own provider is the stack's account in its region."""
    counts: dict[str, int] = {}
    for resource in plan.resources:
        if resource.custom and not resource.type.startswith("pulumi:providers:"):
            provider = resource.provider_urn.rsplit("::", 1)[-1] or f"{account_name}-account"
            counts[provider] = counts.get(provider, 0) + 1
    return dict(sorted(counts.items()))


def _resource_tree(plan: offline.Plan, home_provider: str = "") -> list[str]:
    by_parent: dict[str, list[offline.PlannedResource]] = {}
    urns = {r.urn for r in plan.resources}
    for resource in plan.resources:
        parent = resource.parent if resource.parent in urns else ""
        by_parent.setdefault(parent, []).append(resource)
    lines: list[str] = []

    def visit(parent: str, prefix: str) -> None:
        # Registration order depends on when outputs resolve; sort so the same program prints the same tree.
        children = sorted(by_parent.get(parent, []), key=lambda r: (r.type.startswith("docustack:"), r.type, r.name))
        for index, resource in enumerate(children):
            last = index == len(children) - 1
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_describe(resource, home_provider)}")
            visit(resource.urn, prefix + ("   " if last else "│  "))

    visit("", "")
    return lines


def _flags(resource: offline.PlannedResource) -> str:
    flags = []
    if resource.protect:
        flags.append("protected")
    if resource.retain_on_delete:
        flags.append("retained on delete")
    if resource.import_id:
        flags.append(f"adopts {resource.import_id}")
    if resource.ignore_changes:
        flags.append(f"ignores {', '.join(resource.ignore_changes)}")
    return "; ".join(flags)


def _describe(resource: offline.PlannedResource, home_provider: str = "") -> str:
    flags = _flags(resource)
    settings = [
        f"{key}={_short(resource.inputs[key])}" for key in KEY_SETTINGS.get(resource.type, ()) if key in resource.inputs
    ]
    if resource.type == "aws:organizations/policy:Policy":
        settings.append(f"content={len(resource.inputs.get('content', ''))} chars")
    text = f"{resource.type} {resource.name}"
    # The provider's URN ends with its name, which says the account and region (log-archive-us-east-1).
    provider = resource.provider_urn.rsplit("::", 1)[-1]
    if provider and provider != home_provider:
        text += f" @ {provider}"
    if flags:
        text += f" [{flags}]"
    if settings:
        text += "  " + " ".join(settings)
    return text


def _short(value: Any) -> str:
    if isinstance(value, str) and value[:1] in "[{":
        with contextlib.suppress(ValueError):  # provider inputs arrive as JSON text
            value = json.loads(value)
    if isinstance(value, list):
        return "[" + ",".join(_short(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}={_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class ChartNode:
    """A node of the organization chart: the root, an OU or an account, with the policies attached directly."""

    kind: str  # "root", "management", "ou", "account"
    key: str  # "root", the OU path, or the account name
    label: str
    # (policy type, policy name) of every policy attached directly, types in policies.POLICY_TYPES order and
    # each type's policies in the settings' order.
    policies: tuple[tuple[str, str], ...] = ()
    children: tuple[ChartNode, ...] = ()

    @property
    def scps(self) -> tuple[str, ...]:
        return self.names_of("SERVICE_CONTROL_POLICY")

    def names_of(self, policy_type: str) -> tuple[str, ...]:
        return tuple(name for kind, name in self.policies if kind == policy_type)

    def by_type(self) -> list[str]:
        """One "<plural type name>: a, b" entry per type attached here: "SCPs: region-deny, ...", "tag policies: ..."."""
        return [
            f"{policies.PLURAL_NAMES[policy_type]}: {', '.join(self.names_of(policy_type))}"
            for policy_type in policies.POLICY_TYPES
            if self.names_of(policy_type)
        ]


def chart_legend(settings: StackSettings) -> str:
    """What the chart shows, and the AWS-managed default policies it leaves out (attached everywhere)."""
    assert settings.organization is not None
    defaults = [
        policies.QUOTAS[policy_type].default_policy
        for policy_type in policies.POLICY_TYPES
        if policy_type in settings.organization.enabled_policy_types and policies.QUOTAS[policy_type].default_policy
    ]
    legend = "policies attached directly, by type"
    if defaults:
        verb = "stays" if len(defaults) == 1 else "stay"
        legend += f"; {' and '.join(str(name) for name in defaults)} {verb} attached everywhere"
    return legend


def organization_chart(settings: StackSettings) -> ChartNode:
    """Root, OUs and accounts as a tree, each with the policies of every type attached to it directly."""
    organization = settings.organization
    assert organization is not None
    attached: dict[str, list[tuple[str, str]]] = {}
    for policy_type in policies.POLICY_TYPES:
        for policy in organization.policies_of(policy_type):
            for target in policy.targets:
                attached.setdefault(target, []).append((policy.type, policy.name))
    members: dict[str | None, list[tuple[str, str]]] = {}
    for node in iter_ous(organization):
        members.setdefault(node.parent_path, []).append(("ou", node.path))
    for account in organization.accounts:
        members.setdefault(account.ou, []).append(("account", account.name))
    accounts = {account.name: account for account in organization.accounts}

    def build(parent: str | None) -> tuple[ChartNode, ...]:
        nodes = []
        for kind, key in members.get(parent, []):
            if kind == "ou":
                label = f"OU {key.rsplit('/', 1)[-1]}"
                nodes.append(ChartNode("ou", key, label, tuple(attached.get(f"ou:{key}", [])), build(key)))
            else:
                account = accounts[key]
                status = f"{account.id}, adopted" if account.id else "to be created"
                label = f"account {key} ({status})"
                nodes.append(ChartNode("account", key, label, tuple(attached.get(f"account:{key}", []))))
        return tuple(nodes)

    management = ChartNode(
        "management", settings.account.name, f"management account {settings.account.id} (not restricted by SCPs)", ()
    )
    return ChartNode("root", ROOT_TARGET, "Root", tuple(attached.get(ROOT_TARGET, [])), (management, *build(None)))


def chart_lines(node: ChartNode, prefix: str = "", branch: str = "") -> list[str]:
    label = f"{node.label}  {'; '.join(node.by_type())}" if node.policies else node.label
    lines = [prefix + branch + label]
    child_prefix = prefix + ("" if not branch else "   " if branch == "└─ " else "│  ")
    for index, child in enumerate(node.children):
        last = index == len(node.children) - 1
        lines += chart_lines(child, child_prefix, "└─ " if last else "├─ ")
    return lines


def chart_mermaid(root: ChartNode) -> list[str]:
    lines = ["```mermaid", "graph TD"]
    ids: dict[int, str] = {}

    def visit(node: ChartNode, parent: str | None) -> None:
        node_id = ids.setdefault(id(node), f"n{len(ids)}")
        text = "<br/>".join([node.label, *node.by_type()])
        text = _mermaid_escape(text.replace('"', "#quot;"))
        lines.append(f'  {node_id}["{text}"]')
        if parent:
            lines.append(f"  {parent} --> {node_id}")
        for child in node.children:
            visit(child, node_id)

    visit(root, None)
    return [*lines, "```"]


def _mermaid_escape(text: str) -> str:
    """Angle brackets of <placeholders> would be read as HTML; the <br/> line breaks must stay."""
    return "<br/>".join(part.replace("<", "#lt;").replace(">", "#gt;") for part in text.split("<br/>"))


def chart_json(node: ChartNode) -> dict[str, Any]:
    return {
        "kind": node.kind,
        "key": node.key,
        "label": node.label,
        "scps": list(node.scps),
        "policies": [{"type": policy_type, "name": name} for policy_type, name in node.policies],
        "children": [chart_json(child) for child in node.children],
    }


def render_markdown(stack_plan: StackPlan) -> str:
    settings, plan = stack_plan.settings, stack_plan.plan
    account = settings.account
    lines = [
        f"## Stack `{stack_plan.stack}`",
        "",
        f"Account `{account.id}` ({account.name}), region `{account.region}`.",
        "",
    ]
    lines += [f"> **Warning:** {_markdown_text(warning)}" for warning in plan.warnings]
    if plan.warnings:
        lines.append("")
    if settings.organization is not None:
        lines += ["### Organization chart", "", *chart_mermaid(organization_chart(settings)), ""]
        lines += access.matrix_markdown(settings)
    budgets = account_budgets(settings)
    if budgets:
        lines += ["### Budgets (monthly, USD)", "", "| account | OU | limit | alerts |", "|---|---|---|---|"]
        lines += [
            f"| {_markdown_text(b['account'])} | {_markdown_text(b['ou'])} | {b['monthlyLimitUsd']:.2f} | "
            f"{_markdown_text('; '.join(b['alerts']))} |"
            for b in budgets
        ]
        lines.append("")
    counts: dict[str, int] = {}
    for resource in plan.resources:
        if resource.custom:
            counts[resource.type] = counts.get(resource.type, 0) + 1
    lines += [f"### Resources ({sum(counts.values())})", "", "| type | count |", "|---|---|"]
    lines += [f"| `{type_}` | {count} |" for type_, count in sorted(counts.items())]
    guarded = [r for r in _sorted(plan.resources) if r.protect or r.import_id]
    if guarded:
        lines += ["", "| protected or adopted | flags |", "|---|---|"]
        lines += [f"| `{r.type}` {_markdown_text(r.name)} | {_markdown_text(_flags(r))} |" for r in guarded]
    return "\n".join(lines) + "\n"


def render_json(stack_plan: StackPlan) -> dict[str, Any]:
    """A stable, machine-readable plan: resources sorted by type and name, parents and providers by name."""
    settings, plan = stack_plan.settings, stack_plan.plan
    names = {r.urn: f"{r.type}::{r.name}" for r in plan.resources}
    return {
        "stack": stack_plan.stack,
        "account": settings.account.model_dump(),
        "warnings": list(plan.warnings),
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "parent": names.get(r.parent),
                "provider": names.get(r.provider_urn),
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "import": r.import_id or None,
                "ignoreChanges": list(r.ignore_changes),
                "settings": {k: r.inputs[k] for k in KEY_SETTINGS.get(r.type, ()) if k in r.inputs},
            }
            for r in _sorted(plan.resources)
        ],
        "organization": chart_json(organization_chart(settings)) if settings.organization else None,
        "access": access.matrix_json(settings) if settings.organization else None,
        "budgets": account_budgets(settings),
    }


def _sorted(resources: Iterable[offline.PlannedResource]) -> list[offline.PlannedResource]:
    return sorted(resources, key=lambda r: (r.type, r.name))


def _markdown_text(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
