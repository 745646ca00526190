"""`docustack bootstrap` adopts only what is provably its own, names what it leaves behind, pins the bucket's
owner, and makes sure the management account can still reach an invited account after the guardrails."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.organizations.models import organizations_backends

from docustack import project
from docustack.bootstrap import (
    ADMINISTRATOR_ACCESS,
    BootstrapError,
    BootstrapResult,
    access_role_trust_policy,
    bootstrap,
)
from docustack.cli import main
from docustack.settings import CONFIG_KEY, StackSettings, parse_settings
from docustack.state_backend_spec import StateBackendSpec
from policies import minify

MANAGEMENT = "348665872333"  # Pulumi.management.yaml
MEMBER = "216482851263"  # Pulumi.dev.yaml
STRANGER = "999999999999"
ROLE = "OrganizationAccountAccessRole"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_REGION", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # AdministratorAccess must exist to be attached: moto loads AWS managed policies only when asked.
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield
    # moto keeps "which organization is this member account in" outside the backends it resets: forget it.
    organizations_backends.master_accounts.pop(MEMBER, None)


def organization_with_member(monkeypatch: pytest.MonkeyPatch, *, invited: bool) -> None:
    """The management account's organization with the dev account in it; afterwards the credentials are the dev
    account's. An invited account has no access role (Organizations makes it only in accounts it creates)."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    monkeypatch.setattr("moto.organizations.utils.make_random_account_id", lambda: MEMBER)
    organizations.create_account(AccountName="dev", Email="dev@example.com")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", MEMBER)
    if invited:
        boto3.client("iam").delete_role(RoleName=ROLE)


def stack_settings(project_dir: Path, stack: str, account_id: str) -> StackSettings:
    raw = copy.deepcopy(project.read_stack_config(project_dir, stack)[CONFIG_KEY])
    raw["account"]["id"] = account_id
    return parse_settings(raw, policy_dir=project_dir / "policies")


@pytest.fixture
def dev(project_dir: Path) -> StackSettings:
    return stack_settings(project_dir, "dev", MEMBER)


@pytest.fixture
def management(project_dir: Path) -> StackSettings:
    return stack_settings(project_dir, "management", MANAGEMENT)


@pytest.fixture
def spec(dev: StackSettings) -> StateBackendSpec:
    return StateBackendSpec.from_settings(dev, "dev")


def run(
    settings: StackSettings, management: StackSettings | None = None, session: boto3.Session | None = None
) -> tuple[BootstrapResult, list[str]]:
    lines: list[str] = []
    result = bootstrap(
        settings, "dev", session or boto3.Session(region_name="us-east-1"), lines.append, management=management
    )
    return result, lines


# ---- the key: adopted only when provably ours


def test_an_alias_on_a_key_bootstrap_did_not_make_is_refused(
    monkeypatch: pytest.MonkeyPatch, dev: StackSettings, spec: StateBackendSpec
) -> None:
    organization_with_member(monkeypatch, invited=False)
    kms = boto3.client("kms")
    foreign = kms.create_key(Description="the payroll key", Policy=minify(spec.key_policy()))["KeyMetadata"]
    kms.create_alias(AliasName=spec.key_alias, TargetKeyId=foreign["KeyId"])
    with pytest.raises(BootstrapError) as caught:
        run(dev)
    message = str(caught.value)
    assert f"key {foreign['KeyId']} is therefore not provably this stack's state key" in message
    assert "its description is 'the payroll key'" in message
    assert "does not carry the tags bootstrap gives the state key" in message
    assert "nothing was changed" in message
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    assert boto3.client("iam").list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []


def test_a_configured_key_with_the_right_looks_but_another_policy_is_refused(
    monkeypatch: pytest.MonkeyPatch, project_dir: Path, spec: StateBackendSpec
) -> None:
    organization_with_member(monkeypatch, invited=False)
    policy = copy.deepcopy(spec.key_policy())
    policy["Statement"].append(
        {
            "Sid": "Outsider",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{STRANGER}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    key = boto3.client("kms").create_key(
        Description=spec.key_description,
        Policy=json.dumps(policy),
        Tags=[{"TagKey": k, "TagValue": v} for k, v in spec.tags.items()],
    )["KeyMetadata"]
    raw = copy.deepcopy(project.read_stack_config(project_dir, "dev")[CONFIG_KEY])
    raw["account"]["id"] = MEMBER
    raw["stateBackend"]["keyId"] = key["KeyId"]
    with pytest.raises(BootstrapError, match=rf"key {key['KeyId']}: its key policy differs from the declared one"):
        run(parse_settings(raw))
    assert boto3.client("kms").list_aliases(KeyId=key["KeyId"])["Aliases"] == []


def test_losing_the_alias_race_schedules_this_runs_key_for_deletion_and_names_it(
    monkeypatch: pytest.MonkeyPatch, dev: StackSettings, spec: StateBackendSpec
) -> None:
    organization_with_member(monkeypatch, invited=False)
    late = boto3.Session(region_name="us-east-1")
    other_run: list[BootstrapResult] = []

    def the_other_run_finishes_first(**_: Any) -> None:
        # This run has looked (no key, no alias) and is about to create its key: a concurrent run does it all now.
        if not other_run:
            other_run.append(run(dev)[0])

    late.events.register("before-call.kms.CreateKey", the_other_run_finishes_first)
    result, lines = run(dev, session=late)

    winner = other_run[0].key_id
    kms = boto3.client("kms")
    assert result.key_id == winner
    assert kms.describe_key(KeyId=spec.key_alias)["KeyMetadata"]["KeyId"] == winner
    keys = {k["KeyId"]: kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] for k in kms.list_keys()["Keys"]}
    loser = next(key_id for key_id in keys if key_id != winner)
    assert keys == {winner: "Enabled", loser: "PendingDeletion"}
    assert any(loser in line and "scheduled for deletion in 30 days" in line for line in lines)
    rule = boto3.client("s3").get_bucket_encryption(Bucket=spec.bucket_name)["ServerSideEncryptionConfiguration"]
    assert rule["Rules"][0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == other_run[0].key_arn


def test_a_look_alike_key_left_by_a_killed_run_is_named(
    monkeypatch: pytest.MonkeyPatch, dev: StackSettings, spec: StateBackendSpec
) -> None:
    organization_with_member(monkeypatch, invited=False)
    first, _ = run(dev)
    leftover = boto3.client("kms").create_key(
        Description=spec.key_description,
        Policy=minify(spec.key_policy()),
        Tags=[{"TagKey": k, "TagValue": v} for k, v in spec.tags.items()],
    )["KeyMetadata"]["KeyId"]
    second, lines = run(dev)
    assert second.key_id == first.key_id
    assert any(leftover in line and "aws kms schedule-key-deletion" in line for line in lines)


# ---- the bucket: every call names its owner


def test_every_bucket_call_expects_the_stacks_account_as_owner(
    monkeypatch: pytest.MonkeyPatch, dev: StackSettings, spec: StateBackendSpec
) -> None:
    organization_with_member(monkeypatch, invited=False)
    session = boto3.Session(region_name="us-east-1")
    calls: list[tuple[str, str | None]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params.get("ExpectedBucketOwner")))

    session.events.register("before-parameter-build.s3", record)
    run(dev, session=session)
    run(dev, session=session)
    named = [(name, owner) for name, owner in calls if name not in ("ListBuckets", "CreateBucket")]
    assert {name for name, _ in named} >= {"GetBucketEncryption", "PutBucketPolicy", "PutBucketEncryption"}
    assert all(owner == MEMBER for _, owner in named), named


# ---- the management account's access role in an account stack's account


def test_an_invited_account_gets_the_access_role_trusting_only_the_management_account(
    monkeypatch: pytest.MonkeyPatch, dev: StackSettings, management: StackSettings
) -> None:
    organization_with_member(monkeypatch, invited=True)
    result, _ = run(dev, management)
    assert f"create the role {ROLE} (AdministratorAccess, trusted only by the management account {MANAGEMENT})" in (
        result.changes
    )
    iam = boto3.client("iam")
    assert iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"] == access_role_trust_policy(MANAGEMENT)
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]] == [
        ADMINISTRATOR_ACCESS
    ]
    again, lines = run(dev, management)
    assert again.changes == ()
    assert not any("not checked against them" in line for line in lines)
    _, unchecked = run(dev)
    assert any(
        f"management account {MANAGEMENT} that DescribeOrganization names is not checked" in line for line in unchecked
    )


def test_a_created_accounts_role_is_kept_and_given_administrator_access(
    monkeypatch: pytest.MonkeyPatch, dev: StackSettings, management: StackSettings
) -> None:
    organization_with_member(monkeypatch, invited=False)
    result, _ = run(dev, management)
    assert f"attach AdministratorAccess to the role {ROLE}" in result.changes
    assert not any("create the role" in change for change in result.changes)


def test_an_access_role_trusting_anyone_else_is_refused(
    monkeypatch: pytest.MonkeyPatch, dev: StackSettings, management: StackSettings
) -> None:
    organization_with_member(monkeypatch, invited=True)
    trust = access_role_trust_policy(MANAGEMENT)
    trust["Statement"][0]["Principal"]["AWS"] = [f"arn:aws:iam::{MANAGEMENT}:root", f"arn:aws:iam::{STRANGER}:root"]
    boto3.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    with pytest.raises(BootstrapError) as caught:
        run(dev, management)
    message = str(caught.value)
    assert f"role {ROLE}: trusts arn:aws:iam::{STRANGER}:root, not only the management account {MANAGEMENT}" in message
    assert "nothing was changed" in message
    assert boto3.client("s3").list_buckets()["Buckets"] == []


def test_a_management_account_other_than_the_settings_say_is_refused(
    monkeypatch: pytest.MonkeyPatch, project_dir: Path, dev: StackSettings
) -> None:
    organization_with_member(monkeypatch, invited=True)
    elsewhere = stack_settings(project_dir, "management", "111122223333")
    with pytest.raises(BootstrapError, match=rf"management account is {MANAGEMENT}, but .* name 111122223333"):
        run(dev, elsewhere)
    assert ROLE not in [role["RoleName"] for role in boto3.client("iam").list_roles()["Roles"]]


def test_cli_bootstrap_of_an_invited_account_makes_the_role(
    monkeypatch: pytest.MonkeyPatch, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    organization_with_member(monkeypatch, invited=True)
    assert main(["--project-dir", str(project_dir), "bootstrap", "--stack", "dev"]) == 0
    assert f"+ create the role {ROLE}" in capsys.readouterr().out
    trust = boto3.client("iam").get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust == access_role_trust_policy(MANAGEMENT)


def test_outside_an_organization_the_role_is_not_guessed_and_that_is_said(
    dev: StackSettings, management: StackSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", MEMBER)
    result, lines = run(dev, management)
    assert not any("role" in change for change in result.changes)
    assert any("not a member of an organization yet" in line and "run bootstrap again" in line for line in lines)
    assert ROLE not in [role["RoleName"] for role in boto3.client("iam").list_roles()["Roles"]]
