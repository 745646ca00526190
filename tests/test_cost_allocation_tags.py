"""Cost-allocation tags: activated in the management account, and carried by everything the program creates.

The offline plan records each resource's inputs, not what the provider adds: the AWS provider's ``default_tags``
are applied by the provider to every taggable resource it creates
(https://www.pulumi.com/registry/packages/aws/api-docs/provider/, ``defaultTags``). So the property is tested
where it is decided: every resource of every stack goes through an explicit provider, and every provider carries
both tags with the values the settings give the account it acts in.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from docustack.plan import StackPlan
from docustack.settings import COST_CENTER_TAG, ENVIRONMENT_TAG, parse_settings

STACKS = ["management", "dev", "staging", "prod"]


def _default_tags(provider: Any) -> dict[str, str]:
    value = provider.inputs["defaultTags"]
    return (json.loads(value) if isinstance(value, str) else value)["tags"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_goes_through_a_provider_that_tags_it_for_cost_allocation(
    stack_plans: dict[str, StackPlan], stack: str
) -> None:
    plan = stack_plans[stack].plan
    settings = stack_plans[stack].settings
    providers = {p.urn: p for p in plan.by_type("pulumi:providers:aws")}
    assert providers
    members = {a.name: a for a in settings.organization.accounts} if settings.organization else {}
    for provider in providers.values():
        tags = _default_tags(provider)
        assert set(tags) >= {COST_CENTER_TAG, ENVIRONMENT_TAG}, provider.name
        # A provider into a member account carries that account's values (the stack's when it declares none).
        member = next((m for name, m in members.items() if provider.name.startswith(f"{name}-")), None)
        assert {k: tags[k] for k in (COST_CENTER_TAG, ENVIRONMENT_TAG)} == settings.cost_allocation_tags(member)
    custom = [r for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    assert custom
    for resource in custom:
        assert resource.provider_urn in providers, f"{resource.name} would use a default provider (untagged)"


def test_the_values_come_from_the_settings(stack_plans: dict[str, StackPlan]) -> None:
    tags = {
        stack: _default_tags(stack_plans[stack].plan.one("pulumi:providers:aws", f"{stack}-account"))
        for stack in STACKS
    }
    assert tags["dev"][ENVIRONMENT_TAG] == "dev" and tags["dev"][COST_CENTER_TAG] == "engineering"
    assert tags["prod"][ENVIRONMENT_TAG] == "prod"
    assert tags["management"][COST_CENTER_TAG] == "platform"


def test_a_member_accounts_own_values_tag_what_the_management_stack_makes_there(
    management_raw: dict[str, Any],
) -> None:
    management_raw["organization"]["accounts"][0]["costAllocation"] = {
        "costCenter": "security",
        "environment": "audit-logs",
    }
    settings = parse_settings(management_raw)
    assert settings.organization is not None
    log_archive = settings.organization.accounts[0]
    assert settings.cost_allocation_tags(log_archive) == {COST_CENTER_TAG: "security", ENVIRONMENT_TAG: "audit-logs"}
    assert settings.cost_allocation_tags() == {COST_CENTER_TAG: "platform", ENVIRONMENT_TAG: "management"}


def test_a_tag_value_aws_would_refuse_is_refused(management_raw: dict[str, Any]) -> None:
    from docustack.settings import SettingsError

    management_raw["costAllocation"]["costCenter"] = "cost;center"
    with pytest.raises(SettingsError) as caught:
        parse_settings(management_raw)
    assert [p.path for p in caught.value.problems] == ["docustack:settings.costAllocation.costCenter"]


def test_the_management_account_activates_both_tags(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    activations = plan.by_type("aws:costexplorer/costAllocationTag:CostAllocationTag")
    assert {(a.inputs["tagKey"], a.inputs["status"]) for a in activations} == {
        (COST_CENTER_TAG, "Active"),
        (ENVIRONMENT_TAG, "Active"),
    }
    management = plan.one("pulumi:providers:aws", "management-account")
    assert {a.provider_urn for a in activations} == {management.urn}
    for stack in ("dev", "staging", "prod"):
        assert not stack_plans[stack].plan.by_type("aws:costexplorer/costAllocationTag:CostAllocationTag")
