"""Shared fixtures. The mocks themselves live in one place, docustack.offline; tests only call into it."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # pulumi-aws v7's s3 module warns, at import, about its own deprecated *V2 classes, whether or not they are
    # used. Only that import is exempt: the program uses none of them (the whole-program tests check the types).
    warnings.simplefilter("ignore", DeprecationWarning)
    import pulumi_aws

    pulumi_aws.s3.Bucket  # noqa: B018 (the module loads lazily, on first attribute access)

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
