"""Which policy type each template under policies/ is, as the management stack declares it: the type decides
the grammar a template is loaded with (an RCP's statements carry ``Principal``, an SCP's may not)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from docustack import project
from docustack.settings import CONFIG_KEY

PROJECT_DIR = Path(__file__).resolve().parent.parent


@cache
def declared_types() -> dict[str, str]:
    raw = project.read_stack_config(PROJECT_DIR, "management")[CONFIG_KEY]
    return {entry["file"]: entry["type"] for entry in raw["organization"]["policies"]}


def policy_type_of(file: str) -> str:
    """The declared type of ``file``; SERVICE_CONTROL_POLICY for a template no entry names."""
    return declared_types().get(file, "SERVICE_CONTROL_POLICY")
