"""Checks of the organization baseline and cost attribution (issue 12), from the management stack.

- ``BASELINE-STACKSET``: the baseline StackSet exists, service-managed, auto-deployed with retained stacks, with the
  template and parameters the program declares.
- ``BASELINE-INSTANCES``: every member account of the organization (read live: accounts the settings do not
  declare are reported too) has a stack instance in every allowed region, and it is ``CURRENT``; an account with
  none is reported by name.
- ``BASELINE-RECORDERS``: the live customer managed recorder in each member account and region, read through the
  member read-only session (``--member-role``, by default ``<prefix>-readonly``, which the member read-only
  StackSet makes in every such account, so the scheduled workflow's read-only CI role reads them all; where that
  role is missing, the
  account's access role narrowed to ``ReadOnlyAccess``, as the member checks do): recording, every supported type,
  global types in the home region only. An account whose recorder cannot be read is ``error``, never compliant. The Log Archive and Audit accounts'
  recorders and delivery channels are ``CONFIG-RECORDING``'s (:mod:`.audit_checks`), so each is reported once.
- ``BASELINE-READONLY-STACKSET``, ``BASELINE-READONLY-INSTANCES``, ``BASELINE-READONLY-ROLE``: the member
  read-only StackSet (:mod:`components.member_read_only_stack_set`) is the one declared; it has one ``CURRENT``
  instance, in the home region, in every member account but the Log Archive and Audit accounts and none in those
  two (the management stack makes the role there: a second creator of the name); and the role it made in each
  account is still the declared one (trusted by the management account, an hour, exactly the declared allow-list,
  no managed policy). The role is an ordinary role to the account's administrators: one who widened it would widen
  what the management account's read-only CI role reaches there, so the daily verify reads it back.
- ``BUDGETS``: a budget per declared member account in the management account, filtered on that account, with the
  declared monthly limit and alerts; a live member account without one is reported.
- ``COST-ALLOCATION-TAGS``: ``cost-center`` and ``environment`` are active cost-allocation tags.

The expected values are the program's own: :mod:`components.organization_baseline`,
:mod:`components.account_budget` and the settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from components import member_read_only_stack_set as read_only_stack_set
from components.account_budget import BUDGET_TYPE, COMPARISON, LIMIT_UNIT, THRESHOLD_TYPE, TIME_UNIT, limit_amount
from components.config_recorder import RECORD_ALL_SUPPORTED, RECORDER_NAME
from components.member_read_only_role import MAX_SESSION_SECONDS, READ_ONLY_POLICY_NAME, management_trust_policy
from components.organization_baseline import AUTO_DEPLOYMENT, CAPABILITIES, PERMISSION_MODEL, template_text
from docustack.bucket_state import absent_if
from docustack.settings import COST_CENTER_TAG, ENVIRONMENT_TAG, resolved_budget
from docustack.verify.audit_checks import (
    CONFIG_BUCKET,
    CONTINUOUS,
    _audit,
    _live_recorder,
    _recorder_text,
    _regions,
)
from docustack.verify.baseline_checks import role_policy_findings
from docustack.verify.framework import (
    AWS_ERRORS,
    MEDIUM,
    CheckContext,
    Finding,
    check,
    compared,
    could_not_check,
    describe_error,
    drift,
)
from docustack.verify.member_checks import _member_session
from docustack.verify.organization_checks import NOT_FOUND, LiveOrganization
from docustack.verify.policy_compare import compared_documents

CURRENT = "CURRENT"
# The role Organizations makes in an account it creates; an account the settings do not declare is read through it.
DEFAULT_ACCESS_ROLE = "OrganizationAccountAccessRole"
NO_INSTANCE = "no stack instance"


def _stack_set_name(context: CheckContext) -> str | None:
    organization = context.settings.organization
    if organization is None or organization.baseline is None:
        return None
    return organization.baseline.stack_set_name or context.settings.baseline_stack_set_name()


def _member_accounts(context: CheckContext) -> list[tuple[str, str]]:
    """(label, ID) of every live member account, the management account aside; declared ones by their name."""
    live = context.reader(LiveOrganization)
    names = {account_id: name for name, account_id in live.account_ids.items()}
    return sorted(
        (f"account:{names.get(account['Id'], account['Id'])}", account["Id"])
        for account in live.accounts
        if account["Id"] != context.settings.account.id and account.get("Status", "ACTIVE") == "ACTIVE"
    )


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _stack_set_text(
    permission_model: str, auto_deployment: dict[str, Any], capabilities: list[str], template: str, parameters: str
) -> str:
    return (
        f"{permission_model}, auto-deployment {json.dumps(auto_deployment, sort_keys=True)}, capabilities "
        f"{sorted(capabilities)}, template {_digest(template)}, parameters {parameters}"
    )


def _compared_stack_set(context: CheckContext, name: str, expected: str) -> Iterator[Finding]:
    """The live StackSet ``name`` against ``expected`` (a :func:`_stack_set_text`): missing, not ACTIVE, or other
    settings, template or parameters is drift."""
    cloudformation = context.client("cloudformation")
    live = absent_if(
        ("StackSetNotFoundException",), lambda: cloudformation.describe_stack_set(StackSetName=name)["StackSet"]
    )
    resource = f"stackset:{name}"
    if live is None:
        yield drift(resource, expected, NOT_FOUND)
        return
    if live.get("Status") != "ACTIVE":
        yield drift(f"{resource}/Status", "ACTIVE", str(live.get("Status")))
    live_parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in live.get("Parameters", [])}
    actual = _stack_set_text(
        live.get("PermissionModel", ""),
        live.get("AutoDeployment", {}),
        live.get("Capabilities", []),
        live.get("TemplateBody", ""),
        json.dumps(live_parameters, sort_keys=True),
    )
    yield compared(resource, expected, actual)


@check("BASELINE-STACKSET", "The organization baseline StackSet is the one the program declares")
def baseline_stack_set(context: CheckContext) -> Iterator[Finding]:
    name = _stack_set_name(context)
    audit = _audit(context)
    if name is None or audit is None:
        return
    settings = context.settings
    parameters = {
        "ConfigBucketName": audit.bucket_name(CONFIG_BUCKET),
        "ConfigKeyArn": audit.key_arn,
        "DeliveryFrequency": "TwentyFour_Hours",
        "HomeRegion": settings.account.region,
    }
    expected = _stack_set_text(
        PERMISSION_MODEL,
        AUTO_DEPLOYMENT,
        list(CAPABILITIES),
        template_text(context.policy_dir),
        json.dumps(parameters, sort_keys=True),
    )
    yield from _compared_stack_set(context, name, expected)


@check("BASELINE-INSTANCES", "Every member account has the baseline in every allowed region, CURRENT")
def baseline_instances(context: CheckContext) -> Iterator[Finding]:
    name = _stack_set_name(context)
    if name is None:
        return
    cloudformation = context.client("cloudformation")
    pages = cloudformation.get_paginator("list_stack_instances").paginate(StackSetName=name)
    instances: dict[tuple[str, str], dict[str, Any]] = {
        (summary["Account"], summary["Region"]): summary for page in pages for summary in page["Summaries"]
    }
    for label, account_id in _member_accounts(context):
        missing = [region for region in _regions(context) if (account_id, region) not in instances]
        if len(missing) == len(context.settings.allowed_regions):
            yield drift(label, f"{name} in {', '.join(_regions(context))}", "none: this account has no baseline")
            continue
        for region in _regions(context):
            summary = instances.get((account_id, region))
            if summary is None:
                yield drift(f"{label}/{region}", CURRENT, NO_INSTANCE)
                continue
            detail = (summary.get("StackInstanceStatus") or {}).get("DetailedStatus", "")
            actual = summary.get("Status", "") + (f" ({detail})" if detail and summary.get("Status") != CURRENT else "")
            yield compared(f"{label}/{region}", CURRENT, actual, detail=summary.get("StatusReason", ""))


@check("BASELINE-RECORDERS", "Every member account records Config through the baseline, read in the account")
def baseline_recorders(context: CheckContext) -> Iterator[Finding]:
    if _stack_set_name(context) is None:
        return
    home = context.settings.account.region
    audit = _audit(context)
    checked_elsewhere = {audit.log_archive_id, audit.audit_id} if audit is not None else set()
    organization = context.settings.organization
    assert organization is not None
    live = context.reader(LiveOrganization)
    access_roles = {live.account_ids.get(a.name): a.role_name for a in organization.accounts}
    for label, account_id in _member_accounts(context):
        if account_id in checked_elsewhere:
            continue
        for region in _regions(context):
            expected = _recorder_text(RECORDER_NAME, True, RECORD_ALL_SUPPORTED, region == home, CONTINUOUS, [])
            resource = f"config:{label.removeprefix('account:')}/{region}/Recorder"
            try:
                role = access_roles.get(account_id, DEFAULT_ACCESS_ROLE)
                config = _member_session(context, account_id, role).client("config", region_name=region)
                actual = _live_recorder(config)
            except AWS_ERRORS as error:  # this account could not be read: not verified, the others still are
                yield could_not_check(resource, expected, detail=describe_error(error))
                continue
            yield compared(resource, expected, actual)


def _read_only_stack_set_name(context: CheckContext) -> str | None:
    """The member read-only StackSet's name, where the management stack declares it (the baseline and the audit
    services: the Log Archive and Audit accounts it leaves out are the audit services')."""
    organization = context.settings.organization
    if organization is None or organization.baseline is None or organization.audit_services is None:
        return None
    return read_only_stack_set.stack_set_name(context.settings.prefix)


def _role_made_by_the_stack(context: CheckContext) -> set[str]:
    """The accounts where the management stack makes <prefix>-readonly itself (the StackSet leaves them out)."""
    audit = _audit(context)
    return {a for a in (audit.log_archive_id, audit.audit_id) if a is not None} if audit is not None else set()


@check("BASELINE-READONLY-STACKSET", "The member read-only StackSet is the one the program declares")
def read_only_stack_set_declared(context: CheckContext) -> Iterator[Finding]:
    name = _read_only_stack_set_name(context)
    if name is None:
        return
    settings = context.settings
    template = read_only_stack_set.template_text(
        settings.member_read_only_role_name, settings.account.id, context.policy_dir
    )
    expected = _stack_set_text(
        PERMISSION_MODEL,  # both StackSets are service-managed
        read_only_stack_set.AUTO_DEPLOYMENT,
        list(read_only_stack_set.CAPABILITIES),
        template,
        "{}",
    )
    yield from _compared_stack_set(context, name, expected)


@check(
    "BASELINE-READONLY-INSTANCES",
    "The read-only role's StackSet is CURRENT in every member account but the Log Archive and Audit accounts",
)
def read_only_instances(context: CheckContext) -> Iterator[Finding]:
    name = _read_only_stack_set_name(context)
    if name is None:
        return
    home = context.settings.account.region
    cloudformation = context.client("cloudformation")
    pages = cloudformation.get_paginator("list_stack_instances").paginate(StackSetName=name)
    by_account: dict[str, list[dict[str, Any]]] = {}
    for page in pages:
        for summary in page["Summaries"]:
            by_account.setdefault(summary["Account"], []).append(summary)
    elsewhere = _role_made_by_the_stack(context)
    for label, account_id in _member_accounts(context):
        summaries = by_account.get(account_id, [])
        if account_id in elsewhere:
            # The management stack makes the role here: an instance would be a second creator of the same name.
            expected = "no instance: the management stack makes the role here"
            found = ", ".join(sorted(f"{s['Region']} {s.get('Status', '')}" for s in summaries))
            yield compared(label, expected, f"instance in {found}" if summaries else expected)
            continue
        if not summaries:
            yield drift(label, f"{name} in {home}, {CURRENT}", "none: this account has no read-only role")
            continue
        for summary in summaries:
            region = summary["Region"]
            if region != home:  # IAM is global: one stack, in the home region
                yield drift(f"{label}/{region}", "no instance (IAM is global: the home region's)", summary["Status"])
                continue
            detail = (summary.get("StackInstanceStatus") or {}).get("DetailedStatus", "")
            actual = summary.get("Status", "") + (f" ({detail})" if detail and summary.get("Status") != CURRENT else "")
            yield compared(f"{label}/{region}", CURRENT, actual, detail=summary.get("StatusReason", ""))


@check("BASELINE-READONLY-ROLE", "The read-only role in every other member account is the one the StackSet made")
def read_only_roles(context: CheckContext) -> Iterator[Finding]:
    if _read_only_stack_set_name(context) is None:
        return
    settings = context.settings
    role_name = settings.member_read_only_role_name
    declared_trust = management_trust_policy(settings.account.id)
    declared_policies = {READ_ONLY_POLICY_NAME: read_only_stack_set.baseline_member_read_only_policy()}
    elsewhere = _role_made_by_the_stack(context)
    organization = settings.organization
    assert organization is not None
    live = context.reader(LiveOrganization)
    access_roles = {live.account_ids.get(a.name): a.role_name for a in organization.accounts}
    for label, account_id in _member_accounts(context):
        if account_id in elsewhere:  # MEMBER-READ-ONLY-ROLE's
            continue
        resource = f"{label}/role:{role_name}"
        try:
            # Through the role itself; where it cannot be entered (missing, or re-trusted), an operator's run reads
            # it through the access role, as BASELINE-RECORDERS does; the read-only CI role has no such way.
            session = _member_session(context, account_id, access_roles.get(account_id, DEFAULT_ACCESS_ROLE))
            iam = session.client("iam", region_name=context.region)
            role = absent_if(("NoSuchEntity",), lambda iam=iam: iam.get_role(RoleName=role_name)["Role"])
            if role is None:
                yield drift(resource, "exists", NOT_FOUND, detail=f"account {account_id}")
                continue
            document = role["AssumeRolePolicyDocument"]
            if isinstance(document, str):  # botocore decodes it; a raw answer is URL-encoded JSON
                document = json.loads(unquote(document))
            findings = [
                compared_documents(f"{resource}/Trust", "the management account", declared_trust, document),
                compared(
                    f"{resource}/MaxSessionDuration",
                    str(MAX_SESSION_SECONDS),
                    str(role.get("MaxSessionDuration", "unknown")),
                ),
                *role_policy_findings(iam, role_name, resource, declared_policies),
            ]
        except AWS_ERRORS as error:  # this account could not be read: not verified, the others still are
            yield could_not_check(resource, "the declared read-only role", detail=describe_error(error))
            continue
        yield from findings


def _budget_text(limit: str, account_id: str, alerts: list[str]) -> str:
    return (
        f"{BUDGET_TYPE} {TIME_UNIT} {limit} {LIMIT_UNIT}, LinkedAccount {account_id}, alerts "
        f"{'; '.join(sorted(alerts)) or 'none'}"
    )


def _alert_text(kind: str, operator: str, threshold: float, threshold_type: str, recipients: list[str]) -> str:
    return f"{kind} {operator} {threshold:g} {threshold_type} -> {', '.join(sorted(recipients)) or 'nobody'}"


@check("BUDGETS", "A monthly budget per member account, filtered on it, with the declared alerts", severity=MEDIUM)
def budgets(context: CheckContext) -> Iterator[Finding]:
    organization = context.settings.organization
    if organization is None or organization.budgets is None:
        return
    client = context.client("budgets")
    management_id = context.settings.account.id
    pages = client.get_paginator("describe_budgets").paginate(AccountId=management_id)
    live_budgets = {budget["BudgetName"]: budget for page in pages for budget in page.get("Budgets", [])}
    live = context.reader(LiveOrganization)
    budgeted: set[str] = set()
    for account in organization.accounts:
        name = context.settings.budget_name(account.name)
        resource = f"budget:{name}"
        account_id = live.account_ids.get(account.name)
        limit, notifications = resolved_budget(organization, account)
        expected = _budget_text(
            limit_amount(limit),
            account_id or f"<{account.name} {NOT_FOUND}>",
            [
                _alert_text(n.type, COMPARISON, n.threshold_percent, THRESHOLD_TYPE, [*n.emails, *n.sns_topic_arns])
                for n in notifications
            ],
        )
        budget = live_budgets.get(name)
        if budget is None:
            yield drift(resource, expected, NOT_FOUND)
            continue
        filters = budget.get("CostFilters", {}).get("LinkedAccount", [])
        budgeted.update(filters)
        alerts = []
        for notification in client.describe_notifications_for_budget(AccountId=management_id, BudgetName=name).get(
            "Notifications", []
        ):
            subscribers = client.describe_subscribers_for_notification(
                AccountId=management_id, BudgetName=name, Notification=notification
            ).get("Subscribers", [])
            alerts.append(
                _alert_text(
                    notification["NotificationType"],
                    notification["ComparisonOperator"],
                    float(notification["Threshold"]),
                    notification.get("ThresholdType", "PERCENTAGE"),
                    [subscriber["Address"] for subscriber in subscribers],
                )
            )
        amount = budget.get("BudgetLimit", {})
        actual = _budget_text(
            limit_amount(float(amount.get("Amount", "0"))) if amount.get("Unit") == LIMIT_UNIT else str(amount),
            ",".join(filters) or "no LinkedAccount filter",
            alerts,
        ).replace(f"{BUDGET_TYPE} {TIME_UNIT}", f"{budget.get('BudgetType')} {budget.get('TimeUnit')}", 1)
        yield compared(resource, expected, actual)
    for label, account_id in _member_accounts(context):
        if account_id not in budgeted and label.removeprefix("account:") not in {a.name for a in organization.accounts}:
            yield drift(label, "a budget filtered on this account", "none: the account is not in the settings")


@check("COST-ALLOCATION-TAGS", "cost-center and environment are active cost-allocation tags", severity=MEDIUM)
def cost_allocation_tags(context: CheckContext) -> Iterator[Finding]:
    if context.settings.organization is None:
        return
    keys = [COST_CENTER_TAG, ENVIRONMENT_TAG]
    answer = context.client("ce", "us-east-1").list_cost_allocation_tags(TagKeys=keys, Type="UserDefined")
    statuses = {tag["TagKey"]: tag.get("Status", "") for tag in answer.get("CostAllocationTags", [])}
    for key in keys:
        yield compared(f"cost-allocation-tag:{key}", "Active", statuses.get(key, "not seen by billing yet"))
