"""The Pulumi project on disk: finding it, its stacks, and each stack's config as the CLI would hand it over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from docustack.settings import (
    CONFIG_KEY,
    SettingsError,
    SettingsProblem,
    StackSettings,
    cross_stack_problems,
    parse_settings,
)

STACKS = ("management", "dev", "staging", "prod")


class ProjectError(Exception):
    """The project or a stack file cannot be read."""


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) that has a Pulumi.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise ProjectError(f"no Pulumi.yaml in {here} or any folder above it; run from the project or pass --project-dir")


def stack_names(project_dir: Path) -> list[str]:
    """The stacks that have a Pulumi.<stack>.yaml, the known ones first in deployment order."""
    found = {path.name[len("Pulumi.") : -len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml")}
    if not found:
        raise ProjectError(f"no Pulumi.<stack>.yaml in {project_dir}")
    return [s for s in STACKS if s in found] + sorted(found - set(STACKS))


def read_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The ``config:`` map of ``Pulumi.<stack>.yaml`` (full keys such as ``docustack:settings``)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(stack_names(project_dir)) or "none"
        raise ProjectError(f"no stack {stack!r}: {path.name} does not exist (stacks: {known})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ProjectError(f"{path.name} is not valid YAML: {error}") from None
    config = document.get("config", {}) if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise ProjectError(f"{path.name}: 'config' must be a map of keys to values")
    return config


def load_stack_settings(project_dir: Path, stack: str) -> StackSettings:
    """The typed settings of one stack, read from its file; raises SettingsError or ProjectError."""
    config = read_stack_config(project_dir, stack)
    source = f"Pulumi.{stack}.yaml"
    if CONFIG_KEY not in config:
        raise SettingsError(source, [SettingsProblem(CONFIG_KEY, "is missing from the stack's config")])
    settings = parse_settings(config[CONFIG_KEY], source=source, policy_dir=project_dir / "policies")
    problems = cross_stack_problems(stack, settings, _sibling_settings(project_dir, stack))
    if problems:
        raise SettingsError(source, problems)
    return settings


def _sibling_settings(project_dir: Path, stack: str) -> dict[str, Any]:
    """The raw ``docustack:settings`` of every other stack file that can be read (the others report themselves)."""
    siblings: dict[str, Any] = {}
    for name in stack_names(project_dir):
        if name == stack:
            continue
        try:
            config = read_stack_config(project_dir, name)
        except (ProjectError, OSError, ValueError):  # ValueError: a file that is not UTF-8
            continue
        if CONFIG_KEY in config:
            siblings[name] = config[CONFIG_KEY]
    return siblings
