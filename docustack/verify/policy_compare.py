"""Compare two IAM-style policy documents by meaning, statement by statement.

AWS may hand a policy back with other whitespace, another key order, a one-element list where a string was
sent, or statements reordered. None of that changes what the policy does, so documents are normalized
before they are compared: ``Action``/``NotAction``/``Resource``/``NotResource`` and condition values become
sorted lists, and statements are matched by ``Sid`` (every SCP of this project has one).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from docustack.verify.framework import Finding, compared

LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")


def _as_sorted_list(value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    return sorted(values, key=lambda item: json.dumps(item, sort_keys=True))


def normalize_statement(statement: dict[str, Any]) -> dict[str, Any]:
    normalized = dict(statement)
    for key in LIST_KEYS:
        if key in normalized:
            normalized[key] = _as_sorted_list(normalized[key])
    if isinstance(normalized.get("Condition"), dict):
        normalized["Condition"] = {
            operator: {key: _as_sorted_list(value) for key, value in keys.items()} if isinstance(keys, dict) else keys
            for operator, keys in normalized["Condition"].items()
        }
    return normalized


def statements_by_sid(document: Any) -> dict[str, dict[str, Any]]:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    return {
        str(statement.get("Sid") or f"#{index}"): normalize_statement(statement)
        for index, statement in enumerate(statements)
        if isinstance(statement, dict)
    }


def differences(expected: Any, actual: Any) -> list[str]:
    """What makes ``actual`` mean something else than ``expected``; empty when they are equivalent."""
    found: list[str] = []
    if isinstance(expected, dict) and isinstance(actual, dict) and expected.get("Version") != actual.get("Version"):
        found.append(f"Version {actual.get('Version')!r} instead of {expected.get('Version')!r}")
    wanted, live = statements_by_sid(expected), statements_by_sid(actual)
    for sid in wanted.keys() - live.keys():
        found.append(f"statement {sid} is missing")
    for sid in live.keys() - wanted.keys():
        found.append(f"statement {sid} is not declared")
    for sid in wanted.keys() & live.keys():
        keys = sorted(
            key for key in wanted[sid].keys() | live[sid].keys() if wanted[sid].get(key) != live[sid].get(key)
        )
        if keys:
            found.append(f"statement {sid} differs in {', '.join(keys)}")
    return sorted(found)


def compared_documents(
    resource: str, expected: str, declared: Any, live: Any, *, detail: Iterable[str] = ()
) -> Finding:
    """One finding for a whole policy document: ``ok`` when ``live`` means what ``declared`` means, otherwise
    drift whose detail names each statement that is missing, undeclared or different. ``live`` None: no policy."""
    found = ["no policy"] if live is None else differences(declared, live)
    actual = expected if not found else f"{len(found)} difference(s)"
    return compared(resource, expected, actual, detail="; ".join([*detail, *found]))
