"""Checks of what every stack lays down in its own account (components/account_baseline.py): the state bucket and
key, account-level S3 Block Public Access, the GitHub OIDC provider, the CI roles' trust policies and the read-only
CI role's policies (no managed policy, exactly the allow-list the component declares).

The expected values come from where the program takes them: :mod:`docustack.state_backend_spec` for the state
backend, the policy builders of :mod:`components.github_ci_roles` for the trust and read-only policies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cached_property
from typing import Any
from urllib.parse import unquote

from components.github_ci_roles import (
    GITHUB_OIDC_HOST,
    STS_AUDIENCE,
    assume_member_read_only_policy,
    deploy_trust_policy,
    github_oidc_provider_arn,
    preview_read_only_policy,
    preview_trust_policy,
)
from docustack.bucket_state import absent_if
from docustack.state_backend_spec import (
    KEY_ROTATION_ENABLED,
    KEY_SPEC,
    KEY_USAGE,
    PUBLIC_ACCESS_BLOCK,
    StateBackendSpec,
)
from docustack.verify.buckets import (
    NOT_FOUND,
    compared_lifecycle,
    on_off,
    private_bucket_findings,
    public_access_text,
    read_live_bucket,
)
from docustack.verify.framework import ACCOUNT, MANAGEMENT, CheckContext, Finding, check, compared, drift
from docustack.verify.policy_compare import compared_documents

EVERY_STACK = (MANAGEMENT, ACCOUNT)


class LiveStateBackend:
    """The stack's state key, found by its alias, and the ARN the bucket must encrypt with."""

    def __init__(self, context: CheckContext) -> None:
        self.context = context
        self.spec = StateBackendSpec.from_settings(context.settings, context.stack)
        self.kms = context.client("kms")
        self.declared_key_id = context.settings.state_backend.key_id

    @cached_property
    def key(self) -> dict[str, Any] | None:
        """The key behind the alias; None if there is no such alias."""
        return absent_if(
            ("NotFoundException",), lambda: self.kms.describe_key(KeyId=self.spec.key_alias)["KeyMetadata"]
        )

    @property
    def key_arn(self) -> str:
        """The declared key (``stateBackend.keyId``, which the stack adopts), else the key behind the alias."""
        if self.declared_key_id:
            caller = self.context.caller
            return f"arn:{caller.partition}:kms:{self.spec.region}:{self.spec.account_id}:key/{self.declared_key_id}"
        return self.key["Arn"] if self.key else f"the key of {self.spec.key_alias} ({NOT_FOUND})"


@check(
    "STATE-BUCKET", "The state bucket is versioned, private, SSE-KMS with the state key, TLS-only", kinds=EVERY_STACK
)
def state_bucket(context: CheckContext) -> Iterator[Finding]:
    backend = context.reader(LiveStateBackend)
    spec = backend.spec
    resource = f"bucket:{spec.bucket_name}"
    state = read_live_bucket(context.client("s3"), spec.bucket_name)
    if state is None:
        yield drift(resource, "exists", NOT_FOUND)
        return
    yield from private_bucket_findings(resource, state, backend.key_arn)
    yield compared_documents(f"{resource}/Policy", "the TLS-only statement", spec.bucket_policy(), state.policy)
    yield compared_lifecycle(resource, [spec.lifecycle_rule()], state.lifecycle_rules)


@check(
    "STATE-KEY",
    "The state key is a customer managed key of the declared policy, enabled, rotating, and its alias points at it",
    kinds=EVERY_STACK,
)
def state_key(context: CheckContext) -> Iterator[Finding]:
    backend = context.reader(LiveStateBackend)
    resource = f"key:{backend.spec.key_alias}"
    key = backend.key
    if key is None:
        yield drift(resource, f"alias of key {backend.declared_key_id or 'the state key'}", NOT_FOUND)
        return
    if backend.declared_key_id:
        yield compared(f"{resource}/Target", backend.declared_key_id, key["KeyId"])
    yield compared(f"{resource}/State", "Enabled", key["KeyState"])
    rotation = backend.kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    yield compared(f"{resource}/Rotation", on_off(KEY_ROTATION_ENABLED), on_off(rotation))
    yield compared(f"{resource}/KeyManager", "CUSTOMER", key.get("KeyManager", "unknown"))
    yield compared(f"{resource}/KeySpec", KEY_SPEC, key.get("KeySpec") or key.get("CustomerMasterKeySpec", "unknown"))
    yield compared(f"{resource}/KeyUsage", KEY_USAGE, key.get("KeyUsage", "unknown"))
    # A policy widened to another account would let its principals read this account's state and secrets.
    live_policy = json.loads(backend.kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    yield compared_documents(f"{resource}/Policy", "KMS's default key policy", backend.spec.key_policy(), live_policy)


@check("ACCOUNT-PUBLIC-ACCESS-BLOCK", "Account-level S3 Block Public Access has all four flags on", kinds=EVERY_STACK)
def account_public_access_block(context: CheckContext) -> Iterator[Finding]:
    account = context.settings.account
    live = absent_if(
        ("NoSuchPublicAccessBlockConfiguration",),
        lambda: context.client("s3control").get_public_access_block(AccountId=account.id),
    )
    config = live["PublicAccessBlockConfiguration"] if live else None
    yield compared(f"account:{account.name}", public_access_text(PUBLIC_ACCESS_BLOCK), public_access_text(config))


@check("CI-OIDC-PROVIDER", "GitHub's OIDC provider exists with the STS audience as client ID", kinds=EVERY_STACK)
def oidc_provider(context: CheckContext) -> Iterator[Finding]:
    arn = github_oidc_provider_arn(context.settings.account.id)
    provider = absent_if(
        ("NoSuchEntity",),
        lambda: context.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn),
    )
    resource = f"oidc-provider:{GITHUB_OIDC_HOST}"
    if provider is None:
        yield drift(resource, f"client ID {STS_AUDIENCE}", NOT_FOUND, detail=arn)
        return
    client_ids = ", ".join(sorted(provider.get("ClientIDList", []))) or "none"
    yield compared(resource, f"client ID {STS_AUDIENCE}", f"client ID {client_ids}", detail=arn)


def _subjects(document: Any) -> list[str]:
    """Every ``sub`` a trust policy's conditions name, whatever the operator (a StringLike shows up too)."""
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    found: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        for operator, keys in (statement.get("Condition") or {}).items():
            for key, value in keys.items():
                if key == f"{GITHUB_OIDC_HOST}:sub":
                    found += [f"{operator} {item}" for item in (value if isinstance(value, list) else [value])]
    return sorted(found)


@check(
    "CI-ROLE-TRUST",
    "The CI roles trust exactly the declared repository's subjects (name or immutable-ID form) and audience",
    kinds=EVERY_STACK,
)
def ci_role_trust(context: CheckContext) -> Iterator[Finding]:
    settings = context.settings
    ci = settings.ci
    provider_arn = github_oidc_provider_arn(settings.account.id)
    # The subject prefix the settings declare: GitHub's immutable-ID form (ci.subjectPrefix, or ci.ownerId and
    # ci.repositoryId) or the name form. A role still trusting the other form shows up as drift, live sub named.
    prefix = ci.oidc_subject_prefix()
    declared = {
        settings.preview_role_name: preview_trust_policy(provider_arn, prefix, ci.verify_branch),
        settings.deploy_role_name: deploy_trust_policy(provider_arn, prefix, ci.deploy_environment, ci.deploy_branch),
    }
    iam = context.client("iam")
    for role_name, document in declared.items():
        expected = f"web identity from {GITHUB_OIDC_HOST}: {', '.join(_subjects(document))}"
        role = absent_if(("NoSuchEntity",), lambda name=role_name: iam.get_role(RoleName=name)["Role"])
        if role is None:
            yield drift(f"role:{role_name}", expected, NOT_FOUND)
            continue
        live = role["AssumeRolePolicyDocument"]
        if isinstance(live, str):  # botocore decodes it; a raw answer is URL-encoded JSON
            live = json.loads(unquote(live))
        subjects = ", ".join(_subjects(live)) or "none"
        yield compared_documents(
            f"role:{role_name}",
            expected,
            document,
            live,
            detail=[f"live sub: {subjects}", f"declared subject prefix: {prefix}"],
        )


def _inline_policy(iam: Any, role_name: str, policy_name: str) -> Any:
    """A role's inline policy document, decoded; None if the role has no policy of that name."""
    answer = absent_if(("NoSuchEntity",), lambda: iam.get_role_policy(RoleName=role_name, PolicyName=policy_name))
    if answer is None:
        return None
    document = answer["PolicyDocument"]
    return json.loads(unquote(document)) if isinstance(document, str) else document


@check(
    "CI-ROLE-READ-ONLY",
    "The read-only CI role has no managed policy and exactly its declared allow-list, so it reads no data",
    kinds=EVERY_STACK,
)
def ci_role_read_only(context: CheckContext) -> Iterator[Finding]:
    settings = context.settings
    role_name = settings.preview_role_name
    resource = f"role:{role_name}"
    backend = context.reader(LiveStateBackend)
    bucket_arn = f"arn:{context.caller.partition}:s3:::{backend.spec.bucket_name}"
    declared = {
        "read-only": preview_read_only_policy(
            "management" if settings.is_management else "account", bucket_arn, backend.key_arn
        )
    }
    if settings.is_management:
        declared["assume-member-read-only"] = assume_member_read_only_policy(
            f"arn:aws:iam::*:role/{settings.member_read_only_role_name}"
        )
    yield from role_policy_findings(context.client("iam"), role_name, resource, declared)


def role_policy_findings(iam: Any, role_name: str, resource: str, declared: dict[str, Any]) -> Iterator[Finding]:
    """A read-only role's permissions: no managed policy (ReadOnlyAccess, ViewOnlyAccess and SecurityAudit all
    read data), exactly the declared inline policies, each meaning its declared allow-list."""
    attached = absent_if(
        ("NoSuchEntity",),
        lambda: [
            policy["PolicyArn"]
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
            for policy in page["AttachedPolicies"]
        ],
    )
    if attached is None:
        yield drift(resource, "the read-only allow-list", NOT_FOUND)
        return
    yield compared(f"{resource}/ManagedPolicies", "none", ", ".join(sorted(attached)) or "none")
    names = [
        name
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name)
        for name in page["PolicyNames"]
    ]
    yield compared(f"{resource}/InlinePolicies", ", ".join(sorted(declared)), ", ".join(sorted(names)) or "none")
    for policy_name, document in declared.items():
        live = _inline_policy(iam, role_name, policy_name) if policy_name in names else None
        yield compared_documents(
            f"{resource}/{policy_name}", "the declared policy (components/ci_read_permissions.py)", document, live
        )
