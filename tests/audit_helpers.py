"""Helpers shared by the audit-service tests: which provider a resource uses and what that provider pins."""

from __future__ import annotations

import json
from typing import Any

import pytest

from docustack.offline import Plan, PlannedResource
from docustack.settings import SettingsError, parse_settings


def provider_of(plan: Plan, resource: PlannedResource) -> PlannedResource:
    return plan.by_urn(resource.provider_urn)


def provider_pins(provider: PlannedResource) -> tuple[list[str], str, list[dict[str, Any]]]:
    """(allowedAccountIds, region, assumeRoles) as the provider receives them (provider inputs are JSON text)."""
    inputs = provider.inputs
    return (
        json.loads(inputs["allowedAccountIds"]),
        inputs["region"],
        json.loads(inputs.get("assumeRoles", "[]")),
    )


def settings_problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, source="test")
    return [str(problem) for problem in caught.value.problems]
