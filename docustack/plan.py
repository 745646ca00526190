"""The offline plan: run ``__main__.py`` for a stack under mocks and show what it would create.

Needs no AWS account and no Pulumi CLI. The stack's own ``Pulumi.<stack>.yaml`` is read the way the CLI hands
config to a program, the settings are checked first (so bad config is reported as a list of problems, not a
traceback), and the program then runs under :mod:`docustack.offline`, which records every registration.
"""

from __future__ import annotations

import runpy
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docustack import offline
from docustack.project import load_stack_settings, read_stack_config
from docustack.settings import ROOT_TARGET, StackSettings, iter_ous

# The inputs worth a reviewer's eye, by resource type. Everything else is in the JSON of a real preview.
KEY_SETTINGS: dict[str, tuple[str, ...]] = {
    "pulumi:providers:aws": ("region", "allowedAccountIds"),
    "aws:organizations/organization:Organization": (
        "featureSet",
        "enabledPolicyTypes",
        "awsServiceAccessPrincipals",
    ),
    "aws:organizations/organizationalUnit:OrganizationalUnit": ("name",),
    "aws:organizations/account:Account": ("name", "email", "roleName", "closeOnDeletion"),
    "aws:organizations/policy:Policy": ("name", "type"),
    "aws:organizations/policyAttachment:PolicyAttachment": ("targetId",),
    "aws:s3/bucket:Bucket": ("bucket",),
    "aws:kms/key:Key": ("enableKeyRotation",),
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
    """Check the stack's settings, then run the program offline; raises SettingsError or ProjectError."""
    settings = load_stack_settings(project_dir, stack)
    config = read_stack_config(project_dir, stack)
    main = project_dir / "__main__.py"
    plan = offline.run_program(lambda: runpy.run_path(str(main), run_name="__main__"), stack=stack, config=config)
    return StackPlan(stack, settings, plan)


def render_text(stack_plan: StackPlan) -> str:
    settings, plan = stack_plan.settings, stack_plan.plan
    account = settings.account
    lines = [f"Stack {stack_plan.stack}: account {account.id} ({account.name}), region {account.region}"]
    lines += [f"  WARNING: {warning}" for warning in plan.warnings]
    lines.append(f"  Resources ({len(plan.resources)}):")
    lines += ["    " + line for line in _resource_tree(plan)]
    if settings.organization is not None:
        lines.append("  Organization chart (SCPs attached directly; FullAWSAccess stays attached everywhere):")
        lines += ["    " + line for line in organization_chart(settings)]
    return "\n".join(lines)


def _resource_tree(plan: offline.Plan) -> list[str]:
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
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_describe(resource)}")
            visit(resource.urn, prefix + ("   " if last else "│  "))

    visit("", "")
    return lines


def _describe(resource: offline.PlannedResource) -> str:
    flags = []
    if resource.protect:
        flags.append("protected")
    if resource.retain_on_delete:
        flags.append("retained on delete")
    if resource.import_id:
        flags.append(f"adopts {resource.import_id}")
    if resource.ignore_changes:
        flags.append(f"ignores {', '.join(resource.ignore_changes)}")
    settings = [
        f"{key}={_short(resource.inputs[key])}" for key in KEY_SETTINGS.get(resource.type, ()) if key in resource.inputs
    ]
    if resource.type == "aws:organizations/policy:Policy":
        settings.append(f"content={len(resource.inputs.get('content', ''))} chars")
    text = f"{resource.type} {resource.name}"
    if flags:
        text += f" [{'; '.join(flags)}]"
    if settings:
        text += "  " + " ".join(settings)
    return text


def _short(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def organization_chart(settings: StackSettings) -> list[str]:
    """Root, OUs and accounts as a tree, each with the SCPs attached to it directly."""
    organization = settings.organization
    assert organization is not None
    attached: dict[str, list[str]] = {}
    for scp in organization.service_control_policies:
        for target in scp.targets:
            attached.setdefault(target, []).append(scp.name)

    def label(target: str, text: str) -> str:
        names = attached.get(target)
        return f"{text}  SCPs: {', '.join(names)}" if names else text

    children: dict[str | None, list[tuple[str, str]]] = {}
    for node in iter_ous(organization):
        children.setdefault(node.parent_path, []).append(("ou", node.path))
    for account in organization.accounts:
        children.setdefault(account.ou, []).append(("account", account.name))
    accounts = {account.name: account for account in organization.accounts}

    lines = [label(ROOT_TARGET, "Root")]
    lines.append(f"├─ management account {settings.account.id} (not restricted by SCPs)")

    def visit(parent: str | None, prefix: str) -> None:
        entries = children.get(parent, [])
        for index, (kind, key) in enumerate(entries):
            last = index == len(entries) - 1
            branch = "└─ " if last else "├─ "
            if kind == "ou":
                lines.append(prefix + branch + label(f"ou:{key}", f"OU {key.rsplit('/', 1)[-1]}"))
                visit(key, prefix + ("   " if last else "│  "))
            else:
                account = accounts[key]
                status = f"{account.id}, adopted" if account.id else "to be created"
                lines.append(prefix + branch + label(f"account:{key}", f"account {key} ({status})"))

    visit(None, "")
    return lines


def render_all(stack_plans: Iterable[StackPlan]) -> str:
    return "\n\n".join(render_text(stack_plan) for stack_plan in stack_plans)
