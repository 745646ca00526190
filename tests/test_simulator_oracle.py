"""Differential test of the SCP simulator against an evaluator nobody here wrote: iam-simulate.

The project's simulator (docustack/simulator.py) and ``@cloud-copilot/iam-simulate`` (npm, driven by
tools/iam-oracle.cjs) decide the same requests under the same SCPs: the probe table plus a generated set that
covers every account of the management stack's organization (with a sandbox account added here), several
regions, hundreds of actions across services (every action the SCPs name, the global services of the
region-deny exception, and a spread of regional services), ordinary, exempt, near-miss and service-linked
principals, resources inside and outside the SCPs' resource patterns, and every value of every service condition
key the SCPs test. Any disagreement fails the test unless ``KNOWN_DISAGREEMENTS`` lists it with the reason and
the AWS page that settles it.

What the harness builds itself, from AWS's documentation rather than from the project's code:

- The levels: root, then each OU from the top down, then the account; ``FullAWSAccess`` attached at every level
  as Organizations attaches it by default, plus the SCPs whose targets name that level.
  https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
- The management account and service-linked roles get no SCP level at all: SCPs affect neither the users and
  roles of the management account nor service-linked roles. iam-simulate has no notion of either, so the
  harness applies the rule, and these requests check only that the project's simulator applies it too.
  https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
- The request context: iam-simulate fills in no global key from the request, so the harness sets
  ``aws:RequestedRegion`` (the request's region), ``aws:PrincipalArn`` (the principal's ARN; for a role session,
  its role's) and ``aws:PrincipalAccount`` (the ID of the account the request is made in, which in the generated
  set is also the principal's), as AWS includes them in signed requests.
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
- The principal's identity policy allows everything, so the only decision left is the SCPs'; the oracle reports
  iam-simulate's SCP analysis (``scpAnalysis``), not the overall result.

The SCP documents are rendered by ``policies.render`` from the stack settings: they are the input both evaluators
receive, not something under test here (tests/test_policies.py checks them).
"""

from __future__ import annotations

import copy
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import iam_reference
import pytest

import policies
from docustack import project, simulator
from docustack.probes import PROBES
from docustack.settings import CONFIG_KEY, StackSettings, parse_settings
from docustack.simulator import OrganizationModel, Request

PROJECT_DIR = Path(__file__).resolve().parent.parent
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
SANDBOX = {
    "name": "sandbox",
    "accountName": "DocuStack Sandbox",
    "email": "sandbox@example.com",
    "ou": "Sandbox",
    "id": "777788889999",
}
# Accounts the stack file does not give an ID yet (created by the first `up`, or placeholders): the oracle needs
# an ID for aws:PrincipalAccount and for the principals' ARNs.
STAND_IN_IDS = {
    "log-archive": "111122223333",
    "audit": "444455556666",
    "staging": "222233334444",
    "prod": "333344445555",
}
FULL_AWS_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# Regional services beyond those the SCPs name, sampled evenly from iam-data's action list for each.
SPREAD_SERVICES = (
    "ec2", "lambda", "dynamodb", "rds", "sqs", "sns", "logs", "ecs", "eks", "secretsmanager", "ssm", "cloudwatch",
    "kinesis", "athena", "glue", "healthlake", "bedrock", "sagemaker", "states", "events", "elasticloadbalancing",
    "cloudformation", "codebuild", "ecr", "apigateway", "backup", "acm", "elasticfilesystem",
)  # fmt: skip
PER_SPREAD_SERVICE = 8
PER_GLOBAL_PATTERN = 3
SERVICE_LINKED_ROLE = "role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"


@dataclass(frozen=True)
class Known:
    """A disagreement the test accepts: which requests, why, and the AWS page that says which side is right."""

    matches: Callable[[Request, str], bool]  # (project request, oracle decision) -> covered
    reason: str
    aws_page: str


# Each entry must still match at least one request, so a fixed disagreement does not linger here.
KNOWN_DISAGREEMENTS: tuple[Known, ...] = ()


# ---------------------------------------------------------------------------------------------------------
# The organization under test


@pytest.fixture(scope="module")
def settings() -> StackSettings:
    """The management stack's settings, with the sandbox account added and stand-in IDs where none is known."""
    raw = copy.deepcopy(project.read_stack_config(PROJECT_DIR, "management")[CONFIG_KEY])
    accounts = raw["organization"]["accounts"]
    assert not any(a["name"] == "sandbox" for a in accounts), "the stack has a sandbox now: drop SANDBOX here"
    accounts.append(dict(SANDBOX))
    for account in accounts:
        if not str(account.get("id", "")).isdigit():
            account["id"] = STAND_IN_IDS[account["name"]]
    return parse_settings(raw, source="Pulumi.management.yaml + sandbox")


@dataclass(frozen=True)
class Account:
    name: str
    id: str
    levels: tuple[str, ...]  # () for the management account


def accounts_of(settings: StackSettings) -> list[Account]:
    organization = settings.organization
    assert organization is not None
    found = [Account("management", settings.account.id, ())]
    for account in organization.accounts:
        assert account.id is not None
        parts = account.ou.split("/")
        ous = tuple(f"ou:{'/'.join(parts[: i + 1])}" for i in range(len(parts)))
        found.append(Account(account.name, account.id, ("root", *ous, f"account:{account.name}")))
    return found


def policy_sets(settings: StackSettings, accounts: list[Account]) -> dict[str, list[dict[str, Any]]]:
    """For each account, the SCPs at each level in iam-simulate's shape; ``"exempt"`` is the empty set."""
    organization = settings.organization
    assert organization is not None
    attached: dict[str, list[dict[str, Any]]] = {}
    variables = settings.policy_variables()
    for scp in organization.service_control_policies:
        document = policies.render(policies.load(scp.file), variables)
        for target in scp.targets:
            attached.setdefault(target, []).append({"name": scp.name, "policy": document})
    sets: dict[str, list[dict[str, Any]]] = {"exempt": []}
    for account in accounts:
        if account.levels:
            sets[account.name] = [
                {
                    "orgIdentifier": level,
                    "policies": [{"name": "FullAWSAccess", "policy": FULL_AWS_ACCESS}, *attached.get(level, [])],
                }
                for level in account.levels
            ]
    return sets


# ---------------------------------------------------------------------------------------------------------
# The requests


def principals(settings: StackSettings, account_id: str) -> dict[str, str]:
    """Principal kinds: ordinary, every exempt role, near misses of an exempt name, a user, a service-linked role."""
    organization = settings.organization
    assert organization is not None
    kinds = {"ordinary": f"arn:aws:iam::{account_id}:role/developer", "user": f"arn:aws:iam::{account_id}:user/alice"}
    for name in organization.guardrail_exempt_roles:
        kinds[f"exempt {name}"] = f"arn:aws:iam::{account_id}:role/{name}"
    first = organization.guardrail_exempt_roles[0]
    kinds["exempt name under a path"] = f"arn:aws:iam::{account_id}:role/team/{first}"
    kinds["exempt name plus suffix"] = f"arn:aws:iam::{account_id}:role/{first}-2"
    kinds["service-linked"] = f"arn:aws:iam::{account_id}:{SERVICE_LINKED_ROLE}"
    return kinds


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _instance(pattern: str, account_id: str) -> str:
    """A concrete resource inside an SCP's resource pattern: the account field gets the account's ID, a region
    wildcard a real region, any other wildcard becomes text."""
    parts = pattern.split(":", 5)
    if len(parts) == 6 and parts[4] in ("*", "?" * 12):
        parts[4] = account_id
    if len(parts) == 6 and parts[3] == "*":  # a region wildcard (access point ARNs): a real region, not text
        parts[3] = "us-east-1"
    return ":".join(parts).replace("*", "example").replace("?", "x")


def _sampled(items: list[str], count: int) -> list[str]:
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def generated_requests(settings: StackSettings, accounts: list[Account]) -> Iterator[tuple[str, Request]]:
    documents = [
        policies.render(policies.load(scp.file), settings.policy_variables())
        for scp in (settings.organization.service_control_policies if settings.organization else [])
    ]
    named: set[str] = set()  # actions the SCPs deny by name
    global_services: set[str] = set()  # actions the region-deny exception keeps (NotAction)
    resource_patterns: dict[str, set[str]] = {}  # action -> resource patterns that statements name for it
    condition_values: dict[str, dict[str, set[str]]] = {}  # action -> service condition key -> values tested
    for document in documents:
        for statement in _statements(document):
            if "NotAction" in statement:
                for pattern in _as_list(statement["NotAction"]):
                    global_services.update(_sampled(iam_reference.expand_action(pattern), PER_GLOBAL_PATTERN))
                continue
            actions = [a for p in _as_list(statement["Action"]) for a in iam_reference.expand_action(p)]
            named.update(actions)
            for action in actions:
                for pattern in _as_list(statement.get("Resource", "*")):
                    if pattern != "*":
                        resource_patterns.setdefault(action, set()).add(pattern)
                for block in statement.get("Condition", {}).values():
                    for key, values in block.items():
                        if not key.lower().startswith("aws:"):
                            condition_values.setdefault(action, {}).setdefault(key, set()).update(
                                str(v) for v in _as_list(values)
                            )
    spread = {a for s in SPREAD_SERVICES for a in _sampled(iam_reference.expand_action(f"{s}:*"), PER_SPREAD_SERVICE)}
    every_action = sorted(named | global_services | spread)
    members = [a for a in accounts if a.levels]

    def request(
        action: str, account: Account, region: str, principal: str, resource: str | None = None, **context: str
    ) -> Request:
        if resource is None:
            resource = iam_reference.example_resource(action, region=region, account_id=account.id)
        return Request(action, account.name, region, principal, resource, context)

    # 1. Every action in two rotating (account, region, principal kind) combinations.
    kinds = list(principals(settings, "000000000000"))
    for n, action in enumerate(every_action):
        for c in range(2):
            account = accounts[(n + c) % len(accounts)]
            region = REGIONS[(n * 3 + c) % len(REGIONS)]
            kind = kinds[(n + 2 * c) % len(kinds)]
            yield f"spread {kind}", request(action, account, region, principals(settings, account.id)[kind])
    # 2. Every action the SCPs name, in every member account, by an ordinary and an exempt principal, in an
    #    allowed region; and outside it by the ordinary principal.
    exempt_kind = next(k for k in kinds if k.startswith("exempt ") and "path" not in k and "suffix" not in k)
    for action in sorted(named):
        for account in members:
            mine = principals(settings, account.id)
            yield "named ordinary", request(action, account, settings.allowed_regions[0], mine["ordinary"])
            yield "named exempt", request(action, account, settings.allowed_regions[0], mine[exempt_kind])
        yield (
            "named outside region",
            request(action, members[0], "eu-west-1", principals(settings, members[0].id)["ordinary"]),
        )
        # Action names are case-insensitive (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
        yield (
            "named action case",
            request(
                action.lower(), members[0], settings.allowed_regions[0], principals(settings, members[0].id)["ordinary"]
            ),
        )
        yield (
            "named action case",
            request(action.upper(), members[-1], "us-west-2", principals(settings, members[-1].id)["ordinary"]),
        )
    # 3. Resources inside the patterns the SCPs name, by every principal kind, in two member accounts in turn.
    for n, (action, patterns) in enumerate(sorted(resource_patterns.items())):
        pair = (members[n % len(members)], members[(n + 1) % len(members)])
        for account, pattern in itertools.product(pair, sorted(patterns)):
            for kind, principal in principals(settings, account.id).items():
                yield (
                    f"resource pattern {kind}",
                    request(action, account, settings.allowed_regions[0], principal, _instance(pattern, account.id)),
                )
    # 4. Service condition keys: absent, each value the SCPs test, and another value.
    for action, keys in sorted(condition_values.items()):
        for account in members:
            ordinary = principals(settings, account.id)["ordinary"]
            yield "condition key absent", request(action, account, settings.allowed_regions[0], ordinary)
            for key, values in sorted(keys.items()):
                for value in [*sorted(values), "some-other-value"]:
                    yield (
                        "condition key value",
                        request(action, account, settings.allowed_regions[0], ordinary, **{key: value}),
                    )


# ---------------------------------------------------------------------------------------------------------
# The comparison


def _is_service_linked(principal: str) -> bool:
    return ":role/aws-service-role/" in principal


def _principal_account(principal: str, fallback: str) -> str:
    parts = principal.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else fallback


def principal_arn_key(principal: str) -> str:
    """The value of ``aws:PrincipalArn`` for a principal: for a role session
    (``arn:aws:sts::<account>:assumed-role/<role>/<session>``) the role's ARN, not the session's
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
    A session ARN does not carry the role's path; the harness assumes none."""
    session = re.fullmatch(r"arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/[^/]+", principal)
    if session:
        partition, account_id, role = session.groups()
        return f"arn:{partition}:iam::{account_id}:role/{role}"
    return principal


def oracle_request(request_id: str, request: Request, by_name: Mapping[str, Account]) -> iam_reference.OracleRequest:
    account = by_name[request.account]
    principal = request.principal_arn or f"arn:aws:iam::{account.id}:role/unnamed"
    context = {"aws:RequestedRegion": request.region, "aws:PrincipalAccount": account.id}
    if request.principal_arn:
        context["aws:PrincipalArn"] = principal_arn_key(request.principal_arn)
    context.update(request.context)
    exempt_from_scps = not account.levels or _is_service_linked(principal)
    return iam_reference.OracleRequest(
        id=request_id,
        action=request.action,
        principal=principal,
        resource=request.resource,
        resource_account=_principal_account(principal, account.id),
        context=context,
        policy_set="exempt" if exempt_from_scps else account.name,
    )


def project_verdict(model: OrganizationModel, request: Request) -> tuple[str, tuple[tuple[str, str, str], ...], str]:
    try:
        decision = simulator.evaluate(model, request)
    except Exception as error:  # a refusal is a disagreement to read, not a crash of the whole comparison
        return f"refused ({type(error).__name__})", (), str(error)
    if decision.allowed:
        return "Allowed", (), decision.reason
    if decision.denied_by:
        return "ExplicitlyDenied", tuple((m.target, m.policy, m.sid) for m in decision.denied_by), decision.reason
    return "ImplicitlyDenied", (), decision.reason


@pytest.fixture(scope="module")
def comparison(settings: StackSettings) -> dict[str, Any]:
    accounts = accounts_of(settings)
    by_name = {a.name: a for a in accounts} | {a.id: a for a in accounts}
    model = OrganizationModel.from_settings(settings)
    labelled: list[tuple[str, str, Request]] = [(f"probe {p.name}", "probe", p.request) for p in PROBES]
    labelled += [(f"g{n}", group, r) for n, (group, r) in enumerate(generated_requests(settings, accounts))]
    answers = iam_reference.run_oracle(
        policy_sets(settings, accounts), [oracle_request(rid, r, by_name) for rid, _, r in labelled]
    )
    rows = []
    for rid, group, request in labelled:
        oracle = answers[rid]
        verdict, denied_by, reason = project_verdict(model, request)
        agree = verdict == oracle.decision and sorted(denied_by) == sorted(oracle.denied_by)
        rows.append(
            {
                "id": rid,
                "group": group,
                "request": request,
                "oracle": oracle,
                "project": (verdict, denied_by, reason),
                "agree": agree,
            }
        )
    return {"rows": rows, "groups": Counter(group for _, group, _ in labelled)}


def _describe(row: Mapping[str, Any]) -> str:
    request: Request = row["request"]
    verdict, denied_by, reason = row["project"]
    oracle: iam_reference.OracleDecision = row["oracle"]
    context = ", ".join(f"{k}={v}" for k, v in request.context.items()) or "-"
    lines = [
        f"{row['id']}: {request.action} in {request.account} ({request.region}) by {request.principal_arn} on {request.resource}; context {context}",
        f"    project: {verdict} {list(denied_by) or ''} ({reason})",
        f"    oracle:  {oracle.decision} {list(oracle.denied_by) or ''}"
        + (f" ignored context keys {list(oracle.ignored_context_keys)}" if oracle.ignored_context_keys else "")
        + (f" error {oracle.error[:300]}" if oracle.error else ""),
    ]
    return "\n".join(lines)


def test_the_request_set_covers_what_the_issue_asks(comparison: dict[str, Any], settings: StackSettings) -> None:
    rows = comparison["rows"]
    requests: list[Request] = [r["request"] for r in rows]
    accounts = {a.name for a in accounts_of(settings)}
    assert {r.account for r in requests} >= accounts
    assert "sandbox" in accounts
    assert {r.region for r in requests} >= set(REGIONS)
    actions = {r.action for r in requests}
    assert len(actions) >= 300, len(actions)
    assert len({a.split(":")[0] for a in actions}) >= 40
    for global_action in (
        "iam:CreateRole",
        "organizations:DescribeOrganization",
        "sts:AssumeRole",
        "route53:ListHostedZones",
    ):
        assert any(a.lower() == global_action.lower() for a in actions) or any(
            a.split(":")[0] == global_action.split(":")[0] for a in actions
        ), global_action
    kinds = {r.principal_arn.split(":", 5)[5] for r in requests}
    assert any(k.startswith("role/aws-service-role/") for k in kinds)
    assert any(k == f"role/{name}" for name in settings.organization.guardrail_exempt_roles for k in kinds)  # type: ignore[union-attr]
    assert any(r.context for r in requests)
    # Both evaluators must have something to disagree about: every decision kind occurs.
    assert {r["oracle"].decision for r in rows} >= {"Allowed", "ExplicitlyDenied"}
    assert not [r for r in rows if r["oracle"].decision == "Error"], "\n".join(
        _describe(r) for r in rows if r["oracle"].decision == "Error"
    )


def test_the_simulator_agrees_with_iam_simulate(comparison: dict[str, Any]) -> None:
    rows = comparison["rows"]
    unexplained = []
    used = [0] * len(KNOWN_DISAGREEMENTS)
    for row in rows:
        if row["agree"]:
            continue
        known = [i for i, k in enumerate(KNOWN_DISAGREEMENTS) if k.matches(row["request"], row["oracle"].decision)]
        for i in known:
            used[i] += 1
        if not known:
            unexplained.append(row)
    stale = [k.reason for k, n in zip(KNOWN_DISAGREEMENTS, used, strict=True) if n == 0]
    assert not stale, f"listed disagreements that no longer occur: {stale}"
    summary = Counter((r["group"], r["project"][0], r["oracle"].decision) for r in unexplained)
    assert not unexplained, (
        f"{len(unexplained)} of {len(rows)} requests decided differently by docustack.simulator and iam-simulate "
        f"(by group, project, oracle: {dict(summary)}):\n" + "\n".join(_describe(r) for r in unexplained[:40])
    )
