"""Checks of what the management stack needs inside member accounts: every member's access role, and the
read-only role it makes in the Log Archive and Audit accounts.

``OrganizationAccountAccessRole`` (or the account's ``roleName``) is how the management stack deploys into a
member account. Organizations creates it in the accounts it creates, open to the principals of the management
account (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_access-cross-account-role.html);
invited (adopted) accounts "do not automatically get an administrator role created"
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_create-cross-account-role.html).
Once protect-guardrails is attached, nobody in the member account can create it any more, so a missing role is
a locked-out account. The role must also trust only the management account: a trust of any other principal is a
second way into the account with the administrator rights the role carries.

The role is read through the read-only path verify uses for member accounts: ``--member-role`` (``<prefix>-readonly``)
narrowed to ``ReadOnlyAccess``. Where that role does not exist (the management stack makes it in the Log Archive
and Audit accounts, its member read-only StackSet in the others of the baseline's OUs), through the access role itself, narrowed the same way (aws.read_only_session).
Where neither can be assumed, the account could not be checked: an ``error`` finding (exit 2), never compliant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import boto3

from components.member_read_only_role import (
    MAX_SESSION_SECONDS,
    READ_ONLY_POLICY_NAME,
    management_trust_policy,
    member_read_only_policy,
)
from docustack.bucket_state import absent_if
from docustack.verify import policy_compare
from docustack.verify.aws import read_only_session
from docustack.verify.baseline_checks import role_policy_findings
from docustack.verify.framework import (
    AWS_ERRORS,
    CheckContext,
    Finding,
    check,
    compared,
    could_not_check,
    describe_error,
    drift,
)
from docustack.verify.organization_checks import NOT_FOUND, LiveOrganization

# Every way into a role (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html and the STS
# API): a trust statement lets its principals in when any of its actions, wildcards and all, matches one of these.
ASSUME_ACTIONS = ("sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity")


def _lets_in(action_pattern: str) -> bool:
    """Whether an IAM action pattern (``*`` and ``?`` wildcards, any case) matches a way into the role."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in action_pattern.lower())
    return any(re.fullmatch(regex, action) for action in ASSUME_ACTIONS)


def _member_session(context: CheckContext, account_id: str, role_name: str) -> boto3.Session:
    """The read-only session through ``--member-role``, else through ``role_name``; raises the last error."""
    try:
        return context.member_session(account_id)
    except AWS_ERRORS as first:
        if role_name == context.member_role:
            raise
        try:
            return read_only_session(context.session, context.caller, account_id, role_name, region=context.region)
        except AWS_ERRORS as second:
            raise second from first


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _account_of(principal: str) -> str:
    """The account a principal of a trust policy belongs to: an account ID, or the account field of an ARN."""
    if principal.isdigit():
        return principal
    parts = principal.split(":")
    return parts[4] if principal.startswith("arn:") and len(parts) > 5 else principal


def who_may_assume(document: Any) -> tuple[set[str], list[str]]:
    """(accounts whose principals an Allow statement lets assume the role, what else it lets in).

    Any of ``sts:AssumeRole``, ``sts:AssumeRoleWithSAML`` and ``sts:AssumeRoleWithWebIdentity`` lets in, as does a
    wildcard that matches one (``sts:AssumeRole*``, ``sts:*``, ``*``).

    Deny statements only take away, so they are not read. An Allow with ``NotPrincipal`` or ``NotAction``, a
    ``*`` principal, a service or a federated principal is something else let in. Conditions only narrow an Allow,
    so a trusted account stays trusted whatever its conditions say (the check is about who could, not who does).
    """
    accounts: set[str] = set()
    others: list[str] = []
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in _as_list(statements):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotPrincipal" in statement:
            others.append(f"a statement with {'NotAction' if 'NotAction' in statement else 'NotPrincipal'}")
            continue
        if not any(_lets_in(str(action)) for action in _as_list(statement.get("Action", []))):
            continue
        principal = statement.get("Principal", {})
        if principal == "*":
            others.append("* (anyone)")
            continue
        for kind, values in principal.items() if isinstance(principal, dict) else []:
            for value in _as_list(values):
                if kind == "AWS" and value != "*":
                    accounts.add(_account_of(str(value)))
                else:
                    others.append(f"{kind} {value}")
    return accounts, sorted(others)


@check("ORG-MEMBER-ACCESS-ROLE", "Each member account has its access role, and it trusts only the management account")
def member_access_roles(context: CheckContext) -> Iterator[Finding]:
    organization = context.reader(LiveOrganization)
    management = context.settings.account.id
    for declared in organization.declared.accounts:
        role_name = declared.role_name
        resource = f"account:{declared.name}/role:{role_name}"
        expected = f"exists, assumable from account {management} only"
        live = organization.find_account(declared)
        if live is None:
            yield drift(resource, expected, f"account {NOT_FOUND}")
            continue
        account_id = live["Id"]
        state = live.get("State") or live.get("Status", "UNKNOWN")
        if state != "ACTIVE":  # a suspended or closing account cannot be entered; ORG-ACCOUNT drifts too
            yield drift(resource, expected, f"account {state}", detail=f"account {account_id}")
            continue
        try:
            iam = _member_session(context, account_id, role_name).client("iam")
            role = absent_if(("NoSuchEntity",), lambda iam=iam, name=role_name: iam.get_role(RoleName=name)["Role"])
        except AWS_ERRORS as error:
            # No way in (or no permission to read): the role may be missing, so the account is not verified.
            yield could_not_check(resource, expected, detail=f"account {account_id}: {describe_error(error)}")
            continue
        if role is None:
            yield drift(resource, expected, NOT_FOUND, detail=f"account {account_id}")
            continue
        document = role["AssumeRolePolicyDocument"]
        if isinstance(document, str):  # botocore decodes it; a raw answer is URL-encoded JSON
            document = json.loads(unquote(document))
        accounts, others = who_may_assume(document)
        if accounts == {management} and not others:
            actual = expected
        elif not accounts and not others:
            actual = "exists, assumable by nobody"
        else:
            actual = "exists, assumable by " + ", ".join(
                [*(f"account {account}" for account in sorted(accounts)), *others]
            )
        yield compared(resource, expected, actual, detail=f"account {account_id}")


@check("MEMBER-READ-ONLY-ROLE", "The Log Archive and Audit accounts' read-only role is what the program declares")
def member_read_only_roles(context: CheckContext) -> Iterator[Finding]:
    """components/member_read_only_role.py: trusted by the management account, sessions of at most an hour, no
    managed policy and exactly the declared allow-list (previews and verify read configuration, never data). Made
    only where the audit services are declared."""
    organization_settings = context.settings.organization
    if organization_settings is None or organization_settings.audit_services is None:
        return
    organization = context.reader(LiveOrganization)
    role_name = context.settings.member_read_only_role_name
    declared_trust = management_trust_policy(context.settings.account.id)
    declared_policies = {
        READ_ONLY_POLICY_NAME: member_read_only_policy(list(context.settings.member_read_only_bucket_arns()))
    }
    for name in (organization_settings.log_archive_account, organization_settings.audit_services.audit_account):
        resource = f"account:{name}/role:{role_name}"
        account_id = organization.account_ids.get(name)
        if account_id is None:
            yield drift(resource, "exists", f"account {NOT_FOUND}")
            continue
        iam = context.member_client(account_id, "iam")
        role = absent_if(("NoSuchEntity",), lambda iam=iam: iam.get_role(RoleName=role_name)["Role"])
        if role is None:
            yield drift(resource, "exists", NOT_FOUND, detail=f"account {account_id}")
            continue
        document = role["AssumeRolePolicyDocument"]
        if isinstance(document, str):
            document = json.loads(unquote(document))
        yield policy_compare.compared_documents(f"{resource}/Trust", "the management account", declared_trust, document)
        yield compared(
            f"{resource}/MaxSessionDuration", str(MAX_SESSION_SECONDS), str(role.get("MaxSessionDuration", "unknown"))
        )
        yield from role_policy_findings(iam, role_name, resource, declared_policies)
