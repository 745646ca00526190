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

The request context (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
``aws:RequestedRegion``, ``aws:PrincipalArn`` and ``aws:PrincipalAccount`` are derived from the request, and a
context value that contradicts them is refused. For a role session (``arn:aws:sts::…:assumed-role/Role/s``)
``aws:PrincipalArn`` is the role's ARN, path included, so a session ARN is evaluated only with the role's path.
Any other global ``aws:`` key the decision depends on must be given (or declared absent): most are in every
request (``aws:PrincipalOrgID`` for a member-account principal, say), so leaving them out would be a guess. A
service-specific key that is not given (``s3:x-amz-server-side-encryption``) is taken as absent, as when a
client does not send that header; the decision lists every key it took as absent.

Not supported, and refused rather than guessed: ``...IfExists``, ``ForAnyValue:``/``ForAllValues:``, numeric,
date, IP and binary operators, policy variables (``${...}``) and multivalued context keys (raised as
:class:`UnsupportedPolicy`, naming the policy, statement and construct); malformed or contradictory requests
and decisions that depend on something the request does not say (:class:`InvalidRequest`). Only a statement
whose action matches the request is examined, so a construct the simulator does not evaluate stops only the
requests it could decide. Identity and resource policies, permission boundaries and session policies are out
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
from docustack.settings import REGION, ROOT_TARGET, StackSettings, iter_ous

FULL_AWS_ACCESS_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
SERVICE_LINKED_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/aws-service-role/")
NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
SUPPORTED_OPERATORS = {"Null", "Bool", "StringEquals", "StringLike", "ArnEquals", "ArnLike", *NEGATED}

# ARNs (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html): arn:partition:service:region:
# account:resource, the account 12 digits, empty (S3 buckets) or "aws" (AWS managed policies).
ARN = re.compile(r"^arn:aws(-[a-z]+)*:[a-z0-9-]+:([a-z]{2}(-[a-z]+)+-\d+)?:(\d{12}|aws)?:[\x21-\x7e][\x20-\x7e]*$")
# Action names are case-insensitive (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
ACTION = re.compile(r"^[a-z0-9-]+:[a-z0-9]+$", re.IGNORECASE)
# The principals aws:PrincipalArn can hold (IAM global condition keys page, aws:PrincipalArn): IAM role, IAM
# user, AWS STS federated user and account root user. Names and paths as IAM allows them
# (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html: path "/" or "/.../" of \u0021-\u007E,
# name [\w+=,.@-]{1,64}; https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html: session
# name [\w+=,.@-]{2,64}; API_GetFederationToken.html: federated user name [\w+=,.@-]{2,32}).
_NAME = r"[\w+=,.@-]"
PRINCIPAL = re.compile(
    rf"^arn:aws(-[a-z]+)*:(iam::\d{{12}}:((role|user)/([\x21-\x7e]*/)?{_NAME}{{1,64}}|root)"
    rf"|sts::\d{{12}}:federated-user/{_NAME}{{2,32}})$"
)
ROLE_SESSION = re.compile(
    rf"^arn:(?P<partition>aws(-[a-z]+)*):sts::(?P<account>\d{{12}}):assumed-role/(?P<role>{_NAME}{{1,64}})"
    rf"/{_NAME}{{2,64}}$"
)
ROLE_PATH = re.compile(r"^/([\x21-\x7e]{0,510}/)?$")

# Keys derived from the request itself; a context value for one of them must agree with it.
DERIVED_KEYS = {
    "aws:requestedregion": "--region",
    "aws:principalarn": "--principal",
    "aws:principalaccount": "--account/--principal",
}
# Multivalued global keys ("Value type: Multivalued" on the IAM global condition keys page; the page says they
# take the ForAnyValue/ForAllValues set operators). The simulator evaluates single-valued keys only, so a
# condition on one of these is refused. Service-specific multivalued keys are not listed here (UNVERIFIED which
# ones a policy of this project could meet); a --context value is always a single string.
MULTIVALUED_KEYS = {
    "aws:calledvia",
    "aws:principalorgpaths",
    "aws:principalservicenameslist",
    "aws:resourceorgpaths",
    "aws:tagkeys",
}


class UnsupportedPolicy(ValueError):
    """The policy uses a part of the language the simulator does not evaluate."""


class InvalidRequest(ValueError):
    """The request is malformed, contradicts itself, or leaves out something the decision depends on."""


class UnknownAccount(LookupError):
    """The request names an account the organization does not have."""


@dataclass(frozen=True)
class Request:
    action: str
    account: str  # account name from the settings, or its ID
    region: str
    principal_arn: str = ""  # IAM role, user, root, federated user, or a role session with role_path
    # "*" is the resource of an action that takes none, compared literally; None: not given, so a statement that
    # names resources and would otherwise apply cannot be decided.
    resource: str | None = "*"
    context: Mapping[str, str] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()  # keys the request does not carry (aws:PrincipalTag/x for an untagged role)
    role_path: str | None = None  # the role's path, needed when principal_arn is a role session ARN


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
    absent_keys: tuple[str, ...] = ()  # condition keys the decision consulted and found absent from the request

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


def principal_arn_in_context(principal_arn: str, role_path: str | None = None) -> str:
    """The value of ``aws:PrincipalArn`` for a request made by ``principal_arn``.

    For a role session AWS puts the role's ARN in the request context, not the session's ("Do not specify the
    assumed role session ARN as a value for this condition key",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
    The role's ARN carries the role's path (arn:aws:iam::111122223333:role/path/Role), which the session ARN
    does not, so a session ARN needs ``role_path`` ("/" for a role without one). Raises :class:`InvalidRequest`.
    """
    session = ROLE_SESSION.match(principal_arn)
    if session:
        if role_path is None:
            raise InvalidRequest(
                f"principal {principal_arn!r} is a role session; aws:PrincipalArn is the role's ARN, which includes "
                "the role's path, and a session ARN does not show it: give the role's path (--role-path, '/' when "
                "it has none; `aws iam get-role --role-name "
                f"{session['role']} --query Role.Path`) or the role's ARN as the principal"
            )
        if not ROLE_PATH.match(role_path):
            raise InvalidRequest(f"role path {role_path!r} must be '/' or begin and end with '/' (e.g. /ops/)")
        return f"arn:{session['partition']}:iam::{session['account']}:role{role_path}{session['role']}"
    if role_path is not None:
        raise InvalidRequest(f"a role path is given, but principal {principal_arn!r} is not a role session ARN")
    if not PRINCIPAL.match(principal_arn):
        raise InvalidRequest(
            f"principal {principal_arn!r} is not an IAM role, user, root or federated user ARN, nor a role "
            "session ARN (arn:aws:sts::<account>:assumed-role/<role>/<session>)"
        )
    return principal_arn


def known_account_id(account: AccountNode) -> str | None:
    """The account's ID, or ``None`` while the settings have none or a ``<placeholder>``."""
    return account.id if account.id and account.id.isdigit() else None


def evaluate(model: OrganizationModel, request: Request) -> Decision:
    """The SCP decision for ``request``: allowed, or denied with the statements that deny it.

    Raises :class:`InvalidRequest` for a malformed or contradictory request or one that leaves out what the
    decision depends on, :class:`UnsupportedPolicy` when a statement that could decide it uses a construct the
    simulator does not evaluate, and :class:`UnknownAccount`.
    """
    principal_arn = _check_request(request)
    if request.account in ("management", model.management_account_id):
        return Decision(True, "the management account is not restricted by SCPs")
    account = model.find_account(request.account)
    if account is None:
        return Decision(True, "the management account is not restricted by SCPs")
    principal_account = principal_arn.split(":")[4] if principal_arn else None
    account_id = known_account_id(account)
    if SERVICE_LINKED_ROLE.match(principal_arn):
        return Decision(True, "service-linked roles are not restricted by SCPs")

    derived = {"aws:requestedregion": request.region}
    if principal_arn:
        derived["aws:principalarn"] = principal_arn
    if principal_account or account_id:
        derived["aws:principalaccount"] = principal_account or account_id or ""
    context = _RequestContext.build(request, derived)

    levels = model.levels(account)
    denials: list[StatementMatch] = []
    unallowed: list[str] = []
    for level in levels:
        attached = [AttachedPolicy("FullAWSAccess", FULL_AWS_ACCESS_DOCUMENT), *model.attachments.get(level, [])]
        allowed_here = False
        for policy in attached:
            for index, statement in enumerate(_statements(policy.document)):
                where = _where(policy.name, statement, index)
                if not _applies(statement, request, context, where):
                    continue
                if statement["Effect"] == "Deny":
                    denials.append(StatementMatch(policy.name, level, statement.get("Sid", "")))
                else:
                    allowed_here = True
        if not allowed_here:
            unallowed.append(level)
    absent = tuple(sorted(context.absent_consulted))
    if denials:
        named = "; ".join(f"{d.policy} ({d.sid}) attached to {d.target}" for d in denials)
        return Decision(False, f"explicitly denied by {named}", tuple(denials), tuple(levels), absent)
    if unallowed:
        return Decision(False, f"no SCP attached to {', '.join(unallowed)} allows it", (), tuple(levels), absent)
    return Decision(True, "no SCP denies it and every level allows it", (), tuple(levels), absent)


def _check_request(request: Request) -> str:
    """Refuse a malformed request; the principal's ``aws:PrincipalArn`` value (empty when none is given)."""
    if not ACTION.match(request.action):
        raise InvalidRequest(f"action {request.action!r} must be service:Action without wildcards, e.g. s3:PutObject")
    if not REGION.match(request.region):
        raise InvalidRequest(f"region {request.region!r} is not an AWS region name such as us-east-1")
    if request.resource not in (None, "*") and not ARN.match(request.resource):
        raise InvalidRequest(
            f"resource {request.resource!r} is not an ARN (arn:partition:service:region:account:resource) or '*'"
        )
    if request.resource not in (None, "*"):
        service = request.resource.split(":")[2]
        # A request names one resource. Wildcards belong to policies: matched literally here, "role/*" would pass
        # every statement that names a role and come out allowed. IAM and KMS names cannot hold * or ?
        # (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html,
        # https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html); elsewhere they may (S3 keys,
        # and some ARNs themselves, such as Artifact's agreement/*), so there they are taken literally.
        if service in ("iam", "kms", "sts") and ("*" in request.resource or "?" in request.resource):
            raise InvalidRequest(
                f"resource {request.resource!r} has a wildcard: name the one resource the request is for"
            )
        if request.principal_arn and request.principal_arn.split(":")[1] != request.resource.split(":")[1]:
            raise InvalidRequest(
                f"principal {request.principal_arn!r} and resource {request.resource!r} are in different partitions"
            )
    if not request.principal_arn:
        if request.role_path is not None:
            raise InvalidRequest("a role path is given without a principal")
        return ""
    return principal_arn_in_context(request.principal_arn, request.role_path)


@dataclass
class _RequestContext:
    """The request context as the condition operators see it, and what the decision learned was absent."""

    values: dict[str, str]
    absent: set[str]
    strict_global_keys: bool
    absent_consulted: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, request: Request, derived: Mapping[str, str]) -> _RequestContext:
        values = dict(derived)
        given: dict[str, str] = {}
        for key, value in request.context.items():
            lower = key.lower()
            if not isinstance(value, str):
                raise InvalidRequest(f"context key {key!r}: the simulator takes one string value per key")
            if value == "":
                raise InvalidRequest(f"context key {key!r} has an empty value; give a value or declare it absent")
            if lower in given and given[lower] != value:
                raise InvalidRequest(f"context key {key!r} is given twice with different values (keys ignore case)")
            given[lower] = value
            if lower in derived and derived[lower] != value:
                raise InvalidRequest(
                    f"context key {key!r}={value!r} contradicts {DERIVED_KEYS[lower]} ({derived[lower]!r}); "
                    "drop it or change the flag"
                )
            if lower in DERIVED_KEYS and lower not in derived:
                raise InvalidRequest(f"context key {key!r} is derived from {DERIVED_KEYS[lower]}: give that instead")
            values[lower] = value
        absent = {key.lower() for key in request.absent}
        for key in sorted(absent):
            if key in DERIVED_KEYS:
                raise InvalidRequest(f"context key {key!r} is in every signed request; it cannot be absent")
            if key in values:
                raise InvalidRequest(f"context key {key!r} is declared absent but has a value")
        return cls(values, absent, strict_global_keys=True)

    def lookup(self, key: str, where: str) -> str | None:
        lower = key.lower()
        if lower in self.values:
            return self.values[lower]
        if lower in self.absent or not self.strict_global_keys:
            self.absent_consulted.add(key)
            return None
        if lower in DERIVED_KEYS:
            raise InvalidRequest(f"{where} depends on {key}, which needs {DERIVED_KEYS[lower]}")
        if lower.startswith("aws:"):
            raise InvalidRequest(
                f"{where} depends on {key}, which the request does not give; AWS includes most global keys in "
                f"every request, so it is not taken as absent: pass --context {key}=VALUE, or --absent {key} "
                "if the request would not carry it"
            )
        # A service-specific key (a request header or parameter) the request does not give: not sent.
        self.absent_consulted.add(key)
        return None


def web_identity_may_assume(trust_policy: Mapping[str, Any], provider_arn: str, claims: Mapping[str, str]) -> bool:
    """Would a web identity token from ``provider_arn`` with these claims pass the role's trust policy?

    ``claims`` are the condition keys the token supplies, e.g. ``{"token.actions.githubusercontent.com:sub":
    "repo:o/r:pull_request"}``. The same condition logic as for SCPs (the same operators, missing keys and
    refusals); an allowing statement must name the provider as its ``Federated`` principal and allow
    ``sts:AssumeRoleWithWebIdentity``, and no statement may deny it.
    """
    context = _RequestContext({key.lower(): value for key, value in claims.items()}, set(), strict_global_keys=False)
    allowed = False
    for index, statement in enumerate(_statements(trust_policy)):
        principals = statement.get("Principal", {})
        federated = _as_list(principals.get("Federated", [])) if isinstance(principals, Mapping) else [principals]
        if provider_arn not in federated and "*" not in federated:
            continue
        if not any(_action_matches(p, "sts:AssumeRoleWithWebIdentity") for p in _as_list(statement["Action"])):
            continue
        where = _where("trust policy", statement, index)
        _check_statement(statement, where)
        if not _conditions_hold(statement, context, where):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def check_supported(document: Mapping[str, Any], policy: str = "policy") -> None:
    """Raise :class:`UnsupportedPolicy` if ``document`` uses anything the simulator cannot evaluate exactly."""
    for index, statement in enumerate(_statements(document)):
        _check_statement(statement, _where(policy, statement, index))


def _where(policy: str, statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f"policy {policy!r}, statement {sid!r}" if sid else f"policy {policy!r}, statement #{index + 1} (no Sid)"


def _check_statement(statement: Mapping[str, Any], where: str) -> None:
    """Refuse a statement that uses an operator, a policy variable or a multivalued key the simulator lacks."""
    # Policy variables (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html) are
    # substituted from the request context, with defaults and special characters; not implemented, so refused.
    for element in ("Resource", "NotResource"):
        for value in _as_list(statement.get(element, [])):
            if "${" in str(value):
                raise UnsupportedPolicy(f"{where}: policy variable in {element} {value!r} is not evaluated")
    condition = statement.get("Condition", {})
    if not isinstance(condition, Mapping):
        raise UnsupportedPolicy(f"{where}: Condition must be a map of operators")
    for operator, block in condition.items():
        if operator not in SUPPORTED_OPERATORS:
            raise UnsupportedPolicy(f"{where}: condition operator {operator!r} is not evaluated by the simulator")
        if not isinstance(block, Mapping):
            raise UnsupportedPolicy(f"{where}: {operator} must map condition keys to values")
        for key, values in block.items():
            if "${" in key:
                raise UnsupportedPolicy(f"{where}: policy variable in condition key {key!r} is not evaluated")
            if key.lower() in MULTIVALUED_KEYS:
                raise UnsupportedPolicy(f"{where}: {operator} on the multivalued key {key!r} is not evaluated")
            for value in _as_list(values):
                if isinstance(value, Mapping | list):
                    raise UnsupportedPolicy(f"{where}: {operator} {key}: nested value {value!r}")
                text = _policy_value(value)
                if "${" in text:
                    raise UnsupportedPolicy(f"{where}: policy variable in {operator} {key} {text!r} is not evaluated")
                if operator in ("Null", "Bool") and text not in ("true", "false"):
                    raise UnsupportedPolicy(f"{where}: {operator} {key} takes true or false, not {text!r}")


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _applies(statement: Mapping[str, Any], request: Request, context: _RequestContext, where: str) -> bool:
    if "Action" in statement:
        if not any(_action_matches(p, request.action) for p in _as_list(statement["Action"])):
            return False
    elif any(_action_matches(p, request.action) for p in _as_list(statement["NotAction"])):
        return False
    _check_statement(statement, where)
    if request.resource is None:
        names_resources = "NotResource" in statement or any(p != "*" for p in _as_list(statement.get("Resource", "*")))
        if names_resources:
            if not _conditions_hold(statement, context, where):
                return False  # it does not apply whatever the resource is
            raise InvalidRequest(f"{where} applies to some resources only: the decision needs the resource ARN")
        return _conditions_hold(statement, context, where)
    if "Resource" in statement:
        if not any(_wildcard(p, case_sensitive=True).match(request.resource) for p in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(
        _wildcard(p, case_sensitive=True).match(request.resource) for p in _as_list(statement["NotResource"])
    ):
        return False
    return _conditions_hold(statement, context, where)


def _conditions_hold(statement: Mapping[str, Any], context: _RequestContext, where: str) -> bool:
    # Operators and keys in one Condition are ANDed, the values of one key ORed; key names ignore case, string
    # values keep it (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html,
    # "Condition key names are not case-sensitive"; StringEquals is "Exact matching, case sensitive").
    return all(
        _condition_holds(operator, key, expected, context, where)
        for operator, block in statement.get("Condition", {}).items()
        for key, expected in block.items()
    )


def _condition_holds(operator: str, key: str, expected: Any, context: _RequestContext, where: str) -> bool:
    if operator not in SUPPORTED_OPERATORS:
        raise UnsupportedPolicy(f"{where}: condition operator {operator!r} is not evaluated by the simulator")
    expected_values = [_policy_value(v) for v in _as_list(expected)]
    actual = context.lookup(key, where)
    if operator == "Null":
        # Null: "true" holds when the key is absent, "false" when it is present.
        return any((actual is None) == (v == "true") for v in expected_values)
    if actual is None:
        # "If the key that you specify in a policy condition is not present in the request context, the values do
        # not match and the condition is false. If the policy condition requires that the key is not matched,
        # such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true."
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
        return operator in NEGATED
    if operator == "Bool":
        if actual not in ("true", "false"):
            raise InvalidRequest(f"{where} tests {key} with Bool: its value must be true or false, not {actual!r}")
        return actual in expected_values
    base = operator.replace("Not", "")
    if base == "StringEquals":
        matched = actual in expected_values
    elif base == "StringLike":
        matched = any(_wildcard(v, case_sensitive=True).match(actual) for v in expected_values)
    else:
        if not ARN.match(actual):
            raise InvalidRequest(f"{where} compares {key} as an ARN, but {actual!r} is not one")
        # "ArnEquals, ArnLike: Case-sensitive matching of the ARN. Each of the six colon-delimited components of
        # the ARN is checked separately and each can include a multi-character match wildcard (*) or a
        # single-character match wildcard (?). These behave identically." (condition operators page, above)
        matched = any(_arn_matches(v, actual) for v in expected_values)
    return not matched if operator in NEGATED else matched


def _policy_value(value: Any) -> str:
    """A condition value as IAM reads it: JSON true/false are the strings "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _arn_matches(pattern: str, arn: str) -> bool:
    """ARN operators compare the six colon-separated parts one by one (arn:partition:service:region:account:resource)."""
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    return all(_wildcard(p, case_sensitive=True).match(a) for p, a in zip(pattern_parts, arn_parts, strict=True))


def _action_matches(pattern: str, action: str) -> bool:
    return bool(_wildcard(pattern, case_sensitive=False).match(action))


@cache
def _wildcard(pattern: str, *, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.DOTALL if case_sensitive else re.IGNORECASE | re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]
