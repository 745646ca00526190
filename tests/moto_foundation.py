"""A live organization in moto, built from the same settings the program deploys, for the verify tests.

:func:`build_foundation` reads ``Pulumi.management.yaml`` through ``project.load_stack_settings``, creates
the organization, OUs, accounts and SCPs it declares (SCPs rendered with ``policies.render_file``, as the
program does) and fills the placeholders with what moto assigned. Declared account IDs, dev's real one
included, become moto's: moto cannot create an account with a chosen ID.

The operator signs in as an IAM user of the management account (348665872333), not through
``MOTO_ACCOUNT_ID``: that variable pins every request to one account, assumed-role sessions in member
accounts included, while an access key keeps each session in its own account as AWS does.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.client import BaseClient
from botocore.exceptions import ClientError

import policies
from docustack import project
from docustack.settings import CONFIG_KEY, ROOT_TARGET, StackSettings, iter_ous, parse_settings

MANAGEMENT_ACCOUNT_ID = "348665872333"
REGION = "us-east-1"


def sign_in(monkeypatch: pytest.MonkeyPatch, account_id: str) -> None:
    """Make the default credentials those of an IAM user in ``account_id`` (moto must be active)."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account_id)
    iam = boto3.Session(region_name=REGION).client("iam")
    iam.create_user(UserName="operator")
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])


@dataclass
class LiveFoundation:
    settings: StackSettings  # the management settings, placeholders filled with moto's values
    raw: dict[str, Any]  # the same, as the docustack:settings value of a stack file
    organizations: Any  # an unguarded client, for tampering
    root_id: str
    ou_ids: dict[str, str]
    account_ids: dict[str, str]
    policy_ids: dict[str, str]

    def target_id(self, label: str) -> str:
        if label == ROOT_TARGET:
            return self.root_id
        kind, _, name = label.partition(":")
        return self.ou_ids[name] if kind == "ou" else self.account_ids[name]


def _filled(value: str, replacement: str) -> str:
    return replacement if value.startswith("<") else value


def build_foundation(project_dir: Path) -> LiveFoundation:
    declared = project.load_stack_settings(project_dir, "management")
    organization = declared.organization
    assert organization is not None
    # A fresh session: boto3's default one keeps the credentials it first saw.
    client = boto3.Session(region_name=declared.account.region).client("organizations")
    organization_id = client.create_organization(FeatureSet=organization.feature_set)["Organization"]["Id"]
    root_id = client.list_roots()["Roots"][0]["Id"]
    for policy_type in organization.enabled_policy_types:
        client.enable_policy_type(RootId=root_id, PolicyType=policy_type)
    for principal in organization.service_access_principals:
        client.enable_aws_service_access(ServicePrincipal=principal)
    ou_ids: dict[str, str] = {}
    for node in iter_ous(organization):
        parent = ou_ids[node.parent_path] if node.parent_path else root_id
        ou_ids[node.path] = client.create_organizational_unit(ParentId=parent, Name=node.name)["OrganizationalUnit"][
            "Id"
        ]

    raw = declared.model_dump(by_alias=True, exclude_none=True)
    raw["organization"]["importId"] = organization_id
    account_ids: dict[str, str] = {}
    for entry in raw["organization"]["accounts"]:
        name = entry["name"]
        entry["email"] = _filled(entry["email"], f"aws+{name}@docustack.example")
        entry["accountName"] = _filled(entry.get("accountName", name), f"DocuStack {name.title()}")
        status = client.create_account(AccountName=entry["accountName"], Email=entry["email"])["CreateAccountStatus"]
        account_ids[name] = status["AccountId"]
        client.move_account(
            AccountId=account_ids[name], SourceParentId=root_id, DestinationParentId=ou_ids[entry["ou"]]
        )
        if "id" in entry:  # accounts the settings adopt by ID; the others are found by email, as in a first `up`
            entry["id"] = account_ids[name]
    # What the management stack's first `up` and bootstrap would make known.
    raw["stateBackend"]["keyId"] = _filled(
        raw["stateBackend"].get("keyId", "<>"), "1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    raw["ci"]["repository"] = _filled(raw["ci"]["repository"], "docustack/aws-foundation")
    settings = parse_settings(raw, source="moto")
    assert not settings.placeholders(), settings.placeholders()

    foundation = LiveFoundation(settings, raw, client, root_id, ou_ids, account_ids, {})
    variables = settings.policy_variables()
    for scp in settings.organization.service_control_policies:  # type: ignore[union-attr]
        created = client.create_policy(
            Name=scp.name,
            Description=scp.description,
            Type="SERVICE_CONTROL_POLICY",
            Content=policies.render_file(scp.file, variables),
        )
        policy_id = created["Policy"]["PolicySummary"]["Id"]
        foundation.policy_ids[scp.name] = policy_id
        for target in scp.targets:
            client.attach_policy(PolicyId=policy_id, TargetId=foundation.target_id(target))
    return foundation


def write_project(source_dir: Path, into: Path, stack: str, raw_settings: dict[str, Any]) -> None:
    """A copy of the project whose ``Pulumi.<stack>.yaml`` holds ``raw_settings``."""
    shutil.copy(source_dir / "Pulumi.yaml", into / "Pulumi.yaml")
    shutil.copytree(source_dir / "policies", into / "policies", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    document = {"config": {CONFIG_KEY: raw_settings}}
    (into / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def _patch_api(monkeypatch: pytest.MonkeyPatch, operation: str, replace: Callable[[Any, str, dict], Any]) -> None:
    original = BaseClient._make_api_call

    def patched(self: BaseClient, operation_name: str, params: dict) -> Any:
        if operation_name == operation:
            return replace(lambda: original(self, operation_name, params), operation_name, params)
        return original(self, operation_name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", patched)


def deny(monkeypatch: pytest.MonkeyPatch, operation: str, code: str = "AccessDeniedException") -> None:
    """Every later ``operation`` call fails as an IAM denial would."""

    def refuse(_call: Callable[[], Any], operation_name: str, _params: dict) -> Any:
        message = f"User is not authorized to perform: organizations:{operation_name}"
        raise ClientError({"Error": {"Code": code, "Message": message}}, operation_name)

    _patch_api(monkeypatch, operation, refuse)


def edit_answer(monkeypatch: pytest.MonkeyPatch, operation: str, edit: Callable[[dict], None]) -> None:
    """Later ``operation`` calls answer with ``edit`` applied: for states no moto (or AWS) API can produce."""

    def answer(call: Callable[[], Any], _operation_name: str, _params: dict) -> Any:
        response = call()
        edit(response)
        return response

    _patch_api(monkeypatch, operation, answer)
