"""Compare two IAM-style policy documents by meaning: as a multiset of normalized statements.

AWS may hand a policy back with other whitespace, another key order, a one-element list where a string was
sent, or statements reordered. None of that changes what the policy does, so documents are normalized
before they are compared: ``Action``/``NotAction``/``Resource``/``NotResource``, each principal type's values
and condition values become sorted lists. What is left is compared as a multiset of whole statements: a
``Sid`` is a label, not an identity, so a statement is only "there" when a live statement says exactly the same
thing. The IAM reference says that "in IAM, the Sid value must be unique within a JSON policy"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html); whether S3, KMS and
Organizations refuse a resource policy or SCP with a duplicate ``Sid`` is UNVERIFIED (moto accepts one). So
verify does not rely on it: matching statements by ``Sid`` in a dict would let a second statement with a
declared ``Sid`` hide, or be hidden by, the first. Every ``Sid`` that occurs more than once is drift of its own,
and every statement without a live equal is reported, whatever its ``Sid``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from docustack.verify.framework import Finding, compared

LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")
PRINCIPAL_KEYS = ("Principal", "NotPrincipal")


def _as_sorted_list(value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    return sorted(values, key=lambda item: json.dumps(item, sort_keys=True))


def normalize_statement(statement: dict[str, Any]) -> dict[str, Any]:
    normalized = dict(statement)
    for key in LIST_KEYS:
        if key in normalized:
            normalized[key] = _as_sorted_list(normalized[key])
    for key in PRINCIPAL_KEYS:
        if isinstance(normalized.get(key), dict):
            normalized[key] = {kind: _as_sorted_list(values) for kind, values in normalized[key].items()}
    if isinstance(normalized.get("Condition"), dict):
        normalized["Condition"] = {
            operator: {key: _as_sorted_list(value) for key, value in keys.items()} if isinstance(keys, dict) else keys
            for operator, keys in normalized["Condition"].items()
        }
    return normalized


def statements(document: Any) -> list[dict[str, Any]]:
    """The document's statements, normalized; a statement that is not an object is kept as it is."""
    found = document.get("Statement", []) if isinstance(document, dict) else []
    if not isinstance(found, list):
        found = [found]
    return [normalize_statement(statement) if isinstance(statement, dict) else statement for statement in found]


def _key(statement: Any) -> str:
    return json.dumps(statement, sort_keys=True)


def _label(statement: Any) -> str:
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    return f"statement {sid}" if sid else "a statement without Sid"


def _duplicate_sids(found: list[Any]) -> Counter[str]:
    sids = Counter(str(s["Sid"]) for s in found if isinstance(s, dict) and s.get("Sid"))
    return Counter({sid: count for sid, count in sids.items() if count > 1})


def differences(expected: Any, actual: Any) -> list[str]:
    """What makes ``actual`` mean something else than ``expected``; empty when they are equivalent."""
    found: list[str] = []
    if isinstance(expected, dict) and isinstance(actual, dict) and expected.get("Version") != actual.get("Version"):
        found.append(f"Version {actual.get('Version')!r} instead of {expected.get('Version')!r}")
    wanted, live = statements(expected), statements(actual)
    for sid, count in _duplicate_sids(live).items():
        found.append(f"Sid {sid} is used by {count} live statements")
    # The multiset difference, both ways: what is declared but has no live equal, and what is live but undeclared.
    missing = list((Counter(map(_key, wanted)) - Counter(map(_key, live))).elements())
    extra = list((Counter(map(_key, live)) - Counter(map(_key, wanted))).elements())
    missing_statements = [json.loads(key) for key in missing]
    extra_statements = [json.loads(key) for key in extra]
    # A declared statement and a live one that share a Sid (each the only unmatched one with it): name the keys.
    for statement in list(missing_statements):
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        same = [s for s in extra_statements if isinstance(s, dict) and sid and s.get("Sid") == sid]
        if sid and len(same) == 1 and sum(1 for s in missing_statements if s.get("Sid") == sid) == 1:
            other = same[0]
            keys = sorted(key for key in statement.keys() | other.keys() if statement.get(key) != other.get(key))
            found.append(f"statement {sid} differs in {', '.join(keys)}")
            missing_statements.remove(statement)
            extra_statements.remove(other)
    found += [f"{_label(statement)} is missing" for statement in missing_statements]
    found += [f"{_label(statement)} is not declared" for statement in extra_statements]
    return sorted(found)


def compared_documents(
    resource: str, expected: str, declared: Any, live: Any, *, detail: Iterable[str] = ()
) -> Finding:
    """One finding for a whole policy document: ``ok`` when ``live`` means what ``declared`` means, otherwise
    drift whose detail names each statement that is missing, undeclared or different. ``live`` None: no policy."""
    found = ["no policy"] if live is None else differences(declared, live)
    actual = expected if not found else f"{len(found)} difference(s)"
    return compared(resource, expected, actual, detail="; ".join([*detail, *found]))
