"""`docustack bootstrap` against moto: it makes exactly what the StateBackend component declares, once."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from docustack import project
from docustack.bootstrap import BootstrapError, BootstrapResult, bootstrap
from docustack.cli import main
from docustack.settings import CONFIG_KEY, StackSettings, parse_settings
from docustack.state_backend_spec import StateBackendSpec

ACCOUNT = "123456789012"  # moto's default account
OTHER_ACCOUNT = "999999999999"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        # The account is in an organization (as every stack's account is); in these tests it is the management
        # account, which needs no access role. tests/test_bootstrap_provenance.py covers member accounts.
        boto3.client("organizations", region_name="us-east-1").create_organization(FeatureSet="ALL")
        yield


def dev_settings(project_dir, **account: Any) -> StackSettings:
    raw = copy.deepcopy(project.read_stack_config(project_dir, "dev")[CONFIG_KEY])
    raw["account"].update({"id": ACCOUNT, **account})
    return parse_settings(raw)


@pytest.fixture
def settings(project_dir) -> StackSettings:
    return dev_settings(project_dir)


@pytest.fixture
def spec(settings: StackSettings) -> StateBackendSpec:
    return StateBackendSpec.from_settings(settings, "dev")


def session(region: str = "us-east-1") -> boto3.Session:
    return boto3.Session(region_name=region)


def run(settings: StackSettings, region: str = "us-east-1") -> tuple[BootstrapResult, list[str]]:
    lines: list[str] = []
    return bootstrap(settings, "dev", session(region), echo=lines.append), lines


def assert_backend_is_as_declared(spec: StateBackendSpec, result: BootstrapResult) -> None:
    """Read everything back and compare with the spec the component declares too."""
    s3, kms = session().client("s3"), session().client("kms")
    bucket = spec.bucket_name
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] in (None, "us-east-1")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"] == [
        spec.encryption_rule(result.key_arn)
    ]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == spec.bucket_policy()
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == [spec.lifecycle_rule()]
    assert {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]} == spec.tags

    key = kms.describe_key(KeyId=spec.key_alias)["KeyMetadata"]
    assert (key["KeyId"], key["Arn"]) == (result.key_id, result.key_arn)
    assert (key["KeyState"], key["KeyManager"], key["KeySpec"], key["KeyUsage"]) == (
        "Enabled",
        "CUSTOMER",
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
    )
    assert key["Description"] == spec.key_description
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]) == spec.key_policy()
    assert {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]} == spec.tags
    assert result.login_url == spec.login_url(key["Arn"])
    assert result.secrets_provider == "awskms://alias/docustack-pulumi-state?region=us-east-1"


def test_fresh_account_gets_the_declared_bucket_and_key(settings: StackSettings, spec: StateBackendSpec) -> None:
    result, _ = run(settings)
    assert result.changes[0] == "create the KMS key and its alias alias/docustack-pulumi-state"
    assert f"create the bucket {spec.bucket_name} in us-east-1" in result.changes
    assert_backend_is_as_declared(spec, result)


def test_second_run_changes_nothing_and_says_so(settings: StackSettings, spec: StateBackendSpec) -> None:
    first, _ = run(settings)
    second, lines = run(settings)
    assert second.changes == ()
    assert (second.key_id, second.login_url) == (first.key_id, first.login_url)
    assert lines[-1] == (
        f"Nothing to change: {spec.bucket_name} and alias/docustack-pulumi-state already have the declared settings."
    )
    assert len(session().client("kms").list_keys()["Keys"]) == 1


def test_existing_bucket_without_a_key_is_completed(settings: StackSettings, spec: StateBackendSpec) -> None:
    s3 = session().client("s3")
    s3.create_bucket(Bucket=spec.bucket_name)
    s3.put_bucket_versioning(Bucket=spec.bucket_name, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_encryption(
        Bucket=spec.bucket_name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    result, _ = run(settings)
    assert "create the bucket" not in " ".join(result.changes)
    assert "turn on versioning" in result.changes
    assert_backend_is_as_declared(spec, result)


def test_existing_key_with_a_bare_bucket_is_completed(settings: StackSettings, spec: StateBackendSpec) -> None:
    first, _ = run(settings)
    s3 = session().client("s3")
    s3.put_bucket_versioning(Bucket=spec.bucket_name, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_public_access_block(Bucket=spec.bucket_name)
    session().client("kms").disable_key_rotation(KeyId=first.key_id)
    result, _ = run(settings)
    assert sorted(result.changes) == [
        "turn on all four Block Public Access settings",
        "turn on automatic key rotation",
        "turn on versioning",
    ]
    assert_backend_is_as_declared(spec, result)


def test_a_key_left_without_its_alias_is_found_again(settings: StackSettings, spec: StateBackendSpec) -> None:
    first, _ = run(settings)
    kms = session().client("kms")
    kms.delete_alias(AliasName=spec.key_alias)  # as if the first run had stopped before the alias
    result, _ = run(settings)
    assert result.changes == ("create the alias alias/docustack-pulumi-state",)
    assert result.key_id == first.key_id
    assert len(kms.list_keys()["Keys"]) == 1
    assert_backend_is_as_declared(spec, result)


def test_wrong_account_is_refused_naming_both(project_dir) -> None:
    settings = dev_settings(project_dir, id="216482851263")
    with pytest.raises(BootstrapError, match=r"credentials are for account 123456789012 .* account is 216482851263"):
        run(settings)
    assert session().client("s3").list_buckets()["Buckets"] == []


def test_region_outside_the_allowed_ones_is_refused(settings: StackSettings) -> None:
    with pytest.raises(
        BootstrapError, match=r"refusing to bootstrap in eu-west-1: the stack's allowed regions are us-east-1"
    ):
        run(settings, region="eu-west-1")
    assert session().client("kms").list_keys()["Keys"] == []


def test_allowed_region_other_than_the_stacks_is_refused(project_dir) -> None:
    raw = copy.deepcopy(project.read_stack_config(project_dir, "dev")[CONFIG_KEY])
    raw["account"]["id"] = ACCOUNT
    raw["allowedRegions"] = ["us-east-1", "us-west-2"]
    with pytest.raises(BootstrapError, match=r"stack 'dev' deploys to us-east-1"):
        run(parse_settings(raw), region="us-west-2")


def test_placeholder_account_is_refused(project_dir) -> None:
    with pytest.raises(BootstrapError, match=r"account.id is still the placeholder <staging-account-id>"):
        bootstrap(project.load_stack_settings(project_dir, "staging"), "staging", session(), echo=lambda _: None)


def test_bucket_name_taken_by_another_account(
    settings: StackSettings, spec: StateBackendSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
    session().client("s3").create_bucket(Bucket=spec.bucket_name)
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    with pytest.raises(BootstrapError, match=rf"the bucket name {spec.bucket_name} is taken by another AWS account"):
        run(settings)
    assert session().client("kms").list_keys()["Keys"] == []  # refused before changing anything


def test_conflicts_are_listed_and_nothing_is_changed(settings: StackSettings, spec: StateBackendSpec) -> None:
    s3 = session().client("s3")
    s3.create_bucket(Bucket=spec.bucket_name)
    other_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": spec.bucket_arn}],
    }
    s3.put_bucket_policy(Bucket=spec.bucket_name, Policy=json.dumps(other_policy))
    s3.put_bucket_lifecycle_configuration(
        Bucket=spec.bucket_name,
        LifecycleConfiguration={
            "Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]
        },
    )
    with pytest.raises(BootstrapError) as caught:
        run(settings)
    message = str(caught.value)
    assert "nothing was changed" in message
    assert "its bucket policy differs" in message and "its lifecycle rules differ" in message
    assert json.loads(s3.get_bucket_policy(Bucket=spec.bucket_name)["Policy"]) == other_policy
    assert "Status" not in s3.get_bucket_versioning(Bucket=spec.bucket_name)
    assert session().client("kms").list_keys()["Keys"] == []


def test_bucket_encrypted_with_another_key_is_a_conflict(settings: StackSettings, spec: StateBackendSpec) -> None:
    kms, s3 = session().client("kms"), session().client("s3")
    other = kms.create_key(Description="someone else's")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=spec.bucket_name)
    s3.put_bucket_encryption(
        Bucket=spec.bucket_name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": other}}]
        },
    )
    with pytest.raises(BootstrapError, match="not the state key; bootstrap does not move a bucket to another key"):
        run(settings)


def test_a_key_scheduled_for_deletion_is_refused(settings: StackSettings, spec: StateBackendSpec) -> None:
    first, _ = run(settings)
    session().client("kms").schedule_key_deletion(KeyId=first.key_id, PendingWindowInDays=7)
    with pytest.raises(BootstrapError, match=rf"key {first.key_id}: is PendingDeletion"):
        run(settings)


def test_configured_key_id_must_be_the_aliased_one(project_dir, settings: StackSettings) -> None:
    run(settings)
    raw = settings.model_dump(by_alias=True)
    raw["stateBackend"]["keyId"] = "1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(
        BootstrapError, match=r"points to key .* but docustack:settings.stateBackend.keyId names 1234abcd"
    ):
        run(parse_settings(raw))


def test_cli_prints_the_login_url_and_secrets_provider(
    project_dir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "216482851263")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    session().client("organizations").create_organization(
        FeatureSet="ALL"
    )  # member accounts: test_bootstrap_provenance
    assert main(["--project-dir", str(project_dir), "bootstrap", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    key_arn = session().client("kms").describe_key(KeyId="alias/docustack-pulumi-state")["KeyMetadata"]["Arn"]
    encoded = key_arn.replace(":", "%3A").replace("/", "%2F")
    assert (
        f"pulumi login 's3://docustack-pulumi-state-216482851263?region=us-east-1&ssetype=aws:kms&kmskeyid={encoded}'"
    ) in out
    assert "pulumi stack init dev --secrets-provider 'awskms://alias/docustack-pulumi-state?region=us-east-1'" in out
    assert main(["--project-dir", str(project_dir), "bootstrap", "--stack", "dev"]) == 0
    assert "Nothing to change" in capsys.readouterr().out


def test_cli_refusal_exits_1_without_a_traceback(
    project_dir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert main(["--project-dir", str(project_dir), "bootstrap", "--stack", "dev"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: refusing to bootstrap stack 'dev': the credentials are for account 123456789012")
    assert "Traceback" not in err


def test_an_empty_lifecycle_filter_counts_as_the_declared_one(settings: StackSettings, spec: StateBackendSpec) -> None:
    s3 = session().client("s3")
    s3.create_bucket(Bucket=spec.bucket_name)
    rule = {**spec.lifecycle_rule(), "Filter": {}}
    s3.put_bucket_lifecycle_configuration(Bucket=spec.bucket_name, LifecycleConfiguration={"Rules": [rule]})
    result, _ = run(settings)
    assert "put the lifecycle rule for noncurrent versions" not in result.changes
