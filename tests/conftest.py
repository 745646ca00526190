"""Shared fixtures. The Pulumi mocks live in one place, docustack.offline; the moto organization the verify
tests check lives in tests/moto_foundation.py."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import moto_foundation
import pytest
from moto import mock_aws

from docustack import plan, project
from docustack.settings import CONFIG_KEY, StackSettings, parse_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def stack_plans() -> dict[str, plan.StackPlan]:
    """Every stack of the repository, planned once for the whole session from its own Pulumi.<stack>.yaml."""
    return {stack: plan.plan_stack(PROJECT_DIR, stack) for stack in project.stack_names(PROJECT_DIR)}


@pytest.fixture
def management_raw() -> dict[str, Any]:
    """A fresh, mutable copy of the management stack's docustack:settings, for tests that edit the config."""
    return copy.deepcopy(project.read_stack_config(PROJECT_DIR, "management")[CONFIG_KEY])


@pytest.fixture
def management_settings(management_raw: dict[str, Any]) -> StackSettings:
    return parse_settings(management_raw, source="test")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call, with no real credentials or profile in reach."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", moto_foundation.REGION)
    with mock_aws():
        yield


@pytest.fixture
def live_foundation(aws: None, monkeypatch: pytest.MonkeyPatch) -> moto_foundation.LiveFoundation:
    """A compliant organization in moto built from Pulumi.management.yaml, and the operator signed in to it."""
    moto_foundation.sign_in(monkeypatch, moto_foundation.MANAGEMENT_ACCOUNT_ID)
    return moto_foundation.build_foundation(PROJECT_DIR)
