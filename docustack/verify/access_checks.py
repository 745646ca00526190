"""Checks of human access (``organization.identityCenter``): the instance, the groups, each permission set's
session duration, managed policies and inline policy, and every account assignment of every live account.

An assignment nobody declared (made by hand in the console, to a group or a user, with a declared or an
undeclared permission set) is drift: access reviewed in a pull request is the only access there is. Every call
is a read of the management account's IAM Identity Center and identity store, in the instance's region.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import policies
from docustack import access
from docustack.settings import IdentityCenterSettings
from docustack.verify import policy_compare
from docustack.verify.framework import AWS_ERRORS, LOW, CheckContext, Finding, check, compared, drift
from docustack.verify.organization_checks import NOT_FOUND, LiveOrganization


class LiveIdentityCenter:
    """The instance's permission sets and the store's groups, read on demand and cached for the run."""

    def __init__(self, context: CheckContext) -> None:
        organization = context.settings.organization
        assert organization is not None and organization.identity_center is not None
        self.context = context
        self.declared: IdentityCenterSettings = organization.identity_center
        region = access.instance_region(context.settings)
        self.sso = context.client("sso-admin", region)
        self.store = context.client("identitystore", region)
        self.instance_arn = self.declared.instance_arn

    def read_all(self, client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
        pages = client.get_paginator(operation).paginate(**kwargs)
        return [item for page in pages for item in page[key]]

    @cached_property
    def permission_sets(self) -> dict[str, dict[str, Any]]:
        """Every permission set of the instance, declared or not, by name."""
        found = {}
        for arn in self.read_all(self.sso, "list_permission_sets", "PermissionSets", InstanceArn=self.instance_arn):
            described = self.sso.describe_permission_set(InstanceArn=self.instance_arn, PermissionSetArn=arn)
            found[described["PermissionSet"]["Name"]] = described["PermissionSet"]
        return found

    @cached_property
    def group_ids(self) -> dict[str, str]:
        """Declared group name -> live group ID, for the groups the store has."""
        found = {}
        for group in self.declared.groups:
            try:
                answer = self.store.get_group_id(
                    IdentityStoreId=self.declared.identity_store_id,
                    AlternateIdentifier={
                        "UniqueAttribute": {"AttributePath": "DisplayName", "AttributeValue": group.display_name}
                    },
                )
            except AWS_ERRORS as error:
                if _code(error) != "ResourceNotFoundException":
                    raise
                continue
            found[group.name] = answer["GroupId"]
        return found


def _code(error: Exception) -> str:
    response = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _live(context: CheckContext) -> LiveIdentityCenter | None:
    organization = context.settings.organization
    if organization is None or organization.identity_center is None:
        return None
    return context.reader(LiveIdentityCenter)


@check("ACCESS-INSTANCE", "The declared IAM Identity Center instance exists with the declared identity store")
def instance(context: CheckContext) -> Iterator[Finding]:
    live = _live(context)
    if live is None:
        return
    instances = live.read_all(live.sso, "list_instances", "Instances")
    found = next((entry for entry in instances if entry["InstanceArn"] == live.instance_arn), None)
    actual = f"identity store {found['IdentityStoreId']}" if found else NOT_FOUND
    yield compared(f"identity-center:{live.instance_arn}", f"identity store {live.declared.identity_store_id}", actual)


@check("ACCESS-GROUPS", "Each declared group exists in the identity store, found by display name")
def groups(context: CheckContext) -> Iterator[Finding]:
    live = _live(context)
    if live is None:
        return
    for group in live.declared.groups:
        group_id = live.group_ids.get(group.name)
        yield compared(f"group:{group.name}", "exists", "exists" if group_id else NOT_FOUND, detail=group_id or "")


@check(
    "ACCESS-PERMISSION-SETS",
    "Each permission set has its declared session, managed policies and inline policy, and no customer managed policy",
)
def permission_sets(context: CheckContext) -> Iterator[Finding]:
    live = _live(context)
    if live is None:
        return
    variables = context.settings.policy_variables()
    for declared in live.declared.permission_sets:
        resource = f"permission-set:{declared.name}"
        found = live.permission_sets.get(declared.name)
        if found is None:
            yield drift(resource, "exists", NOT_FOUND)
            continue
        arn = found["PermissionSetArn"]
        yield compared(
            f"{resource}/SessionDuration", access.session_duration(declared), found.get("SessionDuration", "")
        )
        attached = live.read_all(
            live.sso,
            "list_managed_policies_in_permission_set",
            "AttachedManagedPolicies",
            InstanceArn=live.instance_arn,
            PermissionSetArn=arn,
        )
        yield compared(
            f"{resource}/ManagedPolicies",
            ", ".join(sorted(declared.managed_policy_arns)) or "none",
            ", ".join(sorted(policy["Arn"] for policy in attached)) or "none",
        )
        # The settings admit no customer managed policy (docustack.settings, AWS_MANAGED_POLICY_ARN): one attached
        # by hand grants whatever the policy of that name says in each account the set is provisioned to
        # (https://docs.aws.amazon.com/singlesignon/latest/userguide/howtocmp.html), so any is drift.
        references = live.read_all(
            live.sso,
            "list_customer_managed_policy_references_in_permission_set",
            "CustomerManagedPolicyReferences",
            InstanceArn=live.instance_arn,
            PermissionSetArn=arn,
        )
        yield compared(
            f"{resource}/CustomerManagedPolicies",
            "none",
            ", ".join(sorted(f"{ref.get('Path') or '/'}{ref['Name']}" for ref in references)) or "none",
        )
        expected = access.inline_policy(declared, policy_dir=context.policy_dir, variables=variables)
        text = live.sso.get_inline_policy_for_permission_set(InstanceArn=live.instance_arn, PermissionSetArn=arn).get(
            "InlinePolicy", ""
        )
        if expected is None or not text:
            yield compared(
                f"{resource}/InlinePolicy",
                "an inline policy" if expected else "none",
                "an inline policy" if text else "none",
            )
            continue
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            yield drift(f"{resource}/InlinePolicy", "the declared document", "not JSON", detail=arn)
            continue
        yield policy_compare.compared_documents(
            f"{resource}/InlinePolicy", "the declared document", json.loads(policies.minify(expected)), document
        )


@check("ACCESS-ASSIGNMENTS", "Every account has exactly the declared assignments; one made by hand is drift")
def assignments(context: CheckContext) -> Iterator[Finding]:
    live = _live(context)
    if live is None:
        return
    organization = context.reader(LiveOrganization)
    management = context.settings.account
    names = {account_id: name for name, account_id in organization.account_ids.items()}
    names[management.id] = management.name
    group_names = {group_id: name for name, group_id in live.group_ids.items()}
    set_names = {found["PermissionSetArn"]: name for name, found in live.permission_sets.items()}

    expected = {(grant.account, grant.group, grant.permission_set) for grant in access.expand(context.settings)}
    seen: set[tuple[str, str, str]] = set()
    for account in organization.accounts:
        account_name: str = names.get(account["Id"]) or account["Id"]
        for arn, set_name in sorted(set_names.items(), key=lambda item: item[1]):
            for entry in live.read_all(
                live.sso,
                "list_account_assignments",
                "AccountAssignments",
                InstanceArn=live.instance_arn,
                AccountId=account["Id"],
                PermissionSetArn=arn,
            ):
                principal = entry["PrincipalId"]
                is_group = entry["PrincipalType"] == "GROUP"
                holder = group_names.get(principal, f"group {principal}") if is_group else f"user {principal}"
                key = (account_name, holder, set_name)
                seen.add(key)
                if key not in expected:
                    yield drift(
                        f"account:{account_name}",
                        "not declared",
                        f"{holder} holds {set_name}",
                        detail="an assignment the settings do not make (made by hand?)",
                    )
    for account_name, group, set_name in sorted(expected):
        actual = f"{group} holds {set_name}" if (account_name, group, set_name) in seen else NOT_FOUND
        yield compared(f"account:{account_name}", f"{group} holds {set_name}", actual)
    # Accounts the settings declare but the organization lacks are reported by ORG-ACCOUNT; their access cannot be.
    for account_name in sorted({grant[0] for grant in expected} - set(names.values())):
        yield drift(f"account:{account_name}", "its declared assignments", "account not found", severity=LOW)
