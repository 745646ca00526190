"""The guardrails attacked as a member-account administrator: each escape found, closed, and kept closed.

The probe table (docustack/probes.py) holds one request per escape and one allowed neighbour; these tests sweep
each escape over every member account, principal kind and variant of the request that reaches the same thing,
so that a fix that closes only the example fails here. Decisions come from the project's simulator; the probes
also run through the independent evaluator in tests/test_simulator_oracle.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path
from typing import Any

import iam_reference
import pytest

import policies
from components import github_ci_roles, log_archive
from components.ci_read_permissions import role_read_actions
from docustack import project, simulator
from docustack.probes import PROBES, with_probe_accounts
from docustack.settings import StackSettings
from docustack.simulator import OrganizationModel, Request

MEMBER_ACCOUNTS = ("dev", "staging", "prod", "sandbox", "log-archive", "audit")
ACCOUNT_ID = "111122223333"
DEV_ID = "216482851263"  # dev's ID in the settings; the other member accounts have none yet


def in_own_account(account: str, arn: str) -> dict[str, str]:
    """Request fields for a resource of the caller's own account: the ARN with that account's ID where the settings
    give one, and the account named (the SCPs on Workloads depend on which account holds a resource)."""
    return {"resource": arn.replace(ACCOUNT_ID, DEV_ID) if account == "dev" else arn, "resource_account": account}


ADMIN = f"arn:aws:iam::{ACCOUNT_ID}:role/admin"
EXEMPT_ROLES = ("OrganizationAccountAccessRole", "docustack-break-glass")
EXEMPT_PRINCIPALS = tuple(f"arn:aws:iam::{ACCOUNT_ID}:role/{name}" for name in EXEMPT_ROLES)
GRANT_HEADERS = ("read", "write", "read-acp", "write-acp", "full-control")
ACL_ACTIONS = ("s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectVersionAcl", "s3:PutBucketAcl", "s3:CreateBucket")
PUBLIC_GROUPS = (
    'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
    "uri=http://acs.amazonaws.com/groups/global/AllUsers",
    'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"',
    'id="123abc", uri="http://acs.amazonaws.com/groups/global/AllUsers"',
)


@pytest.fixture(scope="module")
def organization() -> OrganizationModel:
    settings = project.load_stack_settings(project.find_project_dir(Path(__file__).parent), "management")
    return with_probe_accounts(OrganizationModel.from_settings(settings))


def decide(organization: OrganizationModel, request: Request) -> simulator.Decision:
    # Each escape is an attack on the caller's own account: its resources (ACCOUNT_ID stands for that account's
    # ID, which the settings may not give yet, and S3 ARNs name none) are in that account.
    resource_account = request.resource_account
    if resource_account is None and request.resource not in (None, "*"):
        node = organization.accounts.get(request.account)
        unknown_id = node is not None and simulator.known_account_id(node) is None
        if request.resource.split(":")[4] == "" or (unknown_id and request.resource.split(":")[4] == ACCOUNT_ID):
            resource_account = request.account
    return simulator.evaluate(organization, dataclasses.replace(request, resource_account=resource_account))


def denied_by(decision: simulator.Decision) -> set[str]:
    return {match.policy for match in decision.denied_by}


def _resource_for(action: str) -> str:
    return "arn:aws:s3:::app-data" if action in ("s3:PutBucketAcl", "s3:CreateBucket") else "arn:aws:s3:::app-data/k"


# --------------------------------------------------------------------------------------------------------
# Leaving the organization


@pytest.mark.parametrize("account", MEMBER_ACCOUNTS)
@pytest.mark.parametrize("principal", [ADMIN, *EXEMPT_PRINCIPALS])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_no_member_principal_can_leave_the_organization(
    organization: OrganizationModel, account: str, principal: str, region: str
) -> None:
    decision = decide(organization, Request("organizations:LeaveOrganization", account, region, principal, "*"))
    assert not decision.allowed
    assert "protect-guardrails" in denied_by(decision)


def test_the_management_account_still_removes_and_reads(organization: OrganizationModel) -> None:
    operator = "arn:aws:iam::348665872333:role/operator"
    remove = Request("organizations:RemoveAccountFromOrganization", "management", "us-east-1", operator, "*")
    assert decide(organization, remove).allowed
    for account in MEMBER_ACCOUNTS:
        read = Request("organizations:DescribeOrganization", account, "us-east-1", ADMIN, "*")
        assert decide(organization, read).allowed, account


# --------------------------------------------------------------------------------------------------------
# Exempt role names at another path


@pytest.mark.parametrize("account", MEMBER_ACCOUNTS)
@pytest.mark.parametrize("name", EXEMPT_ROLES)
@pytest.mark.parametrize("path", ["", "ops/", "a/b/c/"])
def test_an_exempt_role_name_cannot_be_taken_at_any_path(
    organization: OrganizationModel, account: str, name: str, path: str
) -> None:
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/{path}{name}"
    decision = decide(organization, Request("iam:CreateRole", account, "us-east-1", ADMIN, role))
    assert not decision.allowed
    assert denied_by(decision) == {"protect-guardrails"}


@pytest.mark.parametrize(
    "role",
    [
        "ops/app",
        "my-docustack-break-glass",  # the name only ends like an exempt one
        "ops/OrganizationAccountAccessRoleCopy",
        "OrganizationAccountAccessRole/x",  # a path segment named like the role, another name
    ],
)
def test_other_roles_stay_creatable_at_any_path(organization: OrganizationModel, role: str) -> None:
    # The role is made in dev itself: the resource's account is the caller's (the SCPs on Workloads depend on it).
    request = Request(
        "iam:CreateRole", "dev", "us-east-1", ADMIN, **in_own_account("dev", f"arn:aws:iam::{ACCOUNT_ID}:role/{role}")
    )
    assert decide(organization, request).allowed


@pytest.mark.parametrize("name", [f"ops/{EXEMPT_ROLES[1]}", EXEMPT_ROLES[1].upper(), "docustack-Break-Glass"])
def test_a_look_alike_role_gains_no_exemption(organization: OrganizationModel, name: str) -> None:
    # aws:PrincipalARN is compared case-sensitively and with the path: a role whose name only looks exempt
    # (another path, another case) is bound like any other role.
    principal = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
    decision = decide(organization, Request("ec2:RunInstances", "dev", "us-west-2", principal, "*"))
    assert not decision.allowed
    assert denied_by(decision) == {"region-deny"}


# --------------------------------------------------------------------------------------------------------
# Log objects deleted through an access point

LOG_OBJECT_ACTIONS = (
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
)
ACCESS_POINT_OBJECT = f"arn:aws:s3:us-east-1:{ACCOUNT_ID}:accesspoint/logs/object/AWSLogs/o-x/Config/snapshot.json.gz"


@pytest.mark.parametrize("action", LOG_OBJECT_ACTIONS)
def test_log_objects_are_guarded_through_access_points_too(organization: OrganizationModel, action: str) -> None:
    def request(account: str, principal: str) -> Request:
        # Each account's own access point: the resource's account is the caller's.
        return Request(action, account, "us-east-1", principal, **in_own_account(account, ACCESS_POINT_OBJECT))

    decision = decide(organization, request("log-archive", ADMIN))
    assert not decision.allowed
    assert denied_by(decision) == {"protect-log-archive"}
    for exempt in EXEMPT_PRINCIPALS:
        assert decide(organization, request("log-archive", exempt)).allowed
    # The Log Archive policy binds only that account's access points.
    assert decide(organization, request("dev", ADMIN)).allowed


def test_reading_through_an_access_point_stays_open(organization: OrganizationModel) -> None:
    read = Request("s3:GetObject", "log-archive", "us-east-1", ADMIN, ACCESS_POINT_OBJECT)
    assert decide(organization, read).allowed


# --------------------------------------------------------------------------------------------------------
# Grants on the Log Archive's keys


@pytest.mark.parametrize("principal", [ADMIN, f"arn:aws:iam::{ACCOUNT_ID}:role/docustack-github-deploy"])
def test_no_grant_on_a_log_archive_key_but_by_an_exempt_role(organization: OrganizationModel, principal: str) -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/k"
    decision = decide(organization, Request("kms:CreateGrant", "log-archive", "us-east-1", principal, key))
    assert not decision.allowed
    assert denied_by(decision) == {"protect-log-archive"}
    for exempt in EXEMPT_PRINCIPALS:
        assert decide(organization, Request("kms:CreateGrant", "log-archive", "us-east-1", exempt, key)).allowed


@pytest.mark.parametrize("account", ["dev", "staging", "prod", "sandbox", "audit"])
def test_grants_elsewhere_are_the_accounts_business(organization: OrganizationModel, account: str) -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/k"
    request = Request("kms:CreateGrant", account, "us-east-1", ADMIN, **in_own_account(account, key))
    assert decide(organization, request).allowed


def test_the_log_key_policy_trusts_no_other_account(management_settings: StackSettings) -> None:
    # SCPs do not bind the management account, so the key policy itself must not name it (or any other account):
    # only the Log Archive account, the delivering services, and the configured readers.
    *_, key_policy = log_archive.log_archive_policies(management_settings, ["210987654321"])
    principals = [statement["Principal"] for statement in key_policy["Statement"]]
    accounts = {p["AWS"] for p in principals if "AWS" in p and isinstance(p["AWS"], str)}
    assert accounts == {"arn:aws:iam::000000000000:root"}
    services = {p["Service"] for p in principals if "Service" in p}
    assert services == {log_archive.CLOUDTRAIL, log_archive.CONFIG, log_archive.LOG_DELIVERY}
    for statement in key_policy["Statement"]:
        if "Service" in statement["Principal"]:
            # A service acts only for the trail or the organization's accounts.
            assert statement["Condition"], statement["Sid"]
            assert "kms:CreateGrant" not in json.dumps(statement["Action"]), statement["Sid"]


# --------------------------------------------------------------------------------------------------------
# Public grants through x-amz-grant-* headers, and ACLs on object versions


@pytest.mark.parametrize(
    ("header", "action", "grantee"), list(itertools.product(GRANT_HEADERS, ACL_ACTIONS, PUBLIC_GROUPS))
)
@pytest.mark.parametrize("principal", [ADMIN, EXEMPT_PRINCIPALS[0]])
def test_no_public_grant_header_in_the_workloads(
    organization: OrganizationModel, header: str, action: str, grantee: str, principal: str
) -> None:
    context = {f"s3:x-amz-grant-{header}": grantee, "s3:x-amz-server-side-encryption": "aws:kms"}
    request = Request(action, "prod", "us-east-1", principal, _resource_for(action), context)
    decision = decide(organization, request)
    assert not decision.allowed
    assert denied_by(decision) == {"deny-public-s3"}


@pytest.mark.parametrize("action", ACL_ACTIONS)
@pytest.mark.parametrize("acl", ["public-read", "public-read-write", "authenticated-read"])
def test_no_public_canned_acl_on_any_acl_action(organization: OrganizationModel, action: str, acl: str) -> None:
    context = {"s3:x-amz-acl": acl, "s3:x-amz-server-side-encryption": "aws:kms"}
    decision = decide(organization, Request(action, "dev", "us-east-1", ADMIN, _resource_for(action), context))
    assert not decision.allowed
    assert denied_by(decision) == {"deny-public-s3"}


@pytest.mark.parametrize("header", GRANT_HEADERS)
@pytest.mark.parametrize("action", ACL_ACTIONS)
def test_grants_to_named_accounts_stay_allowed(organization: OrganizationModel, header: str, action: str) -> None:
    context = {f"s3:x-amz-grant-{header}": 'id="79a59df900b949e5"', "s3:x-amz-server-side-encryption": "aws:kms"}
    assert decide(organization, Request(action, "dev", "us-east-1", ADMIN, _resource_for(action), context)).allowed


def test_the_sandbox_is_not_under_the_public_grant_statements(organization: OrganizationModel) -> None:
    context = {"s3:x-amz-grant-read": PUBLIC_GROUPS[0], "s3:x-amz-server-side-encryption": "aws:kms"}
    request = Request("s3:PutObject", "sandbox", "us-east-1", ADMIN, "arn:aws:s3:::scratch/k", context)
    assert decide(organization, request).allowed


# --------------------------------------------------------------------------------------------------------
# What every fix must keep: the quota, real names, and the probes


def test_every_scp_still_fits_the_size_quota(management_settings: StackSettings) -> None:
    assert management_settings.organization is not None
    variables = management_settings.policy_variables()
    for scp in management_settings.organization.service_control_policies:
        text = policies.render_file(scp.file, variables)
        assert len(text) <= policies.SCP_QUOTA.max_characters, scp.name


def _condition_keys(action: str) -> set[str]:
    details = iam_reference.action_details(action)
    assert details is not None, f"{action} is not an IAM action"
    keys = set(details.get("conditionKeys", []))
    for resource_type in details.get("resourceTypes", []):
        keys |= set(resource_type.get("conditionKeys", []))
    return {key.lower() for key in keys}


def test_every_service_condition_key_applies_to_every_action_it_guards(management_settings: StackSettings) -> None:
    """A service key the action does not carry is never in the request: the statement would never match (or, with
    a negated operator, always). Global ``aws:`` keys are in every request and are not listed per action."""
    assert management_settings.organization is not None
    variables = management_settings.policy_variables()
    checked = 0
    for scp in management_settings.organization.service_control_policies:
        document: dict[str, Any] = json.loads(policies.render_file(scp.file, variables))
        for statement in document["Statement"]:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            for block in statement.get("Condition", {}).values():
                for key in block:
                    if key.lower().startswith("aws:"):
                        continue
                    for action in actions:
                        assert key.lower() in _condition_keys(action), f"{scp.name} {statement['Sid']}: {action} {key}"
                        checked += 1
    assert checked >= 30  # the grant headers, the canned ACL and the encryption header


def test_each_escape_has_a_denied_probe_and_an_allowed_neighbour() -> None:
    by_name = {probe.name: probe for probe in PROBES}
    pairs = {
        "member admin leaves the organization": "management removes an account from the organization",
        "create a role with an exempt name at another path": "create an ordinary role at a path",
        "grant a reader on a log key": "create a grant in dev",
        "grant AllUsers read with a header on upload": "grant one account read with a header on upload",
        "public-read ACL on an object version": "private ACL on upload",
        "delete a log object version through an access point": "read a log object through an access point",
    }
    for escape, neighbour in pairs.items():
        assert by_name[escape].allowed is False and by_name[escape].denied_by, escape
        assert by_name[neighbour].allowed is True, neighbour


# --------------------------------------------------------------------------------------------------------
# The CI roles: the read-only role writes nothing and encrypts nothing


@pytest.mark.parametrize("kind", ["account", "management"])
def test_the_read_only_role_allows_no_write(kind: str) -> None:
    document = github_ci_roles.preview_read_only_policy(
        kind, "arn:aws:s3:::state", f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/state"
    )
    allowed = [
        action
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]
    assert set(role_read_actions(kind)) <= set(allowed)
    writes = []
    for action in allowed:
        details = iam_reference.action_details(action)
        assert details is not None, action
        # kms:Decrypt is classed "Write" by the reference; it reads the state and unwraps the secrets key.
        if action != "kms:Decrypt" and details["accessLevel"] not in ("Read", "List"):
            writes.append(f"{action} ({details['accessLevel']})")
    assert writes == []
    for forbidden in ("kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "s3:PutObject", "s3:DeleteObject"):
        assert forbidden not in allowed


# --------------------------------------------------------------------------------------------------------
# Assuming an exempt role, and the detective controls' off-switches: every action of the statement, every member
# account; the exempt roles keep them (they repair each other and run the management stack's changes).

ASSUME_ACTIONS = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")


@pytest.mark.parametrize("account", MEMBER_ACCOUNTS)
@pytest.mark.parametrize("action", ASSUME_ACTIONS)
@pytest.mark.parametrize("role", EXEMPT_ROLES)
def test_no_member_principal_assumes_an_exempt_role(
    organization: OrganizationModel, account: str, action: str, role: str
) -> None:
    # The role is in another member account, the Audit account (one outside Workloads: from a sandbox, a role in
    # Workloads is out of reach whoever asks, tests/test_perimeter.py).
    target = f"arn:aws:iam::444455556666:role/{role}"
    elsewhere = {"resource_account": "audit"}
    decision = decide(organization, Request(action, account, "us-east-1", ADMIN, target, **elsewhere))
    assert not decision.allowed
    assert denied_by(decision) == {"protect-guardrails"}
    assert decide(
        organization, Request(action, account, "us-east-1", EXEMPT_PRINCIPALS[0], target, **elsewhere)
    ).allowed
    ordinary = f"arn:aws:iam::444455556666:role/{role}-reader"
    assert decide(organization, Request(action, account, "us-east-1", ADMIN, ordinary, **elsewhere)).allowed


def _statement_actions(sid: str) -> list[str]:
    (statement,) = [s for s in policies.load("protect-guardrails.json")["Statement"] if s["Sid"] == sid]
    return list(statement["Action"])


OFF_SWITCHES = [
    (sid, action)
    for sid in ("DenyStoppingOrChangingConfig", "DenyLeavingOrSilencingGuardDuty", "DenyLeavingOrSilencingSecurityHub")
    for action in _statement_actions(sid)
]


@pytest.mark.parametrize(("sid", "action"), OFF_SWITCHES, ids=[action for _, action in OFF_SWITCHES])
@pytest.mark.parametrize("account", MEMBER_ACCOUNTS)
def test_no_member_principal_turns_a_detective_control_off(
    organization: OrganizationModel, sid: str, action: str, account: str
) -> None:
    decision = decide(organization, Request(action, account, "us-east-1", ADMIN, "*"))
    assert not decision.allowed
    assert {(match.policy, match.sid) for match in decision.denied_by} == {("protect-guardrails", sid)}
    assert decide(organization, Request(action, account, "us-east-1", EXEMPT_PRINCIPALS[1], "*")).allowed
