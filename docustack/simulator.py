"""Organization-policy simulator: would this request be denied by the service control policies of the caller's
account or the resource control policies of the resource's account, and by what?

Why hand-written: no maintained, licensed Python library evaluates SCP and RCP decisions with conditions (moto's
IAM evaluator gets conditions wrong and knows nothing of the organization tree), so this module implements the
small part of the IAM policy language the project's policies use, exactly, and refuses anything else.

SCPs (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html): at
every level from the root through each OU down to the caller's account, at least one attached SCP must allow the
action, and no attached SCP may deny it. ``FullAWSAccess`` is modelled as attached at every level, as
Organizations does by default and as this program leaves it. SCPs bind the IAM users and roles of member accounts
only: never the management account's, never service-linked roles, never AWS service principals (CloudTrail
writing logs) nor callers from outside the organization. Whether an SCP binds a web identity
(``sts:AssumeRoleWithWebIdentity``, no IAM principal of any account makes it) is not stated there: the simulator
evaluates no SCP for it (UNVERIFIED), and says so in the decision.

RCPs (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html and
orgs_manage_policies_rcps.html): they bind the resources of member accounts, whoever the caller is, inside the
organization or not; ``RCPFullAWSAccess`` is attached at every level and cannot be detached, every other RCP only
denies, and any RCP from the root down to the resource's account can deny. They never bind the management
account's resources, apply only to the services RCPs support (:data:`policies.perimeter.RCP_SUPPORTED_SERVICES`),
do not restrict service-linked roles (UNVERIFIED beyond AWS's summary: the page's list of what RCPs do not restrict
could not be read in full here), nor ``kms:RetireGrant``, nor AWS managed KMS keys (a request does not say whether
a key is AWS managed: every key is taken as customer managed). The resource's account is ``resource_account``, or
the account in the resource's ARN, or, for a request on no resource (``*``), the caller's own ("If no resources
are specified in the Resource type column, then the RCPs in the calling principal account are applied", as AWS's
summary of the RCP page reads; UNVERIFIED against the page). When none of these says which account holds the
resource (an S3 ARN names no account), the decision is made for every account it could be in, and stands only if
they all agree; otherwise the request is refused and asks for ``--resource-account``.

Supported: ``Action``/``NotAction`` (case-insensitive, ``*`` and ``?`` wildcards); ``Resource``/``NotResource``
(case-sensitive wildcards); the condition operators ``Null``, ``Bool``, ``StringEquals``, ``StringNotEquals``,
``StringEqualsIgnoreCase``, ``StringLike``, ``StringNotLike``, ``ArnEquals``, ``ArnNotEquals``, ``ArnLike``,
``ArnNotLike``, each with a single value or a list (any value matches); and exactly the qualified forms the
perimeter's documents use: ``StringNotEqualsIfExists``, ``StringNotLikeIfExists``, ``BoolIfExists`` (a key absent
from the request makes the condition true, otherwise the base operator decides) and ``ForAnyValue:StringLike`` on a
multivalued key (true when any value in the request matches; false when the key is absent or has no values).
Condition keys are matched case-insensitively, values case-sensitively (except by ``...IgnoreCase``). A key missing
from the request makes a positive operator false and a negated one true
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

The request context (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
``aws:RequestedRegion``, ``aws:PrincipalArn`` and ``aws:PrincipalAccount`` are derived from the request; so,
from the organization, are ``aws:PrincipalOrgID``/``aws:PrincipalOrgPaths`` (a principal of the organization),
``aws:ResourceAccount``/``aws:ResourceOrgID``/``aws:ResourceOrgPaths`` (the resource's account),
``aws:PrincipalIsAWSService``/``aws:PrincipalServiceName`` (a service principal such as
``cloudtrail.amazonaws.com``) and ``aws:SourceOrgID`` (from a given ``aws:SourceAccount`` of the organization).
A context value that contradicts a derived one is refused. The ``aws:Source*`` keys are absent from a request an
IAM principal or a web identity makes ("included in the request context only when a call to your resource is being
made directly by an AWS service principal"), and the principal keys from a service principal's. For a role session
(``arn:aws:sts::…:assumed-role/Role/s``) ``aws:PrincipalArn`` is the role's ARN, path included, so a session ARN
is evaluated only with the role's path. A web identity is given as its OIDC provider's ARN
(``arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com``); its claims
(``token.actions.githubusercontent.com:sub``) must be given when a statement consults them. Any other global
``aws:`` key the decision depends on must be given (or declared absent): most are in every request, so leaving
them out would be a guess. A service-specific key that is not given (``s3:x-amz-server-side-encryption``) is taken
as absent, as when a client does not send that header; the decision lists every key it took as absent.

Not supported, and refused rather than guessed: the other ``...IfExists`` and ``ForAnyValue:``/``ForAllValues:``
forms, numeric, date, IP and binary operators, policy variables (``${...}``) and single-valued operators on
multivalued keys (raised as :class:`UnsupportedPolicy`, naming the policy, statement and construct); malformed or
contradictory requests and decisions that depend on something the request does not say (:class:`InvalidRequest`).
Only a statement whose action matches the request is examined, so a construct the simulator does not evaluate
stops only the requests it could decide. Identity and resource policies, permission boundaries and session
policies are out of scope: "allowed" means "not blocked by an SCP or RCP", not "permitted".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import policies
from docustack.settings import REGION, ROOT_TARGET, StackSettings, iter_ous
from policies import perimeter

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
FULL_AWS_ACCESS_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# The AWS managed RCP attached to the root, every OU and every account once RCPs are enabled; it cannot be
# detached (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html).
RCP_FULL_AWS_ACCESS_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "RCPFullAWSAccess", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
SERVICE_LINKED_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/aws-service-role/")
NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
BASE_OPERATORS = {"Null", "Bool", "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"}
BASE_OPERATORS |= NEGATED
# The qualified operators the perimeter's documents use, and only those (condition operators page: "...IfExists",
# "Multivalued context keys"); any other qualified form is refused.
IF_EXISTS_OPERATORS = {"StringNotEqualsIfExists", "StringNotLikeIfExists", "BoolIfExists"}
SET_OPERATORS = {"ForAnyValue:StringLike"}
SUPPORTED_OPERATORS = BASE_OPERATORS | IF_EXISTS_OPERATORS | SET_OPERATORS

# ARNs (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html): arn:partition:service:region:
# account:resource, the account 12 digits, empty (S3 buckets) or "aws" (AWS managed policies).
ARN = re.compile(r"^arn:aws(-[a-z]+)*:[a-z0-9-]+:([a-z]{2}(-[a-z]+)+-\d+)?:(\d{12}|aws)?:[\x21-\x7e][\x20-\x7e]*$")
# Action names are case-insensitive (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
ACTION = re.compile(r"^[a-z0-9-]+:[a-z0-9]+$", re.IGNORECASE)
ACCOUNT_ID = re.compile(r"^\d{12}$")
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
# An AWS service principal as a Principal element names it (https://docs.aws.amazon.com/IAM/latest/UserGuide/
# reference_policies_elements_principal.html#principal-services): cloudtrail.amazonaws.com, delivery.logs.amazonaws.com.
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$")
# A web identity, named by its IAM OIDC identity provider, as a trust policy's Federated principal does.
WEB_IDENTITY = re.compile(
    r"^arn:aws(-[a-z]+)*:iam::(?P<account>\d{12}):oidc-provider/(?P<host>[a-z0-9.-]+\.[a-z]{2,})(/[\x21-\x7e]+)?$"
)

# Keys always derived from the request itself; a context value for one of them must agree with it.
DERIVED_KEYS = {
    "aws:requestedregion": "--region",
    "aws:principalarn": "--principal",
    "aws:principalaccount": "--account/--principal",
}
# Keys derived when the request and the organization say what they are; otherwise they may be given.
KNOWN_KEYS = {
    "aws:principalorgid": "the organization of --principal",
    "aws:principalorgpaths": "the OU path of --principal's account",
    "aws:principalisawsservice": "--principal",
    "aws:principalservicename": "--principal",
    "aws:resourceaccount": "--resource-account/--resource",
    "aws:resourceorgid": "the organization of the resource's account",
    "aws:resourceorgpaths": "the OU path of the resource's account",
    "aws:sourceorgid": "aws:SourceAccount and the organization",
    "aws:sourceaccount": "--principal (only a service principal's request carries it)",
    "aws:sourcearn": "--principal (only a service principal's request carries it)",
    "aws:sourceorgpaths": "--principal (only a service principal's request carries it)",
}
REQUEST_TAG_KEYS = ("aws:requesttag/", "aws:tagkeys")
SOURCE_KEYS = ("aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths")
PRINCIPAL_KEYS = ("aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths")
# Multivalued global keys ("Value type: Multivalued" on the IAM global condition keys page; the page says they
# take the ForAnyValue/ForAllValues set operators). Single-valued operators on them are refused. Service-specific
# multivalued keys are not listed here (UNVERIFIED which ones a policy of this project could meet); a --context
# value for one of these is one value.
MULTIVALUED_KEYS = {
    "aws:calledvia",
    "aws:principalorgpaths",
    "aws:principalservicenameslist",
    "aws:resourceorgpaths",
    "aws:sourceorgpaths",
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
    # The caller's account, by name from the settings or by ID (an ID the organization does not have is an account
    # outside it). For a service principal or a web identity, the account whose resource is called.
    account: str
    region: str
    # IAM role, user, root, federated user, or a role session with role_path; an AWS service principal
    # (cloudtrail.amazonaws.com); or a web identity by its OIDC provider's ARN.
    principal_arn: str = ""
    # "*" is the resource of an action that takes none, compared literally; None: not given, so a statement that
    # names resources and would otherwise apply cannot be decided.
    resource: str | None = "*"
    context: Mapping[str, str] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()  # keys the request does not carry (aws:PrincipalTag/x for an untagged role)
    role_path: str | None = None  # the role's path, needed when principal_arn is a role session ARN
    resource_account: str | None = None  # the account that holds the resource, by name or ID, when the ARN has none


@dataclass(frozen=True)
class StatementMatch:
    policy: str
    target: str
    sid: str
    policy_type: str = SCP


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    denied_by: tuple[StatementMatch, ...] = ()
    levels: tuple[str, ...] = ()  # the SCP levels evaluated, root first (the caller's account)
    absent_keys: tuple[str, ...] = ()  # condition keys the decision consulted and found absent from the request
    rcp_levels: tuple[str, ...] = ()  # the RCP levels evaluated, root first (the resource's account)
    resource_account: str | None = None  # the account whose RCPs were evaluated, as the decision took it

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
    """The organization as its policies see it: the tree, and the rendered policies attached at each node."""

    management_account_id: str
    ou_parents: dict[str, str | None]
    accounts: dict[str, AccountNode]
    attachments: dict[str, list[AttachedPolicy]]  # SCPs by target
    rcp_attachments: dict[str, list[AttachedPolicy]] = field(default_factory=dict)
    # The IDs behind aws:PrincipalOrgID/OrgPaths and their Resource twins; None: not known, so not derived.
    organization_id: str | None = None
    root_id: str | None = None
    ou_ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: StackSettings, *, policy_dir: Path | None = None) -> OrganizationModel:
        """The organization of the management stack's settings. Its root and OUs get the stand-in IDs the settings
        check renders the perimeter's documents with (policies/perimeter.py): the real ones exist only after
        ``pulumi up``; the organization's ID is the real one when ``importId`` gives it."""
        organization = settings.organization
        if organization is None:
            raise ValueError("only the management stack's settings describe the organization")
        ou_paths = [node.path for node in iter_ous(organization)]
        organization_id, root_id, ou_ids = perimeter.stand_in_ids(organization.import_id, ou_paths)
        variables = settings.policy_variables()
        by_type: dict[str, dict[str, list[AttachedPolicy]]] = {SCP: {}, RCP: {}}
        for entry in organization.policies:
            if entry.type not in by_type:
                continue
            document = policies.render(policies.load(entry.file, entry.type, policy_dir=policy_dir), variables)
            for target in entry.targets:
                by_type[entry.type].setdefault(target, []).append(AttachedPolicy(entry.name, document))
        return cls(
            management_account_id=settings.account.id,
            ou_parents={node.path: node.parent_path for node in iter_ous(organization)},
            accounts={a.name: AccountNode(a.name, a.id, a.ou) for a in organization.accounts},
            attachments=by_type[SCP],
            rcp_attachments=by_type[RCP],
            organization_id=organization_id,
            root_id=root_id,
            ou_ids=ou_ids,
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

    def locate(self, name_or_id: str) -> _Place:
        """Where an account is: the management account, a member account, or (a 12-digit ID the organization does
        not have) outside. Raises :class:`UnknownAccount` for a name the organization does not have."""
        try:
            node = self.find_account(name_or_id)
        except UnknownAccount:
            if not ACCOUNT_ID.match(name_or_id):
                raise
            return _Place("outside", None, name_or_id)
        if node is None:
            return _Place("management", None, self.management_account_id)
        return _Place("member", node, known_account_id(node))

    def levels(self, account: AccountNode) -> list[str]:
        """Target labels from the root down to the account."""
        chain: list[str] = []
        path: str | None = account.ou
        while path is not None:
            chain.append(f"ou:{path}")
            path = self.ou_parents[path]
        return [ROOT_TARGET, *reversed(chain), f"account:{account.name}"]

    def org_path(self, place: _Place) -> str | None:
        """``aws:PrincipalOrgPaths``' value for an account of the organization (``o-…/r-…/ou-…/``), if the IDs are known."""
        if self.organization_id is None or self.root_id is None or place.kind == "outside":
            return None
        paths = perimeter.org_paths(self.organization_id, self.root_id, self.ou_ids)
        if place.node is None:
            return paths[""]  # the management account sits directly under the root
        return paths.get(place.node.ou)

    def unknown_member_ids(self) -> list[str]:
        return sorted(a.name for a in self.accounts.values() if known_account_id(a) is None)

    def not_account(self, place: _Place, account_id: str) -> str | None:
        """Why ``account_id`` cannot be the account at ``place`` (``None`` when it can): another ID, or, for a
        member account without an ID yet, the ID the settings give another account."""
        if place.id is not None:
            return None if place.id == account_id else f"{place.label} is {place.id}"
        other = self.locate(account_id)
        if other.kind != "outside" and other.node is not place.node:
            return f"{account_id} is {other.label}'s, not {place.label}'s"
        return None


@dataclass(frozen=True)
class _Place:
    kind: str  # "management" | "member" | "outside"
    node: AccountNode | None
    id: str | None
    # For an account outside the organization that the request did not name, but the decision tries in turn: in
    # no organization ("none", its org keys absent) or in another one ("other"). None: the keys must be given.
    assumed: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "management":
            return "the management account"
        if self.node is not None:
            return self.node.name
        return f"account {self.id} (outside the organization)"


@dataclass(frozen=True)
class _Caller:
    kind: str  # "iam" | "service" | "web-identity"
    arn_in_context: str  # aws:PrincipalArn ("" when none is given or the caller is no IAM principal)
    place: _Place | None  # the caller's account (None for a service principal)
    service_name: str = ""
    oidc_host: str = ""


def principal_arn_in_context(principal_arn: str, role_path: str | None = None) -> str:
    """The value of ``aws:PrincipalArn`` for a request made by ``principal_arn``.

    For a role session AWS puts the role's ARN in the request context, not the session's ("Do not specify the
    assumed role session ARN as a value for this condition key",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
    The role's ARN carries the role's path (arn:aws:iam::111122223333:role/path/Role), which the session ARN
    does not, so a session ARN needs ``role_path`` ("/" for a role without one). A service principal or a web
    identity has no ``aws:PrincipalArn``: ``""``. Raises :class:`InvalidRequest`.
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
    if SERVICE_PRINCIPAL.match(principal_arn) or WEB_IDENTITY.match(principal_arn):
        return ""
    if not PRINCIPAL.match(principal_arn):
        raise InvalidRequest(
            f"principal {principal_arn!r} is not an IAM role, user, root or federated user ARN, a role session ARN "
            "(arn:aws:sts::<account>:assumed-role/<role>/<session>), an AWS service principal "
            "(cloudtrail.amazonaws.com) or an OIDC provider's ARN for a web identity"
        )
    return principal_arn


def known_account_id(account: AccountNode) -> str | None:
    """The account's ID, or ``None`` while the settings have none or a ``<placeholder>``."""
    return account.id if account.id and account.id.isdigit() else None


def evaluate(model: OrganizationModel, request: Request) -> Decision:
    """The decision for ``request``: allowed, or denied with the SCP and RCP statements that deny it.

    Raises :class:`InvalidRequest` for a malformed or contradictory request or one that leaves out what the
    decision depends on, :class:`UnsupportedPolicy` when a statement that could decide it uses a construct the
    simulator does not evaluate, and :class:`UnknownAccount`.
    """
    _check_request(request)
    caller = _caller(model, request)
    resource_places = _resource_places(model, request, caller)
    decisions: list[Decision] = []
    errors: list[InvalidRequest] = []
    for place in resource_places:
        try:
            decisions.append(_decide(model, request, caller, place))
        except InvalidRequest as error:
            errors.append(error)
    if errors and (decisions or len({str(e) for e in errors}) > 1):
        raise InvalidRequest(
            f"the decision depends on which account holds {request.resource!r}, which its ARN does not say: "
            "give --resource-account (by name for a member account without an ID yet)"
        )
    if errors:
        raise errors[0]
    if len({d.allowed for d in decisions}) > 1:
        raise InvalidRequest(
            f"the decision depends on which account holds {request.resource!r}, which its ARN does not say: "
            "give --resource-account (by name for a member account without an ID yet)"
        )
    if len(decisions) == 1:
        return decisions[0]
    # The same verdict whichever account holds the resource: the statements that deny in every case are named
    # (or, when none does in every case, every statement that denies in some case).
    first = decisions[0]
    common = [m for m in first.denied_by if all(m in d.denied_by for d in decisions)]
    every = list(dict.fromkeys(m for d in decisions for m in d.denied_by))
    denied_by = tuple(common or every)
    reason = f"{first.reason.split('; ')[0]}; no RCP denies it"
    if denied_by:
        reason = "explicitly denied by " + "; ".join(_named(m) for m in denied_by)
    elif not first.allowed:
        reason = first.reason
    return replace(
        first,
        reason=f"{reason}, whichever account holds the resource (--resource-account names it)",
        denied_by=denied_by,
        rcp_levels=(),
        resource_account=None,
        absent_keys=tuple(sorted({k for d in decisions for k in d.absent_keys})),
    )


def _named(match: StatementMatch) -> str:
    kind = "" if match.policy_type == SCP else " [RCP]"
    return f"{match.policy} ({match.sid}) attached to {match.target}{kind}"


def _caller(model: OrganizationModel, request: Request) -> _Caller:
    principal = request.principal_arn
    if SERVICE_PRINCIPAL.match(principal):
        return _Caller("service", "", None, service_name=principal)
    web = WEB_IDENTITY.match(principal)
    if web:
        place = model.locate(request.account)
        mismatch = model.not_account(place, web["account"])
        if mismatch is not None:
            raise InvalidRequest(f"the OIDC provider {principal!r} is in account {web['account']}, but {mismatch}")
        return _Caller("web-identity", "", place, oidc_host=web["host"])
    arn = principal_arn_in_context(principal, request.role_path) if principal else ""
    place = model.locate(request.account)
    if place.kind == "outside":
        place = _outside_or_ambiguous(model, request, place)
    return _Caller("iam", arn, place)


def _outside_or_ambiguous(model: OrganizationModel, request: Request, place: _Place) -> _Place:
    """An ID the settings do not give is outside the organization, unless a member account without an ID yet may
    be it: then the request must say, by the principal's organization, that it is not one of ours."""
    unknown = model.unknown_member_ids()
    if not unknown:
        return place
    given = {k.lower(): v for k, v in request.context.items()}.get("aws:principalorgid")
    declared_absent = "aws:principalorgid" in {k.lower() for k in request.absent}
    if declared_absent or (given is not None and given != model.organization_id):
        return place
    raise InvalidRequest(
        f"account {place.id} is none the settings give an ID for, but {', '.join(unknown)} have no ID yet and it may "
        "be one of them: name the account, or say it is outside the organization with --absent aws:PrincipalOrgID "
        "or --context aws:PrincipalOrgID=<its organization>"
    )


def _resource_places(model: OrganizationModel, request: Request, caller: _Caller) -> list[_Place]:
    """The account the resource is in, or every account it could be in when nothing says which."""
    from_arn = None
    if request.resource not in (None, "*"):
        account_field = request.resource.split(":")[4]
        from_arn = account_field if ACCOUNT_ID.match(account_field) else None
    given = model.locate(request.resource_account) if request.resource_account is not None else None
    if given is not None and from_arn is not None and given.id is not None and given.id != from_arn:
        raise InvalidRequest(
            f"--resource-account {request.resource_account!r} is {given.id}, but the resource "
            f"{request.resource!r} is in account {from_arn}"
        )
    mismatch = model.not_account(given, from_arn) if given is not None and from_arn is not None else None
    if mismatch is not None:  # an account without an ID yet, and the ID of another account of the settings
        raise InvalidRequest(
            f"--resource-account {request.resource_account!r}: the resource {request.resource!r} is in account "
            f"{from_arn}, but {mismatch}"
        )
    if given is not None:
        if given.kind == "outside" and model.unknown_member_ids():
            # As for an ARN's account: an ID the settings do not give may be a member account without an ID yet.
            return [*_every_place(model, outside_id=given.id)]
        return [given]
    if from_arn is not None:
        place = model.locate(from_arn)
        if place.kind == "outside" and model.unknown_member_ids():
            # An ID the settings do not give may be a member account without an ID yet: name it to decide.
            return [*_every_place(model, outside_id=place.id)]
        return [place]
    if request.resource == "*" and caller.place is not None:
        return [caller.place]
    return _every_place(model)


def _every_place(model: OrganizationModel, outside_id: str | None = None) -> list[_Place]:
    places = [_Place("management", None, model.management_account_id)]
    places += [_Place("member", node, known_account_id(node)) for node in model.accounts.values()]
    places += [_Place("outside", None, outside_id, "none"), _Place("outside", None, outside_id, "other")]
    return places


# What another organization looks like to our policies: IDs that none of ours can be.
OTHER_ORGANIZATION_ID = "o-anotherorganization"
OTHER_ORGANIZATION_PATH = f"{OTHER_ORGANIZATION_ID}/r-another/"


def _decide(model: OrganizationModel, request: Request, caller: _Caller, resource: _Place) -> Decision:
    derived, derived_absent = _derived_context(model, request, caller, resource)
    context = _RequestContext.build(request, derived, derived_absent, oidc_host=caller.oidc_host)
    scp_denials, scp_reason, scp_levels = _scp_part(model, request, caller, context)
    rcp_denials, rcp_reason, rcp_levels = _rcp_part(model, request, caller, resource, context)
    absent = tuple(sorted(context.absent_consulted))
    denials = (*scp_denials, *rcp_denials)
    reasons = [scp_reason] + ([rcp_reason] if rcp_reason else [])
    allowed = not denials and not scp_reason.startswith("no SCP attached")
    if denials:
        reasons = ["explicitly denied by " + "; ".join(_named(d) for d in denials)]
    return Decision(allowed, "; ".join(reasons), denials, scp_levels, absent, rcp_levels, resource.id or resource.label)


def _derived_context(
    model: OrganizationModel, request: Request, caller: _Caller, resource: _Place
) -> tuple[dict[str, str | tuple[str, ...]], set[str]]:
    derived: dict[str, str | tuple[str, ...]] = {"aws:requestedregion": request.region}
    absent: set[str] = set()
    if caller.kind == "service":
        derived["aws:principalisawsservice"] = "true"
        derived["aws:principalservicename"] = caller.service_name
        absent.update(PRINCIPAL_KEYS)
        if "aws:sourceaccount" in {k.lower() for k in request.absent}:
            # Acting for no resource of any account (a service assuming its role): no source organization either.
            absent.update({"aws:sourceorgid", "aws:sourceorgpaths"})
        source = {k.lower(): v for k, v in request.context.items()}.get("aws:sourceaccount")
        if source is not None and model.organization_id is not None:
            try:
                place = model.locate(source)
            except UnknownAccount:
                place = None
            if place is not None and place.kind != "outside":
                derived["aws:sourceorgid"] = model.organization_id
    else:
        absent.update(SOURCE_KEYS)
        if caller.kind == "web-identity":
            # An AssumeRoleWithWebIdentity request is not signed with AWS credentials: no principal of any account
            # makes it, and aws:PrincipalIsAWSService is "present ... for all signed API requests that use AWS
            # credentials" only (global condition keys page). UNVERIFIED which principal keys AWS fills for it.
            absent.update(PRINCIPAL_KEYS)
            absent.add("aws:principalisawsservice")
        else:
            derived["aws:principalisawsservice"] = "false"
            place = caller.place
            assert place is not None
            if caller.arn_in_context:
                derived["aws:principalarn"] = caller.arn_in_context
            principal_account = caller.arn_in_context.split(":")[4] if caller.arn_in_context else place.id
            if principal_account:
                derived["aws:principalaccount"] = principal_account
            if place.kind == "outside" and "aws:principalorgid" in {k.lower() for k in request.absent}:
                absent.add("aws:principalorgpaths")  # in no organization, so on no path in one
            if place.kind != "outside" and model.organization_id is not None:
                derived["aws:principalorgid"] = model.organization_id
                path = model.org_path(place)
                if path is not None:
                    derived["aws:principalorgpaths"] = (path,)
    if resource.id is not None:
        derived["aws:resourceaccount"] = resource.id
    if resource.assumed == "none":
        absent.update({"aws:resourceorgid", "aws:resourceorgpaths"})
    elif resource.assumed == "other":
        derived["aws:resourceorgid"] = OTHER_ORGANIZATION_ID
        derived["aws:resourceorgpaths"] = (OTHER_ORGANIZATION_PATH,)
    if resource.kind != "outside" and model.organization_id is not None:
        derived["aws:resourceorgid"] = model.organization_id
        path = model.org_path(resource)
        if path is not None:
            derived["aws:resourceorgpaths"] = (path,)
    return derived, absent


def _scp_part(
    model: OrganizationModel, request: Request, caller: _Caller, context: _RequestContext
) -> tuple[list[StatementMatch], str, tuple[str, ...]]:
    """The caller's SCPs: denials, the reason, and the levels evaluated."""
    if caller.kind == "service":
        return [], "an AWS service principal is not restricted by SCPs", ()
    if caller.kind == "web-identity":
        return [], "no SCP is evaluated for a web identity (UNVERIFIED: no member-account principal makes it)", ()
    place = caller.place
    assert place is not None
    if place.kind == "management":
        return [], "the management account is not restricted by SCPs", ()
    if place.kind == "outside":
        return [], "a principal outside the organization is not restricted by its SCPs", ()
    if SERVICE_LINKED_ROLE.match(caller.arn_in_context):
        return [], "service-linked roles are not restricted by SCPs", ()
    assert place.node is not None
    levels = model.levels(place.node)
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
    if unallowed and not denials:
        return [], f"no SCP attached to {', '.join(unallowed)} allows it", tuple(levels)
    return denials, "no SCP denies it and every level allows it", tuple(levels)


def _rcp_part(
    model: OrganizationModel, request: Request, caller: _Caller, resource: _Place, context: _RequestContext
) -> tuple[list[StatementMatch], str, tuple[str, ...]]:
    """The resource account's RCPs: denials, the reason ("" when the organization has no RCP), and the levels."""
    if not model.rcp_attachments:
        return [], "", ()
    service = request.action.split(":")[0].lower()
    if resource.kind == "management":
        return [], "RCPs never bind the management account's resources", ()
    if resource.kind == "outside":
        return [], "RCPs bind only the resources of the organization's member accounts", ()
    if service not in perimeter.RCP_SUPPORTED_SERVICES:
        return [], f"RCPs do not apply to {service} (not a service RCPs support)", ()
    if request.action.lower() in perimeter.RCP_INEFFECTIVE_ACTIONS:
        return [], f"{request.action} is not restricted by RCPs", ()
    if SERVICE_LINKED_ROLE.match(caller.arn_in_context):
        return [], "service-linked roles are not restricted by RCPs", ()
    if (
        request.action.lower() == "sts:assumerole"
        and request.resource
        and ":role/aws-service-role/" in request.resource
    ):
        return [], "an AWS service assuming its service-linked role is not restricted by RCPs", ()
    assert resource.node is not None
    levels = model.levels(resource.node)
    denials: list[StatementMatch] = []
    for level in levels:
        attached = [
            AttachedPolicy("RCPFullAWSAccess", RCP_FULL_AWS_ACCESS_DOCUMENT),
            *model.rcp_attachments.get(level, []),
        ]
        for policy in attached:
            for index, statement in enumerate(_statements(policy.document)):
                where = _where(policy.name, statement, index)
                _check_rcp_statement(policy.name, statement, where)
                if statement["Effect"] == "Deny" and _applies(statement, request, context, where):
                    denials.append(StatementMatch(policy.name, level, statement.get("Sid", ""), RCP))
    return denials, f"no RCP of {resource.label} denies it", tuple(levels)


def _check_rcp_statement(policy: str, statement: Mapping[str, Any], where: str) -> None:
    """RCP syntax: ``Principal`` is ``"*"``, and only RCPFullAWSAccess allows
    (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html)."""
    if statement.get("Principal") != "*":
        raise UnsupportedPolicy(f'{where}: an RCP statement\'s Principal must be "*"')
    if statement.get("Effect") == "Allow" and policy != "RCPFullAWSAccess":
        raise UnsupportedPolicy(f"{where}: only RCPFullAWSAccess may allow; an RCP of ours only denies")


def _check_request(request: Request) -> None:
    """Refuse a malformed request."""
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
        if (
            request.principal_arn.startswith("arn:")
            and request.principal_arn.split(":")[1] != request.resource.split(":")[1]
        ):
            raise InvalidRequest(
                f"principal {request.principal_arn!r} and resource {request.resource!r} are in different partitions"
            )
    if request.resource_account is not None and not request.resource_account:
        raise InvalidRequest("--resource-account is empty")
    if not request.principal_arn:
        if request.role_path is not None:
            raise InvalidRequest("a role path is given without a principal")
        return
    principal_arn_in_context(request.principal_arn, request.role_path)


@dataclass
class _RequestContext:
    """The request context as the condition operators see it, and what the decision learned was absent."""

    values: dict[str, str | tuple[str, ...]]
    absent: set[str]
    strict_global_keys: bool
    absent_consulted: set[str] = field(default_factory=set)
    oidc_host: str = ""  # a web identity's provider: its claims (<host>:sub) must be given when consulted
    uncovered_action: str = ""  # an action the resource keys do not cover (perimeter.RESOURCE_KEYS_NOT_COVERED)

    @classmethod
    def build(
        cls,
        request: Request,
        derived: Mapping[str, str | tuple[str, ...]],
        derived_absent: set[str] | None = None,
        *,
        oidc_host: str = "",
    ) -> _RequestContext:
        values: dict[str, str | tuple[str, ...]] = dict(derived)
        derived_absent = derived_absent or set()
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
            label = DERIVED_KEYS.get(lower) or KNOWN_KEYS.get(lower, "")
            if lower in derived:
                expected = derived[lower]
                agrees = expected == value or (isinstance(expected, tuple) and expected == (value,))
                if not agrees:
                    shown = expected[0] if isinstance(expected, tuple) and len(expected) == 1 else expected
                    raise InvalidRequest(
                        f"context key {key!r}={value!r} contradicts {label} ({shown!r}); drop it or change the flag"
                    )
            elif lower in derived_absent:
                raise InvalidRequest(f"context key {key!r}: this request does not carry it ({label})")
            elif lower in DERIVED_KEYS:
                raise InvalidRequest(f"context key {key!r} is derived from {DERIVED_KEYS[lower]}: give that instead")
            values[lower] = (value,) if lower in MULTIVALUED_KEYS else value
        absent = {key.lower() for key in request.absent}
        for key in sorted(absent):
            if key in DERIVED_KEYS:
                raise InvalidRequest(f"context key {key!r} is in every signed request; it cannot be absent")
            if key in given:
                raise InvalidRequest(f"context key {key!r} is declared absent but has a value")
            if key in derived:
                raise InvalidRequest(f"context key {key!r} is declared absent, but {KNOWN_KEYS[key]} gives it")
        uncovered = request.action.lower() in perimeter.RESOURCE_KEYS_NOT_COVERED
        return cls(
            values,
            absent | derived_absent,
            strict_global_keys=True,
            oidc_host=oidc_host,
            uncovered_action=request.action if uncovered else "",
        )

    def lookup(self, key: str, where: str) -> str | tuple[str, ...] | None:
        lower = key.lower()
        if self.uncovered_action and lower in perimeter.RESOURCE_KEYS:
            raise InvalidRequest(
                f"{where} depends on {key}, which does not cover {self.uncovered_action}: AWS's data-perimeter "
                f"examples list it among the actions the resource keys do not cover "
                f"({perimeter.RESOURCE_KEYS_NOT_COVERED_SOURCE}), and AWS does not say what the key then holds"
            )
        if lower in self.values:
            return self.values[lower]
        if lower in self.absent or not self.strict_global_keys:
            self.absent_consulted.add(key)
            return None
        if lower in DERIVED_KEYS:
            raise InvalidRequest(f"{where} depends on {key}, which needs {DERIVED_KEYS[lower]}")
        if lower.startswith(REQUEST_TAG_KEYS):
            # The tags a request passes are request parameters, like a header: a request without them does not
            # carry aws:RequestTag/<key> or aws:TagKeys (global condition keys page: "This key is included in the
            # request context when tags are passed in the request").
            self.absent_consulted.add(key)
            return None
        if lower.startswith("aws:"):
            raise InvalidRequest(
                f"{where} depends on {key}, which the request does not give; AWS includes most global keys in "
                f"every request, so it is not taken as absent: pass --context {key}=VALUE, or --absent {key} "
                "if the request would not carry it"
            )
        if self.oidc_host and lower.startswith(f"{self.oidc_host}:"):
            raise InvalidRequest(
                f"{where} depends on {key}, a claim of the web identity's token: pass --context {key}=VALUE"
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
            if key.lower() in MULTIVALUED_KEYS and operator not in SET_OPERATORS:
                raise UnsupportedPolicy(f"{where}: {operator} on the multivalued key {key!r} is not evaluated")
            if operator in SET_OPERATORS and key.lower() not in MULTIVALUED_KEYS:
                # The condition operators page warns against set operators on single-valued keys; whether a key
                # outside the list above is multivalued is not known here, so the statement is refused.
                raise UnsupportedPolicy(f"{where}: {operator} on {key!r}, which is not a multivalued key")
            for value in _as_list(values):
                if isinstance(value, Mapping | list):
                    raise UnsupportedPolicy(f"{where}: {operator} {key}: nested value {value!r}")
                text = _policy_value(value)
                if "${" in text:
                    raise UnsupportedPolicy(f"{where}: policy variable in {operator} {key} {text!r} is not evaluated")
                if operator in ("Null", "Bool", "BoolIfExists") and text not in ("true", "false"):
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
    if operator in SET_OPERATORS:
        # "ForAnyValue - ... returns true if any one of the context key values in the request matches any one of
        # the context key values in the policy. ... If the key is not present in the request context or the
        # context key value resolves to an empty data set, ... returns false." (condition operators page,
        # "Multivalued context keys": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html)
        values = (actual,) if isinstance(actual, str) else (actual or ())
        base = operator.split(":", 1)[1]
        return any(_string_matches(base, value, expected_values, where, key) for value in values)
    if isinstance(actual, tuple):
        if len(actual) != 1:
            raise InvalidRequest(f"{where} tests {key} with {operator}, but the request gives it several values")
        actual = actual[0]
    if operator.endswith("IfExists"):
        # "...IfExists: If the policy key is present in the context of the request, process the key as specified
        # in the policy. If the key is not present, evaluate the condition element as true." (condition operators
        # page, "...IfExists condition operators")
        if actual is None:
            return True
        operator = operator.removesuffix("IfExists")
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
    matched = _string_matches(operator.replace("Not", ""), actual, expected_values, where, key)
    return not matched if operator in NEGATED else matched


def _string_matches(base: str, actual: str, expected_values: list[str], where: str, key: str) -> bool:
    if base == "StringEquals":
        return actual in expected_values
    if base == "StringEqualsIgnoreCase":
        # "Exact matching, ignoring case" (condition operators page). Python's casefold() is the Unicode caseless
        # match; that IAM folds beyond ASCII the same way is UNVERIFIED.
        return actual.casefold() in {v.casefold() for v in expected_values}
    if base == "StringLike":
        return any(_wildcard(v, case_sensitive=True).match(actual) for v in expected_values)
    if not ARN.match(actual):
        raise InvalidRequest(f"{where} compares {key} as an ARN, but {actual!r} is not one")
    # "ArnEquals, ArnLike: Case-sensitive matching of the ARN. Each of the six colon-delimited components of
    # the ARN is checked separately and each can include a multi-character match wildcard (*) or a
    # single-character match wildcard (?). These behave identically." (condition operators page, above)
    return any(_arn_matches(v, actual) for v in expected_values)


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
