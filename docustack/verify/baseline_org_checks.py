"""Checks of the organization baseline and cost attribution (issue 12), from the management stack.

- ``BASELINE-STACKSET``: the baseline StackSet exists, service-managed, auto-deployed with retained stacks, with the
  template and parameters the program declares.
- ``BASELINE-INSTANCES``: every member account of the organization (read live: accounts the settings do not
  declare are reported too) has a stack instance in every allowed region, and it is ``CURRENT``; an account with
  none is reported by name.
- ``BASELINE-RECORDERS``: the live customer managed recorder in each member account and region, read through the
  member read-only session (``--member-role``, by default ``<prefix>-readonly``; where that role is missing, the
  account's access role narrowed to ``ReadOnlyAccess``, as the member checks do): recording, every supported type,
  global types in the home region only. An account whose recorder cannot be read is ``error``, never compliant. The Log Archive and Audit accounts'
  recorders and delivery channels are ``CONFIG-RECORDING``'s (:mod:`.audit_checks`), so each is reported once.
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

from components.account_budget import BUDGET_TYPE, COMPARISON, LIMIT_UNIT, THRESHOLD_TYPE, TIME_UNIT, limit_amount
from components.config_recorder import RECORD_ALL_SUPPORTED, RECORDER_NAME
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
