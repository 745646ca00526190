"""Budgets: one per member account in the management account, filtered on that account, limits and alerts from the
settings with defaults per OU, and the Budgets quotas refused with the field named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from docustack.plan import StackPlan
from docustack.settings import CONFIG_KEY, SettingsError, parse_settings

BUDGET = "aws:budgets/budget:Budget"
ACCOUNT = "aws:organizations/account:Account"


def _problems(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, source="Pulumi.management.yaml")
    return {problem.path.removeprefix(f"{CONFIG_KEY}."): problem.message for problem in caught.value.problems}


def _alert(**overrides: Any) -> dict[str, Any]:
    return {"type": "ACTUAL", "thresholdPercent": 80, "emails": ["costs@example.com"], **overrides}


def test_every_member_account_has_a_budget_filtered_on_it(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    settings = stack_plans["management"].settings
    assert settings.organization is not None
    management = plan.by_urn(plan.one(BUDGET, "budget-dev").provider_urn)
    assert management.name == "management-account"  # made in the management account
    for account in settings.organization.accounts:
        budget = plan.one(BUDGET, f"budget-{account.name}")
        account_id = plan.one(ACCOUNT, f"{account.name}-account").outputs["id"]
        assert budget.inputs["costFilters"] == [{"name": "LinkedAccount", "values": [account_id]}]
        assert budget.inputs["budgetType"] == "COST"
        assert budget.inputs["timeUnit"] == "MONTHLY"
        assert budget.inputs["name"] == f"docustack-{account.name}-monthly"
        assert budget.provider_urn == management.urn
        kinds = {(n["notificationType"], n["threshold"]) for n in budget.inputs["notifications"]}
        assert kinds == {("FORECASTED", 100.0), ("ACTUAL", 80.0), ("ACTUAL", 100.0)}
    # Defaults per OU: the Security OU's limit for the Log Archive, the organization default for a workload.
    assert plan.one(BUDGET, "budget-log-archive").inputs["limitAmount"] == "500.00"
    assert plan.one(BUDGET, "budget-dev").inputs["limitAmount"] == "1000.00"


def test_the_nearest_setting_wins(management_raw: dict[str, Any]) -> None:
    from docustack.settings import resolved_budget

    raw = copy.deepcopy(management_raw)
    organization = raw["organization"]
    organization["organizationalUnits"][1]["children"] = [{"name": "Experiments"}]  # Sandbox/Experiments
    organization["budgets"]["organizationalUnits"]["Sandbox/Experiments"] = {
        "notifications": [
            _alert(
                type="FORECASTED",
                thresholdPercent=150,
                snsTopicArns=["arn:aws:sns:us-east-1:111122223333:costs"],
                emails=[],
            )
        ]
    }
    organization["accounts"] += [
        {"name": "lab", "email": "lab@example.com", "ou": "Sandbox/Experiments"},
        {"name": "big", "email": "big@example.com", "ou": "Sandbox", "budget": {"monthlyLimitUsd": 2500}},
    ]
    settings = parse_settings(raw)
    assert settings.organization is not None
    lab, big = settings.organization.accounts[-2:]
    limit, notifications = resolved_budget(settings.organization, lab)
    # the limit from Sandbox (the nearest OU that sets one), the alerts from Sandbox/Experiments
    assert limit == 100
    assert [(n.type, n.threshold_percent, n.sns_topic_arns) for n in notifications] == [
        ("FORECASTED", 150, ["arn:aws:sns:us-east-1:111122223333:costs"])
    ]
    limit, notifications = resolved_budget(settings.organization, big)
    assert limit == 2500 and len(notifications) == 3


def test_thresholds_above_one_hundred_percent_are_valid(management_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(management_raw)
    raw["organization"]["budgets"]["default"]["notifications"] = [_alert(thresholdPercent=250)]
    parse_settings(raw)


BAD_BUDGETS: list[tuple[str, Any, str, str]] = [
    (
        "negative limit",
        lambda b, a: b["organizationalUnits"]["Sandbox"].update(monthlyLimitUsd=-5),
        "organization.budgets.organizationalUnits.Sandbox.monthlyLimitUsd",
        "must be above zero",
    ),
    (
        "zero limit on an account",
        lambda b, a: a[2].update(budget={"monthlyLimitUsd": 0}),
        "organization.accounts[2].budget.monthlyLimitUsd",
        "must be above zero",
    ),
    (
        "eleven notifications",
        lambda b, a: b["default"].update(notifications=[_alert(thresholdPercent=10 * i) for i in range(1, 12)]),
        "organization.budgets.default.notifications",
        "at most 10",
    ),
    (
        "eleven e-mail subscribers",
        lambda b, a: b["default"].update(notifications=[_alert(emails=[f"c{i}@example.com" for i in range(11)])]),
        "organization.budgets.default.notifications[0].emails",
        "at most 10 e-mail",
    ),
    (
        "two SNS topics",
        lambda b, a: b["default"].update(
            notifications=[
                _alert(snsTopicArns=[f"arn:aws:sns:us-east-1:111122223333:t{i}" for i in range(2)], emails=[])
            ]
        ),
        "organization.budgets.default.notifications[0].snsTopicArns",
        "at most 1 SNS",
    ),
    (
        "alert with no recipient",
        lambda b, a: b["organizationalUnits"]["Security"].update(notifications=[_alert(emails=[])]),
        "organization.budgets.organizationalUnits.Security.notifications[0]",
        "no recipient",
    ),
    (
        "OU that is not declared",
        lambda b, a: b["organizationalUnits"].update({"Nowhere": {"monthlyLimitUsd": 5}}),
        "organization.budgets.organizationalUnits.Nowhere",
        "not declared",
    ),
    (
        "default without a limit",
        lambda b, a: b["default"].pop("monthlyLimitUsd"),
        "organization.budgets.default.monthlyLimitUsd",
        "is required",
    ),
    (
        "the same alert twice",
        lambda b, a: b["default"].update(notifications=[_alert(), _alert()]),
        "organization.budgets.default.notifications[1]",
        "repeats",
    ),
]


@pytest.mark.parametrize(("case", "edit", "path", "words"), BAD_BUDGETS, ids=[c[0] for c in BAD_BUDGETS])
def test_bad_budget_settings_are_refused_naming_the_field(
    management_raw: dict[str, Any], case: str, edit: Any, path: str, words: str
) -> None:
    raw = copy.deepcopy(management_raw)
    edit(raw["organization"]["budgets"], raw["organization"]["accounts"])
    problems = _problems(raw)
    assert path in problems, f"{case}: {problems}"
    assert words in problems[path], problems[path]


def test_a_malformed_sns_topic_is_refused(management_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(management_raw)
    raw["organization"]["budgets"]["default"]["notifications"] = [_alert(snsTopicArns=["costs-topic"])]
    problems = _problems(raw)
    assert "SNS topic ARN" in problems["organization.budgets.default.notifications[0].snsTopicArns[0]"]


def test_the_plan_shows_each_accounts_budget(stack_plans: dict[str, StackPlan]) -> None:
    from docustack import plan

    management = stack_plans["management"]
    rows = {row["account"]: row for row in plan.render_json(management)["budgets"]}
    assert set(rows) == {"log-archive", "audit", "dev", "staging", "prod"}
    assert rows["log-archive"]["monthlyLimitUsd"] == 500 and rows["log-archive"]["ou"] == "Security"
    assert rows["dev"]["budgetName"] == "docustack-dev-monthly"
    assert "FORECASTED > 100 % -> <budget-alerts-email>" in rows["dev"]["alerts"]
    text = plan.render_text(management)
    assert "    dev (Workloads): 1000.00 USD; alerts FORECASTED > 100 %" in text
    assert "| dev | Workloads | 1000.00 |" in plan.render_markdown(management)
    assert plan.render_json(stack_plans["dev"])["budgets"] == []
