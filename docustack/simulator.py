"""SCP simulator: would this request be denied by the service control policies in effect, and by what?

Why hand-written: no maintained, licensed Python library evaluates SCP decisions with conditions (moto's IAM
evaluator gets conditions wrong and knows nothing of the organization tree), so this module implements the
small part of the IAM policy language the project's SCPs use, exactly, and refuses anything else.

How an SCP decision is made (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html):
at every level from the root through each OU down to the account, at least one attached SCP must allow the
action, and no attached SCP may deny it. ``FullAWSAccess`` is modelled as attached at every level, as
Organizations does by default and as this program leaves it. The management account and service-linked roles
are never restricted by SCPs; AWS service principals (CloudTrail writing logs, say) are not IAM principals of
the account and are not restricted either.

Supported: ``Action``/``NotAction`` (case-insensitive, ``*`` and ``?`` wildcards); ``Resource``/
``NotResource`` (case-sensitive wildcards); the condition operators ``Null``, ``Bool``, ``StringEquals``,
``StringNotEquals``, ``StringLike``, ``StringNotLike``, ``ArnEquals``, ``ArnNotEquals``, ``ArnLike``,
``ArnNotLike``, each with a single value or a list (any value matches). Condition keys are matched
case-insensitively, values case-sensitively. A key missing from the request makes a positive operator false and
a negated one true (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
``aws:RequestedRegion``, ``aws:PrincipalARN`` and ``aws:PrincipalAccount`` are filled in from the request.

Not supported, and refused with :class:`UnsupportedPolicy` rather than guessed: ``...IfExists``,
``ForAnyValue:``/``ForAllValues:``, numeric, date, IP and binary operators, policy variables (``${...}``) and
multi-valued context keys. Identity and resource policies, permission boundaries and session policies are out
of scope: "allowed" means "not blocked by an SCP", not "permitted".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import policies
from docustack.settings import ROOT_TARGET, StackSettings, iter_ous

FULL_AWS_ACCESS_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
SERVICE_LINKED_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/aws-service-role/")
NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
SUPPORTED_OPERATORS = {"Null", "Bool", "StringEquals", "StringLike", "ArnEquals", "ArnLike", *NEGATED}


class UnsupportedPolicy(ValueError):
    """The policy uses a part of the language the simulator does not evaluate."""


class UnknownAccount(LookupError):
    """The request names an account the organization does not have."""


@dataclass(frozen=True)
class Request:
    action: str
    account: str  # account name from the settings, or its ID
    region: str
    principal_arn: str = ""
    resource: str = "*"
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementMatch:
    policy: str
    target: str
    sid: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    denied_by: tuple[StatementMatch, ...] = ()
    levels: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return "allowed" if self.allowed else "denied"


@dataclass(frozen=True)
class AttachedPolicy:
    name: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class AccountNode:
    name: str
    id: str | None
    ou: str


@dataclass
class OrganizationModel:
    """The organization as the SCPs see it: the tree, and the rendered policies attached at each node."""

    management_account_id: str
    ou_parents: dict[str, str | None]
    accounts: dict[str, AccountNode]
    attachments: dict[str, list[AttachedPolicy]]

    @classmethod
    def from_settings(cls, settings: StackSettings, *, policy_dir: Path | None = None) -> OrganizationModel:
        organization = settings.organization
        if organization is None:
            raise ValueError("only the management stack's settings describe the organization")
        variables = settings.policy_variables()
        attachments: dict[str, list[AttachedPolicy]] = {}
        for scp in organization.service_control_policies:
            document = policies.render(policies.load(scp.file, policy_dir=policy_dir), variables)
            for target in scp.targets:
                attachments.setdefault(target, []).append(AttachedPolicy(scp.name, document))
        return cls(
            management_account_id=settings.account.id,
            ou_parents={node.path: node.parent_path for node in iter_ous(organization)},
            accounts={a.name: AccountNode(a.name, a.id, a.ou) for a in organization.accounts},
            attachments=attachments,
        )

    def find_account(self, name_or_id: str) -> AccountNode | None:
        """The member account by name or ID; ``None`` for the management account."""
        if name_or_id in ("management", self.management_account_id):
            return None
        if name_or_id in self.accounts:
            return self.accounts[name_or_id]
        for account in self.accounts.values():
            if account.id == name_or_id:
                return account
        known = ", ".join(sorted(self.accounts))
        raise UnknownAccount(f"no account {name_or_id!r} in the organization (known: {known})")

    def levels(self, account: AccountNode) -> list[str]:
        """Target labels from the root down to the account."""
        chain: list[str] = []
        path: str | None = account.ou
        while path is not None:
            chain.append(f"ou:{path}")
            path = self.ou_parents[path]
        return [ROOT_TARGET, *reversed(chain), f"account:{account.name}"]


def evaluate(model: OrganizationModel, request: Request) -> Decision:
    """The SCP decision for ``request``: allowed, or denied with the statements that deny it."""
    if request.account in ("management", model.management_account_id):
        return Decision(True, "the management account is not restricted by SCPs")
    account = model.find_account(request.account)
    if account is None:
        return Decision(True, "the management account is not restricted by SCPs")
    if SERVICE_LINKED_ROLE.match(request.principal_arn):
        return Decision(True, "service-linked roles are not restricted by SCPs")

    context = {key.lower(): value for key, value in request.context.items()}
    context.setdefault("aws:requestedregion", request.region)
    if request.principal_arn:
        context.setdefault("aws:principalarn", request.principal_arn)
    if account.id:
        context.setdefault("aws:principalaccount", account.id)

    levels = model.levels(account)
    denials: list[StatementMatch] = []
    unallowed: list[str] = []
    for level in levels:
        attached = [AttachedPolicy("FullAWSAccess", FULL_AWS_ACCESS_DOCUMENT), *model.attachments.get(level, [])]
        allowed_here = False
        for policy in attached:
            for statement in _statements(policy.document):
                if not _applies(statement, request, context):
                    continue
                if statement["Effect"] == "Deny":
                    denials.append(StatementMatch(policy.name, level, statement.get("Sid", "")))
                else:
                    allowed_here = True
        if not allowed_here:
            unallowed.append(level)
    if denials:
        named = "; ".join(f"{d.policy} ({d.sid}) attached to {d.target}" for d in denials)
        return Decision(False, f"explicitly denied by {named}", tuple(denials), tuple(levels))
    if unallowed:
        return Decision(False, f"no SCP attached to {', '.join(unallowed)} allows it", (), tuple(levels))
    return Decision(True, "no SCP denies it and every level allows it", (), tuple(levels))


def web_identity_may_assume(trust_policy: Mapping[str, Any], provider_arn: str, claims: Mapping[str, str]) -> bool:
    """Would a web identity token from ``provider_arn`` with these claims pass the role's trust policy?

    ``claims`` are the condition keys the token supplies, e.g. ``{"token.actions.githubusercontent.com:sub":
    "repo:o/r:pull_request"}``. The same condition logic as for SCPs (the same operators, missing keys and
    refusals); an allowing statement must name the provider as its ``Federated`` principal and allow
    ``sts:AssumeRoleWithWebIdentity``, and no statement may deny it.
    """
    context = {key.lower(): value for key, value in claims.items()}
    allowed = False
    for statement in _statements(trust_policy):
        principals = statement.get("Principal", {})
        federated = _as_list(principals.get("Federated", [])) if isinstance(principals, Mapping) else [principals]
        if provider_arn not in federated and "*" not in federated:
            continue
        if not any(_action_matches(p, "sts:AssumeRoleWithWebIdentity") for p in _as_list(statement["Action"])):
            continue
        if not _conditions_hold(statement, context):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def check_supported(document: Mapping[str, Any]) -> None:
    """Raise :class:`UnsupportedPolicy` if ``document`` uses anything the simulator cannot evaluate exactly."""
    for statement in _statements(document):
        for operator, block in statement.get("Condition", {}).items():
            if operator not in SUPPORTED_OPERATORS:
                raise UnsupportedPolicy(f"condition operator {operator!r} (Sid {statement.get('Sid')})")
            for values in block.values():
                for value in _as_list(values):
                    if "${" in str(value):
                        raise UnsupportedPolicy(f"policy variable in {value!r} (Sid {statement.get('Sid')})")
        for element in ("Resource", "NotResource"):
            for value in _as_list(statement.get(element, [])):
                if "${" in value:
                    raise UnsupportedPolicy(f"policy variable in {value!r} (Sid {statement.get('Sid')})")


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _applies(statement: Mapping[str, Any], request: Request, context: Mapping[str, Any]) -> bool:
    if "Action" in statement:
        if not any(_action_matches(p, request.action) for p in _as_list(statement["Action"])):
            return False
    elif any(_action_matches(p, request.action) for p in _as_list(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(_wildcard(p, case_sensitive=True).match(request.resource) for p in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(
        _wildcard(p, case_sensitive=True).match(request.resource) for p in _as_list(statement["NotResource"])
    ):
        return False
    return _conditions_hold(statement, context)


def _conditions_hold(statement: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, block in statement.get("Condition", {}).items()
        for key, expected in block.items()
    )


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    if operator not in SUPPORTED_OPERATORS:
        raise UnsupportedPolicy(f"condition operator {operator!r}")
    expected_values = [str(v) for v in _as_list(expected)]
    actual = context.get(key.lower())
    if isinstance(actual, list | tuple):
        raise UnsupportedPolicy(f"multi-valued context key {key!r}")
    if operator == "Null":
        wants_missing = any(v.lower() == "true" for v in expected_values)
        return (actual is None) == wants_missing
    if actual is None:
        return operator in NEGATED
    actual = str(actual)
    if operator == "Bool":
        return actual.lower() in {v.lower() for v in expected_values}
    base = operator.replace("Not", "")
    if base == "StringEquals":
        matched = actual in expected_values
    elif base == "StringLike":
        matched = any(_wildcard(v, case_sensitive=True).match(actual) for v in expected_values)
    elif base == "ArnEquals":
        matched = any(_arn_matches(v, actual, wildcards=False) for v in expected_values)
    else:
        matched = any(_arn_matches(v, actual, wildcards=True) for v in expected_values)
    return not matched if operator in NEGATED else matched


def _arn_matches(pattern: str, arn: str, *, wildcards: bool) -> bool:
    """ARN operators compare the six colon-separated parts one by one (arn:partition:service:region:account:resource)."""
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    if not wildcards:
        return pattern_parts == arn_parts
    return all(_wildcard(p, case_sensitive=True).match(a) for p, a in zip(pattern_parts, arn_parts, strict=True))


def _action_matches(pattern: str, action: str) -> bool:
    return bool(_wildcard(pattern, case_sensitive=False).match(action))


@cache
def _wildcard(pattern: str, *, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]
