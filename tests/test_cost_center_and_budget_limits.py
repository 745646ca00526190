"""The cost-center values the program tags with agree with the tag policy, and budget names and limits AWS would
refuse are refused at config time with the field named.

A tag policy's ``enforced_for`` makes a noncompliant tagging operation fail on the resource types it names
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_tag-policies-enforcement.html):
a provider default tag whose value the tag policy does not allow would make creating a DynamoDB table or a secret
fail at ``up``. Tag values are case-sensitive
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_example-tag-policies.html).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from docustack import project
from docustack.settings import (
    CONFIG_KEY,
    COST_CENTER_TAG,
    UNASSIGNED_COST_CENTER,
    SettingsError,
    parse_settings,
)
from policies import load
from tests.conftest import PROJECT_DIR


def _allowed_cost_centers() -> list[str]:
    document = load("tag-policy.json", "TAG_POLICY")
    return document["tags"][COST_CENTER_TAG]["tag_value"]["@@assign"]


def _problems(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, source="Pulumi.management.yaml")
    return {problem.path.removeprefix(f"{CONFIG_KEY}."): problem.message for problem in caught.value.problems}


def test_the_default_cost_center_is_a_value_the_tag_policy_allows() -> None:
    assert UNASSIGNED_COST_CENTER in _allowed_cost_centers()


@pytest.mark.parametrize("stack", ["management", "dev", "staging", "prod"])
def test_every_stacks_cost_center_is_a_value_the_tag_policy_allows(stack: str) -> None:
    """Workload stacks do not know the organization's tag policy; the shipped files are held to it here."""
    settings = parse_settings(project.read_stack_config(PROJECT_DIR, stack)[CONFIG_KEY])
    members = settings.organization.accounts if settings.organization else []
    values = {settings.cost_allocation_tags()[COST_CENTER_TAG]}
    values |= {settings.cost_allocation_tags(member)[COST_CENTER_TAG] for member in members}
    assert values <= set(_allowed_cost_centers()), values


def test_a_stack_without_cost_allocation_tags_a_compliant_value(management_raw: dict[str, Any]) -> None:
    del management_raw["costAllocation"]
    settings = parse_settings(management_raw)
    assert settings.cost_allocation_tags()[COST_CENTER_TAG] in _allowed_cost_centers()


@pytest.mark.parametrize("value", ["finance", "Engineering", "PLATFORM"])
def test_a_cost_center_the_tag_policy_does_not_allow_is_refused(management_raw: dict[str, Any], value: str) -> None:
    raw = copy.deepcopy(management_raw)
    raw["costAllocation"]["costCenter"] = value
    problems = _problems(raw)
    assert "costAllocation.costCenter" in problems, problems
    assert "tag-policy" in problems["costAllocation.costCenter"]
    assert value in problems["costAllocation.costCenter"]


def test_a_member_accounts_cost_center_is_held_to_the_tag_policy(management_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(management_raw)
    raw["organization"]["accounts"][1]["costAllocation"] = {"costCenter": "marketing"}
    problems = _problems(raw)
    assert "organization.accounts[1].costAllocation.costCenter" in problems, problems


def test_an_allowed_cost_center_passes(management_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(management_raw)
    raw["costAllocation"]["costCenter"] = "security"
    raw["organization"]["accounts"][1]["costAllocation"] = {"costCenter": "shared"}
    parse_settings(raw)


def test_a_budget_name_longer_than_aws_allows_is_refused(management_raw: dict[str, Any]) -> None:
    """Budget names: 1 to 100 characters, no ':' or '\\'
    (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html, BudgetName)."""
    raw = copy.deepcopy(management_raw)
    raw["prefix"] = "d" * 36
    raw["organization"]["accounts"][1]["name"] = "a" * 60
    raw["organization"]["accounts"][1]["accountName"] = "Long account"
    problems = _problems(raw)
    path = "organization.accounts[1].name"
    assert path in problems, problems
    assert "budget name" in problems[path] and "100" in problems[path]


@pytest.mark.parametrize("limit", [float("inf"), float("nan")])
def test_a_limit_that_is_not_a_finite_number_is_refused(management_raw: dict[str, Any], limit: float) -> None:
    raw = copy.deepcopy(management_raw)
    raw["organization"]["budgets"]["default"]["monthlyLimitUsd"] = limit
    problems = _problems(raw)
    assert "organization.budgets.default.monthlyLimitUsd" in problems, problems


def test_an_infinite_threshold_is_refused(management_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(management_raw)
    raw["organization"]["budgets"]["default"]["notifications"][0]["thresholdPercent"] = float("inf")
    problems = _problems(raw)
    assert any(path.startswith("organization.budgets.default.notifications[0]") for path in problems), problems


def test_an_account_whose_alerts_are_all_forecasted_is_warned_of(management_raw: dict[str, Any]) -> None:
    """Cost Explorer gives no forecast without enough history, "common for accounts that have less than one full
    billing cycle" (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/ce-forecast.html): a new account
    whose alerts are all FORECASTED gets none in its first month."""
    from docustack.settings import settings_warnings

    raw = copy.deepcopy(management_raw)
    forecasted = {"type": "FORECASTED", "thresholdPercent": 100, "emails": ["costs@example.com"]}
    raw["organization"]["budgets"]["organizationalUnits"]["Sandbox"]["notifications"] = [forecasted]
    warnings = settings_warnings(parse_settings(raw))
    assert [w for w in warnings if "organization.budgets.organizationalUnits.Sandbox.notifications" in w], warnings
    assert any("FORECASTED" in w and "billing cycle" in w for w in warnings)
    # The shipped settings mix ACTUAL and FORECASTED alerts: no warning.
    assert not [w for w in settings_warnings(parse_settings(management_raw)) if "FORECASTED" in w]


def test_an_account_that_inherits_the_stacks_cost_center_is_held_to_the_tag_policies_over_it(
    management_raw: dict[str, Any], tmp_path: Any
) -> None:
    """A tag policy on an OU with its own list binds the accounts below it, whose tags are the stack's unless they
    set their own."""
    import json
    import shutil

    from tests.conftest import PROJECT_DIR

    for file in (PROJECT_DIR / "policies").glob("*.json"):
        shutil.copy(file, tmp_path / file.name)
    narrow = load("tag-policy.json", "TAG_POLICY")
    narrow["tags"][COST_CENTER_TAG]["tag_value"]["@@assign"] = ["engineering"]
    (tmp_path / "workloads-tags.json").write_text(json.dumps(narrow))
    raw = copy.deepcopy(management_raw)
    raw["organization"]["policies"].append(
        {
            "name": "workloads-tags",
            "type": "TAG_POLICY",
            "file": "workloads-tags.json",
            "description": "x",
            "targets": ["ou:Workloads"],
        }
    )
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, source="Pulumi.management.yaml", policy_dir=tmp_path)
    problems = {p.path.removeprefix(f"{CONFIG_KEY}."): p.message for p in caught.value.problems}
    dev = next(i for i, a in enumerate(raw["organization"]["accounts"]) if a["name"] == "dev")
    path = f"organization.accounts[{dev}].costAllocation"
    assert path in problems, problems
    assert "workloads-tags" in problems[path] and "'platform'" in problems[path]
    # Given its own allowed value, the account passes.
    raw["organization"]["accounts"][dev]["costAllocation"] = {"costCenter": "engineering"}
    problems_after = set()
    try:
        parse_settings(raw, source="Pulumi.management.yaml", policy_dir=tmp_path)
    except SettingsError as error:
        problems_after = {p.path for p in error.problems}
    assert not [p for p in problems_after if f"accounts[{dev}]" in p], problems_after


def test_a_stack_value_the_root_tag_policy_refuses_is_reported_once(management_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(management_raw)
    raw["costAllocation"]["costCenter"] = "finance"
    problems = _problems(raw)
    assert [path for path in problems if "costAllocation" in path] == ["costAllocation.costCenter"], problems
