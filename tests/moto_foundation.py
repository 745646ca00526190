"""A live organization in moto, built from the same settings the program deploys, for the verify tests.

:func:`build_foundation` reads ``Pulumi.management.yaml`` through ``project.load_stack_settings``, creates
the organization, OUs, accounts and SCPs it declares (SCPs rendered with ``policies.render_file``, as the
program does) and fills the placeholders with what moto assigned. Declared account IDs, dev's real one
included, become moto's: moto cannot create an account with a chosen ID. It then lays down the audit services
(:func:`build_audit_services`) and the management account's own baseline (:func:`build_account_baseline`) with
the same builders and constants the components declare them from. :func:`build_account_stack` does the
baseline and Config recording of an account stack (dev) in its own account.

moto gaps, filled here so that the compliant foundation is compliant (each tampering test that needs one says so):
- moto refuses ``config.amazonaws.com`` as a delegated-administrator principal (AWS accepts it): it is added to
  moto's list of supported principals;
- moto has no GuardDuty ``DescribeOrganizationConfiguration`` (nor an update): the answer is what the program
  declares (``AUTO_ENABLE_ORGANIZATION_MEMBERS``), edited by the tests that tamper with it;
- moto has no Security Hub ``ListOrganizationAdminAccounts``: the answer is the designation the foundation made;
- moto (5.2) knows no ``DECLARATIVE_POLICY_EC2`` policy type (AWS has had it since December 2024): it is added to
  the types moto's root and policies accept, so enabling the type, creating, attaching, listing and describing
  the EC2 declarative policy are real moto calls, and ec2.amazonaws.com to the service principals moto accepts for
  trusted access. moto checks no policy content of any management type.
- moto's IAM Identity Center instance has an identity store ID of letters, which AWS's pattern refuses: it is given
  one of hexadecimal digits.
- moto 5.2.5 does not know the ``S3_POLICY`` policy type (AWS has it since 2025-11): it is added the same way;
- moto's CloudFormation needs extras this project does not install, so the baseline StackSet is answered as the
  program declares it (``DescribeStackSet``, ``ListStackInstances``: every member account CURRENT in every allowed
  region), and each member account's recorder, which the StackSet would make, is made directly in moto; so is the
  member read-only StackSet (every member account but the Log Archive and Audit accounts CURRENT in the home
  region), and the ``<prefix>-readonly`` role it would make in each of those accounts;
- moto has budgets but no ``DescribeSubscribersForNotification`` (answered from moto's own budget data) and no Cost
  Explorer ``ListCostAllocationTags`` (answered: both tag keys active).

The operator signs in as an IAM user of the management account (348665872333), not through
``MOTO_ACCOUNT_ID``: that variable pins every request to one account, assumed-role sessions in member
accounts included, while an access key keeps each session in its own account as AWS does.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.base_backend import BackendDict, BaseBackend
from moto.organizations.models import FakePolicy, FakeRoot, FakeServiceAccess
from moto.ssoadmin.models import ssoadmin_backends

import policies
from components import member_read_only_stack_set as read_only_stack_set
from components.account_budget import BUDGET_TYPE, COMPARISON, LIMIT_UNIT, THRESHOLD_TYPE, TIME_UNIT, limit_amount
from components.config_aggregator import ALL_REGIONS, DELEGATED_SERVICES, ORGANIZATIONS_ROLE_POLICY_ARN
from components.config_recorder import RECORD_ALL_SUPPORTED, RECORDER_NAME, ConfigRecorderArgs
from components.github_ci_roles import (
    GITHUB_OIDC_URL,
    STS_AUDIENCE,
    assume_member_read_only_policy,
    deploy_trust_policy,
    preview_read_only_policy,
    preview_trust_policy,
)
from components.guardduty_organization import AUTO_ENABLE_ORGANIZATION_MEMBERS
from components.log_archive import (
    config_bucket_policy,
    delivery_account_ids,
    key_alias,
    lifecycle_rule,
    log_bucket_policy,
    log_key_policy,
)
from components.member_read_only_role import (
    MAX_SESSION_SECONDS,
    READ_ONLY_POLICY_NAME,
    management_trust_policy,
    member_read_only_policy,
)
from components.member_read_only_stack_set import baseline_member_read_only_policy
from components.organization_baseline import AUTO_DEPLOYMENT, CAPABILITIES, PERMISSION_MODEL, template_text
from components.organization_trail import TRAIL_SETTINGS
from components.security_hub_organization import AUTO_ENABLE, AUTO_ENABLE_STANDARDS
from docustack import access, project
from docustack.bootstrap import bootstrap
from docustack.settings import (
    CONFIG_KEY,
    COST_CENTER_TAG,
    ENVIRONMENT_TAG,
    ROOT_TARGET,
    StackSettings,
    iter_ous,
    parse_settings,
    resolved_budget,
)
from docustack.stacks import LOG_ARCHIVE
from docustack.state_backend_spec import (
    BUCKET_KEY_ENABLED,
    KEY_SPEC,
    KEY_USAGE,
    OBJECT_OWNERSHIP,
    PUBLIC_ACCESS_BLOCK,
    SSE_ALGORITHM,
    VERSIONING_STATUS,
    StateBackendSpec,
)
from docustack.verify import Report, run
from docustack.verify.framework import Finding
from policies import perimeter

MANAGEMENT_ACCOUNT_ID = "348665872333"
DECLARED_CHANNEL = ConfigRecorderArgs(
    bucket_name="", kms_key_arn=""
)  # the delivery settings the stacks leave at default
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
    log_key_arn: str = ""

    def member(self, name: str) -> boto3.Session:
        """An unguarded session in a member account, for building and tampering."""
        return member_session(self.account_ids[name])

    def target_id(self, label: str) -> str:
        if label == ROOT_TARGET:
            return self.root_id
        kind, _, name = label.partition(":")
        return self.ou_ids[name] if kind == "ou" else self.account_ids[name]


def _filled(value: str, replacement: str) -> str:
    return replacement if value.startswith("<") else value


def build_foundation(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> LiveFoundation:
    declared = project.load_stack_settings(project_dir, "management")
    organization = declared.organization
    assert organization is not None
    support_declarative_policies(monkeypatch)
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
    for notification in raw["organization"].get("budgets", {}).get("default", {}).get("notifications", []):
        notification["emails"] = [_filled(email, "cloud-costs@docustack.example") for email in notification["emails"]]
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
    raw["ci"]["repository"] = _filled(raw["ci"]["repository"], "docustack/aws-foundation")
    fill_identity_center(raw)
    settings = build_account_baseline(raw, "management")
    assert not settings.placeholders(), settings.placeholders()

    foundation = LiveFoundation(settings, raw, client, root_id, ou_ids, account_ids, {})
    # As `up` renders them: the perimeter's documents name the organization's real IDs (docustack/stacks.py).
    variables = {**settings.policy_variables(), **perimeter.organization_variables(organization_id, root_id, ou_ids)}
    for policy in settings.organization.policies:  # type: ignore[union-attr]
        created = client.create_policy(
            Name=policy.name,
            Description=policy.description,
            Type=policy.type,
            Content=policies.render_file(policy.file, variables, policy_type=policy.type),
        )
        policy_id = created["Policy"]["PolicySummary"]["Id"]
        foundation.policy_ids[policy.name] = policy_id
        for target in policy.targets:
            client.attach_policy(PolicyId=policy_id, TargetId=foundation.target_id(target))
    build_audit_services(foundation, organization_id, monkeypatch)
    build_identity_center(foundation)
    build_budgets(foundation)
    fill_baseline_gaps(monkeypatch, foundation)
    return foundation


def fill_identity_center(raw: dict[str, Any]) -> None:
    """The instance moto's IAM Identity Center has in the management account, in place of the placeholders."""
    identity_center = raw["organization"].get("identityCenter")
    if identity_center is None:
        return
    region = identity_center.get("region", raw["account"]["region"])
    # moto gap: its identity store IDs are "d-" and ten letters; AWS's are "d-" and ten hexadecimal digits
    # (IdentityStoreId, https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_GetGroupId.html).
    [moto_instance] = ssoadmin_backends[raw["account"]["id"]][region].instances
    moto_instance.identity_store_id = "d-90676bdf2e"
    [instance] = boto3.Session(region_name=region).client("sso-admin").list_instances()["Instances"]
    identity_center["instanceArn"] = _filled(identity_center["instanceArn"], instance["InstanceArn"])
    identity_center["identityStoreId"] = _filled(identity_center["identityStoreId"], instance["IdentityStoreId"])


def build_identity_center(foundation: LiveFoundation) -> None:
    """Groups, permission sets and one assignment per grant, from the same expansion and documents the program
    registers (docustack/access.py)."""
    settings = foundation.settings
    assert settings.organization is not None
    identity_center = settings.organization.identity_center
    if identity_center is None:
        return
    session = boto3.Session(region_name=access.instance_region(settings))
    sso, store = session.client("sso-admin"), session.client("identitystore")
    instance = identity_center.instance_arn
    group_ids = {
        group.name: store.create_group(
            IdentityStoreId=identity_center.identity_store_id, DisplayName=group.display_name
        )["GroupId"]
        for group in identity_center.groups
    }
    arns = {}
    for declared in identity_center.permission_sets:
        arn = sso.create_permission_set(
            Name=declared.name,
            Description=declared.description,
            InstanceArn=instance,
            SessionDuration=access.session_duration(declared),
        )["PermissionSet"]["PermissionSetArn"]
        arns[declared.name] = arn
        document = access.inline_policy(declared, variables=settings.policy_variables())
        if document is not None:
            sso.put_inline_policy_to_permission_set(
                InstanceArn=instance, PermissionSetArn=arn, InlinePolicy=policies.minify(document)
            )
        for policy_arn in declared.managed_policy_arns:
            sso.attach_managed_policy_to_permission_set(
                InstanceArn=instance, PermissionSetArn=arn, ManagedPolicyArn=policy_arn
            )
    account_ids = {settings.account.name: settings.account.id, **foundation.account_ids}
    for grant in access.expand(settings):
        sso.create_account_assignment(
            InstanceArn=instance,
            TargetId=account_ids[grant.account],
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=arns[grant.permission_set],
            PrincipalType="GROUP",
            PrincipalId=group_ids[grant.group],
        )


@contextmanager
def _backend_dicts_kept() -> Iterator[None]:
    """While copying moto's state, a reference to one of moto's service registries (``iam_backends`` and the
    like) stays that registry: only the accounts' data inside them is copied."""
    BackendDict.__deepcopy__ = lambda self, _memo: self  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del BackendDict.__deepcopy__  # type: ignore[attr-defined]


def _class_state(backend: BackendDict) -> Iterator[tuple[type, str, Any]]:
    """Data some moto services keep on the backend class rather than in the backend, such as Security Hub's
    organization configuration (``SecurityHubBackend._org_configs``, by organization ID, never reset by moto):
    every mutable class attribute except UPPER_CASE constants."""
    for owner in backend.backend.__mro__:
        if owner in (BaseBackend, object):
            continue
        for name, value in vars(owner).items():
            if isinstance(value, dict | list | set) and not name.startswith("__") and not name.isupper():
                yield owner, name, value


@dataclass(frozen=True)
class MotoSnapshot:
    """The data of every moto service in use at one moment, for giving each test its own copy of a state that was
    built once. One deep copy over all services, so objects that several services share stay shared."""

    services: tuple[tuple[BackendDict, dict[str, Any]], ...]
    class_state: tuple[tuple[type, str, Any], ...]

    @classmethod
    def take(cls) -> MotoSnapshot:
        in_use = tuple(BackendDict._instances)
        state = tuple(item for backend in in_use for item in _class_state(backend))
        with _backend_dicts_kept():
            return cls(*copy.deepcopy((tuple((backend, dict(backend)) for backend in in_use), state)))

    def restore(self) -> None:
        """Make moto's state a fresh copy of the snapshot. moto must be active and still empty, as it is just
        after ``mock_aws`` starts: a restore never merges with what a test already made."""
        in_use = [backend.service_name for backend in BackendDict._instances if len(backend)]
        if in_use:
            raise RuntimeError(f"moto already holds data for {in_use}: restore the snapshot before any AWS call")
        with _backend_dicts_kept():
            services, class_state = copy.deepcopy((self.services, self.class_state))
        for owner, name, value in class_state:
            setattr(owner, name, value)
        for backend, accounts in services:
            dict.update(backend, accounts)
            if backend not in BackendDict._instances:
                BackendDict._instances.append(backend)


@dataclass(frozen=True)
class FoundationImage:
    """The compliant foundation built once: what :func:`build_foundation` returned, the operator's access key, and
    moto's state right after the build. :func:`restore_foundation` turns it into a test's own live foundation."""

    foundation: LiveFoundation
    access_key: tuple[str, str]  # the operator's AccessKeyId and SecretAccessKey, an IAM user of the management account
    snapshot: MotoSnapshot


def build_image(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> FoundationImage:
    """Build the compliant foundation in a moto of its own (started and stopped here, so it leaves moto empty).
    ``monkeypatch`` must already hold the fake default credentials the ``aws`` fixture sets."""
    with mock_aws(), monkeypatch.context() as build:
        sign_in(build, MANAGEMENT_ACCOUNT_ID)
        foundation = build_foundation(project_dir, build)
        access_key = (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
        snapshot = MotoSnapshot.take()
    foundation.organizations = None  # each restored foundation gets a client of its own
    return FoundationImage(foundation, access_key, snapshot)


def restore_foundation(image: FoundationImage, monkeypatch: pytest.MonkeyPatch) -> LiveFoundation:
    """The test's own copy of the compliant foundation (moto active and empty), the operator signed in to it: the
    same state, credentials and moto gaps :func:`sign_in` and :func:`build_foundation` leave, built once."""
    image.snapshot.restore()
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", image.access_key[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", image.access_key[1])
    built = image.foundation
    fill_moto_gaps(monkeypatch, built.account_ids[built.settings.organization.audit_services.audit_account])  # type: ignore[union-attr]
    fill_baseline_gaps(monkeypatch, built)
    return LiveFoundation(
        settings=built.settings.model_copy(deep=True),
        raw=copy.deepcopy(built.raw),
        organizations=boto3.Session(region_name=built.settings.account.region).client("organizations"),
        root_id=built.root_id,
        ou_ids=dict(built.ou_ids),
        account_ids=dict(built.account_ids),
        policy_ids=dict(built.policy_ids),
        log_key_arn=built.log_key_arn,
    )


def session() -> boto3.Session:
    # A fresh session each time: boto3's default one keeps the credentials it first saw.
    return boto3.Session(region_name=REGION)


def member_session(account_id: str) -> boto3.Session:
    credentials = (
        session()
        .client("sts")
        .assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="moto-foundation"
        )["Credentials"]
    )
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def build_account_baseline(raw: dict[str, Any], stack: str) -> StackSettings:
    """The stack's own account as its first deployment leaves it: the state backend made by ``docustack
    bootstrap`` (whose key ID then fills ``stateBackend.keyId``), account-level Block Public Access (what the
    organization's S3 policy turns on; moto has no S3 policies, so it is set at the account here), GitHub's
    OIDC provider and the CI roles with the trust policies the component declares. Returns the settings."""
    raw["stateBackend"]["keyId"] = "<state-key-id>"
    settings = parse_settings(raw, source="moto")
    raw["stateBackend"]["keyId"] = bootstrap(settings, stack, session(), echo=lambda _: None).key_id
    settings = parse_settings(raw, source="moto")
    session().client("s3control").put_public_access_block(
        AccountId=settings.account.id, PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK)
    )
    iam = session().client("iam")
    provider_arn = iam.create_open_id_connect_provider(
        Url=GITHUB_OIDC_URL, ClientIDList=[STS_AUDIENCE], ThumbprintList=["0" * 40]
    )["OpenIDConnectProviderArn"]
    ci = settings.ci
    trust = {
        settings.preview_role_name: preview_trust_policy(provider_arn, ci.oidc_subject_prefix(), ci.verify_branch),
        settings.deploy_role_name: deploy_trust_policy(
            provider_arn, ci.oidc_subject_prefix(), ci.deploy_environment, ci.deploy_branch
        ),
    }
    for role_name, document in trust.items():
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=policies.minify(document))
    for policy_name, document in read_only_role_policies(settings, stack).items():
        iam.put_role_policy(
            RoleName=settings.preview_role_name, PolicyName=policy_name, PolicyDocument=policies.minify(document)
        )
    return settings


def read_only_role_policies(settings: StackSettings, stack: str) -> dict[str, dict[str, Any]]:
    """The read-only CI role's inline policies as components/github_ci_roles.py declares them."""
    account = settings.account
    bucket_arn = f"arn:aws:s3:::{StateBackendSpec.from_settings(settings, stack).bucket_name}"
    key_arn = f"arn:aws:kms:{account.region}:{account.id}:key/{settings.state_backend.key_id}"
    kind = "management" if settings.is_management else "account"
    declared = {"read-only": preview_read_only_policy(kind, bucket_arn, key_arn)}
    if settings.is_management:
        role_arns = f"arn:aws:iam::*:role/{settings.member_read_only_role_name}"
        declared["assume-member-read-only"] = assume_member_read_only_policy(role_arns)
    return declared


def make_baseline_read_only_role(iam: Any, settings: StackSettings) -> None:
    """<prefix>-readonly as policies/baseline/member-read-only-role.yaml makes it (rendered from the same source)."""
    iam.create_role(
        RoleName=settings.member_read_only_role_name,
        AssumeRolePolicyDocument=policies.minify(management_trust_policy(settings.account.id)),
        MaxSessionDuration=MAX_SESSION_SECONDS,
    )
    iam.put_role_policy(
        RoleName=settings.member_read_only_role_name,
        PolicyName=READ_ONLY_POLICY_NAME,
        PolicyDocument=policies.minify(baseline_member_read_only_policy()),
    )


def record_config(config: Any, account_id: str, bucket: str, key_arn: str) -> None:
    """A Config recorder and delivery channel as components/config_recorder.py declares them (home region)."""
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": RECORDER_NAME,
            "roleARN": f"arn:aws:iam::{account_id}:role/config-recorder",
            "recordingGroup": {"allSupported": RECORD_ALL_SUPPORTED, "includeGlobalResourceTypes": True},
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={
            "name": RECORDER_NAME,
            "s3BucketName": bucket,
            "s3KmsKeyArn": key_arn,
            "configSnapshotDeliveryProperties": {"deliveryFrequency": DECLARED_CHANNEL.delivery_frequency},
        }
    )
    config.start_configuration_recorder(ConfigurationRecorderName=RECORDER_NAME)


def _private_bucket(s3: Any, name: str, key_arn: str, *, locked: bool, lifecycle: dict[str, Any]) -> None:
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=locked)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": VERSIONING_STATUS})
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": OBJECT_OWNERSHIP}]})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK))
    rule = {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE_ALGORITHM, "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": BUCKET_KEY_ENABLED,
    }
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [rule]})
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [lifecycle]})


def build_audit_services(foundation: LiveFoundation, organization_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Log Archive, the organization trail, Config, GuardDuty and Security Hub, as the management stack's
    ``compose_audit_services`` declares them."""
    settings = foundation.settings
    organization = settings.organization
    assert organization is not None and organization.audit_services is not None
    audit_settings = organization.audit_services
    archive_settings = audit_settings.log_archive
    log_archive_id = foundation.account_ids[organization.log_archive_account]
    audit_id = foundation.account_ids[audit_settings.audit_account]
    log_archive, audit, management = (
        foundation.member(organization.log_archive_account),
        foundation.member(audit_settings.audit_account),
        session(),
    )
    exempt = settings.exempt_role_arns(log_archive_id)
    readers = archive_settings.log_reader_role_arns
    accounts = delivery_account_ids(settings.account.id, list(foundation.account_ids.values()))
    for member in (log_archive, audit):  # components/member_read_only_role.py
        member.client("iam").create_role(
            RoleName=settings.member_read_only_role_name,
            AssumeRolePolicyDocument=policies.minify(management_trust_policy(settings.account.id)),
            MaxSessionDuration=MAX_SESSION_SECONDS,
        )
        member.client("iam").put_role_policy(
            RoleName=settings.member_read_only_role_name,
            PolicyName=READ_ONLY_POLICY_NAME,
            PolicyDocument=policies.minify(member_read_only_policy(list(settings.member_read_only_bucket_arns()))),
        )

    kms = log_archive.client("kms")
    # CreateKey's defaults, named: moto's DescribeKey leaves out a usage that was not given.
    key = kms.create_key(Description="Log Archive", KeySpec=KEY_SPEC, KeyUsage=KEY_USAGE)["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=key_alias(LOG_ARCHIVE), TargetKeyId=key["KeyId"])
    kms.put_key_policy(
        KeyId=key["KeyId"],
        PolicyName="default",
        Policy=policies.minify(
            log_key_policy(
                account_id=log_archive_id,
                management_account_id=settings.account.id,
                trail_arn=settings.trail_arn(),
                source_account_ids=accounts,
                reader_role_arns=readers,
            )
        ),
    )
    foundation.log_key_arn = key["Arn"]
    s3 = log_archive.client("s3")
    log_bucket = settings.log_archive_bucket_name(log_archive_id)
    config_bucket = settings.log_archive_bucket_name(log_archive_id, "config")
    lifecycle = lifecycle_rule(
        transition_days=archive_settings.transition_days,
        transition_storage_class=archive_settings.transition_storage_class,
        expiration_days=archive_settings.expiration_days,
        retention_days=archive_settings.retention_days,
    )
    _private_bucket(s3, log_bucket, key["Arn"], locked=True, lifecycle=lifecycle)
    s3.put_object_lock_configuration(
        Bucket=log_bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {
                "DefaultRetention": {"Mode": archive_settings.object_lock_mode, "Days": archive_settings.retention_days}
            },
        },
    )
    s3.put_bucket_policy(
        Bucket=log_bucket,
        Policy=policies.minify(
            log_bucket_policy(
                log_bucket,
                management_account_id=settings.account.id,
                organization_id=organization_id,
                trail_arn=settings.trail_arn(),
                source_account_ids=accounts,
                exempt_role_arns=exempt,
                reader_role_arns=readers,
            )
        ),
    )
    _private_bucket(s3, config_bucket, key["Arn"], locked=False, lifecycle=lifecycle)
    s3.put_bucket_policy(
        Bucket=config_bucket,
        Policy=policies.minify(
            config_bucket_policy(
                config_bucket, source_account_ids=accounts, exempt_role_arns=exempt, reader_role_arns=readers
            )
        ),
    )

    cloudtrail = management.client("cloudtrail")
    cloudtrail.create_trail(
        Name=audit_settings.trail_name,
        S3BucketName=log_bucket,
        KmsKeyId=key["Arn"],
        IsOrganizationTrail=TRAIL_SETTINGS["IsOrganizationTrail"],
        IsMultiRegionTrail=TRAIL_SETTINGS["IsMultiRegionTrail"],
        EnableLogFileValidation=TRAIL_SETTINGS["LogFileValidationEnabled"],
        IncludeGlobalServiceEvents=TRAIL_SETTINGS["IncludeGlobalServiceEvents"],
    )
    # moto gap: a trail created without selectors has none in moto; AWS gives it the default selector, every
    # read and write management event (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html).
    cloudtrail.put_event_selectors(
        TrailName=audit_settings.trail_name,
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    cloudtrail.start_logging(Name=audit_settings.trail_name)

    for account_id, account_session in (
        (settings.account.id, management),
        (log_archive_id, log_archive),
        (audit_id, audit),
    ):
        record_config(account_session.client("config"), account_id, config_bucket, key["Arn"])
    # The organization baseline's stacks record every other member account the same way, and the member read-only
    # StackSet's stack makes <prefix>-readonly there (the StackSets themselves are answered by fill_baseline_gaps).
    for name, account_id in foundation.account_ids.items():
        if account_id not in (log_archive_id, audit_id):
            record_config(foundation.member(name).client("config"), account_id, config_bucket, key["Arn"])
            make_baseline_read_only_role(foundation.member(name).client("iam"), settings)

    fill_moto_gaps(monkeypatch, audit_id)
    for principal in DELEGATED_SERVICES:
        foundation.organizations.register_delegated_administrator(AccountId=audit_id, ServicePrincipal=principal)
    aggregator_role = audit.client("iam").create_role(
        RoleName="config-aggregator", AssumeRolePolicyDocument=policies.service_trust_policy("config.amazonaws.com")
    )["Role"]
    audit.client("config").put_configuration_aggregator(
        ConfigurationAggregatorName=settings.config_aggregator_name(),
        OrganizationAggregationSource={
            "RoleArn": aggregator_role["Arn"],
            "AllAwsRegions": ALL_REGIONS,
        },
    )

    management.client("guardduty").create_detector(Enable=True)
    audit.client("guardduty").create_detector(Enable=True)
    management.client("guardduty").enable_organization_admin_account(AdminAccountId=audit_id)

    audit.client("securityhub").enable_security_hub(EnableDefaultStandards=True)
    management.client("securityhub").enable_organization_admin_account(AdminAccountId=audit_id)
    audit.client("securityhub").update_organization_configuration(
        AutoEnable=AUTO_ENABLE, AutoEnableStandards=AUTO_ENABLE_STANDARDS
    )


# moto gap: policy types moto does not know, with the path segment of their policy ARNs
# (arn:aws:organizations::<management>:policy/<organization>/<segment>/<policy id>). The S3 policy type:
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_s3.html
TYPES_MOTO_LACKS = {"DECLARATIVE_POLICY_EC2": "declarative_policy_ec2", "S3_POLICY": "s3_policy"}


def support_declarative_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto gap: the EC2 declarative policy and S3 policy types, accepted by moto's root and policies like the
    types it knows, and the declarative policy's trusted service principal ec2.amazonaws.com."""
    for owner in (FakeRoot, FakePolicy):
        missing = [t for t in TYPES_MOTO_LACKS if t not in owner.SUPPORTED_POLICY_TYPES]
        if missing:
            monkeypatch.setattr(owner, "SUPPORTED_POLICY_TYPES", [*owner.SUPPORTED_POLICY_TYPES, *missing])
    if "ec2.amazonaws.com" not in FakeServiceAccess.TRUSTED_SERVICES:
        trusted = [*FakeServiceAccess.TRUSTED_SERVICES, "ec2.amazonaws.com"]
        monkeypatch.setattr(FakeServiceAccess, "TRUSTED_SERVICES", trusted)
    original = FakePolicy.__init__
    if getattr(original, "declarative", False):
        return

    def init(self: FakePolicy, organization: Any, **kwargs: Any) -> None:
        policy_type = kwargs.get("Type", "")
        if policy_type not in TYPES_MOTO_LACKS:
            original(self, organization, **kwargs)
            return
        original(self, organization, **{**kwargs, "Type": "TAG_POLICY"})  # moto's constructor knows no ARN for it
        self.type = policy_type
        self._arn_format = "arn:{0}:organizations::{1}:policy/{2}/" + TYPES_MOTO_LACKS[policy_type] + "/{3}"

    init.declarative = True  # type: ignore[attr-defined]
    monkeypatch.setattr(FakePolicy, "__init__", init)


def fill_moto_gaps(monkeypatch: pytest.MonkeyPatch, audit_id: str) -> None:
    """What moto lacks for the compliant foundation to be compliant, with ``audit_id`` the Audit account. The
    patches live as long as ``monkeypatch``: a foundation restored from a snapshot applies them again."""
    support_declarative_policies(monkeypatch)
    # moto gap: AWS accepts config.amazonaws.com as a delegated-administrator principal, moto does not.
    from moto.organizations.models import FakeDelegatedAdministrator

    supported = [*FakeDelegatedAdministrator.SUPPORTED_SERVICES, *DELEGATED_SERVICES]
    monkeypatch.setattr(FakeDelegatedAdministrator, "SUPPORTED_SERVICES", supported)
    # moto gap: it does not know the AWS managed policy AWSConfigRoleForOrganizations, so nothing can attach it;
    # the role's attachments are answered as the component declares them.
    attached = {
        "AttachedPolicies": [
            {"PolicyName": "AWSConfigRoleForOrganizations", "PolicyArn": ORGANIZATIONS_ROLE_POLICY_ARN}
        ]
    }
    patch_api(
        monkeypatch,
        "ListAttachedRolePolicies",
        lambda call, _name, params: (
            {**attached, "IsTruncated": False} if params["RoleName"] == "config-aggregator" else call()
        ),
        "iam",
    )
    # moto gap: no GuardDuty DescribeOrganizationConfiguration; answer what the program declares.
    stub_answer(
        monkeypatch,
        "guardduty",
        "DescribeOrganizationConfiguration",
        lambda: {
            "AutoEnable": True,
            "MemberAccountLimitReached": False,
            "AutoEnableOrganizationMembers": AUTO_ENABLE_ORGANIZATION_MEMBERS,
        },
    )
    # moto gap: no Security Hub ListOrganizationAdminAccounts; answer the designation the foundation made.
    stub_answer(
        monkeypatch,
        "securityhub",
        "ListOrganizationAdminAccounts",
        lambda: {"AdminAccounts": [{"AccountId": audit_id, "Status": "ENABLED"}]},
    )


@dataclass
class LiveAccount:
    settings: StackSettings  # the account stack's settings, stateBackend.keyId filled by bootstrap
    raw: dict[str, Any]


def build_account_stack(raw: dict[str, Any], stack: str) -> LiveAccount:
    """An account stack's own account, compliant: its baseline (Config is recorded by the organization baseline)."""
    settings = build_account_baseline(raw, stack)
    return LiveAccount(settings, raw)


def run_verify(live: LiveFoundation | LiveAccount, project_dir: Path, stack: str = "management") -> Report:
    return run(live.settings, stack, session(), project_dir=project_dir)


def with_status(report: Report, status: str) -> set[tuple[str, str]]:
    return {(f.check_id, f.resource) for f in report.findings if f.status == status}


def finding(report: Report, check_id: str, resource: str) -> Finding:
    return next(f for f in report.findings if f.check_id == check_id and f.resource == resource)


def write_project(source_dir: Path, into: Path, stack: str, raw_settings: dict[str, Any]) -> None:
    """A copy of the project whose ``Pulumi.<stack>.yaml`` holds ``raw_settings``."""
    shutil.copy(source_dir / "Pulumi.yaml", into / "Pulumi.yaml")
    shutil.copytree(source_dir / "policies", into / "policies", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    document = {"config": {CONFIG_KEY: raw_settings}}
    (into / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def patch_api(
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    replace: Callable[[Any, str, dict], Any],
    service: str | None = None,
) -> None:
    original = BaseClient._make_api_call

    def patched(self: BaseClient, operation_name: str, params: dict) -> Any:
        if operation_name == operation and service in (None, self.meta.service_model.service_name):
            return replace(lambda: original(self, operation_name, params), operation_name, params)
        return original(self, operation_name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", patched)


def deny(
    monkeypatch: pytest.MonkeyPatch, operation: str, code: str = "AccessDeniedException", service: str | None = None
) -> None:
    """Every later ``operation`` call (of ``service``, or of any service) fails as an IAM denial would."""

    def refuse(_call: Callable[[], Any], operation_name: str, _params: dict) -> Any:
        message = f"User is not authorized to perform: {service or 'organizations'}:{operation_name}"
        raise ClientError({"Error": {"Code": code, "Message": message}}, operation_name)

    patch_api(monkeypatch, operation, refuse, service)


def edit_answer(
    monkeypatch: pytest.MonkeyPatch, operation: str, edit: Callable[[dict], None], service: str | None = None
) -> None:
    """Later ``operation`` calls answer with ``edit`` applied: for states no moto (or AWS) API can produce."""

    def answer(call: Callable[[], Any], _operation_name: str, _params: dict) -> Any:
        response = call()
        edit(response)
        return response

    patch_api(monkeypatch, operation, answer, service)


def stub_answer(monkeypatch: pytest.MonkeyPatch, service: str, operation: str, answer: Callable[[], dict]) -> None:
    """Later ``service`` ``operation`` calls answer ``answer()`` without reaching moto: for APIs moto lacks."""
    patch_api(monkeypatch, operation, lambda _call, _name, _params: answer(), service)


def build_budgets(foundation: LiveFoundation) -> None:
    """A budget per member account in the management account, as compose_budgets declares it."""
    settings = foundation.settings
    organization = settings.organization
    assert organization is not None
    if organization.budgets is None:
        return
    budgets = session().client("budgets")
    for account in organization.accounts:
        limit, notifications = resolved_budget(organization, account)
        budgets.create_budget(
            AccountId=settings.account.id,
            Budget={
                "BudgetName": settings.budget_name(account.name),
                "BudgetLimit": {"Amount": limit_amount(limit), "Unit": LIMIT_UNIT},
                "TimeUnit": TIME_UNIT,
                "BudgetType": BUDGET_TYPE,
                "CostFilters": {"LinkedAccount": [foundation.account_ids[account.name]]},
            },
            NotificationsWithSubscribers=[
                {
                    "Notification": {
                        "NotificationType": n.type,
                        "ComparisonOperator": COMPARISON,
                        "Threshold": n.threshold_percent,
                        "ThresholdType": THRESHOLD_TYPE,
                    },
                    "Subscribers": [
                        *({"SubscriptionType": "EMAIL", "Address": email} for email in n.emails),
                        *({"SubscriptionType": "SNS", "Address": topic} for topic in n.sns_topic_arns),
                    ],
                }
                for n in notifications
            ],
        )


def declared_stack_set(foundation: LiveFoundation) -> dict[str, Any]:
    """The baseline StackSet as DescribeStackSet would answer for what compose_organization_baseline declares."""
    settings = foundation.settings
    organization = settings.organization
    assert organization is not None and organization.baseline is not None
    log_archive_id = foundation.account_ids[organization.log_archive_account]
    parameters = {
        "HomeRegion": settings.account.region,
        "ConfigBucketName": settings.log_archive_bucket_name(log_archive_id, "config"),
        "ConfigKeyArn": foundation.log_key_arn,
        "DeliveryFrequency": "TwentyFour_Hours",
    }
    return {
        "StackSetName": organization.baseline.stack_set_name or settings.baseline_stack_set_name(),
        "Status": "ACTIVE",
        "PermissionModel": PERMISSION_MODEL,
        "AutoDeployment": dict(AUTO_DEPLOYMENT),
        "Capabilities": list(CAPABILITIES),
        "TemplateBody": template_text(),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    }


def declared_read_only_stack_set(foundation: LiveFoundation) -> dict[str, Any]:
    """The member read-only StackSet as DescribeStackSet would answer for what compose_organization_baseline
    declares (components/member_read_only_stack_set.py)."""
    settings = foundation.settings
    return {
        "StackSetName": read_only_stack_set.stack_set_name(settings.prefix),
        "Status": "ACTIVE",
        "PermissionModel": PERMISSION_MODEL,
        "AutoDeployment": dict(read_only_stack_set.AUTO_DEPLOYMENT),
        "Capabilities": list(read_only_stack_set.CAPABILITIES),
        "TemplateBody": read_only_stack_set.template_text(settings.member_read_only_role_name, settings.account.id),
        "Parameters": [],
    }


def fill_baseline_gaps(monkeypatch: pytest.MonkeyPatch, foundation: LiveFoundation) -> None:
    """The answers moto cannot give for the organization baseline and cost attribution (module docstring)."""
    from moto.budgets.models import budgets_backends

    settings = foundation.settings
    organization = settings.organization
    assert organization is not None and organization.audit_services is not None
    baseline, read_only = declared_stack_set(foundation), declared_read_only_stack_set(foundation)
    members = sorted(foundation.account_ids.values())
    # The member read-only StackSet leaves out the accounts where the management stack makes the role itself.
    made_by_the_stack = {
        foundation.account_ids[organization.log_archive_account],
        foundation.account_ids[organization.audit_services.audit_account],
    }
    instances = {
        baseline["StackSetName"]: [
            (account_id, region) for account_id in members for region in settings.allowed_regions
        ],
        read_only["StackSetName"]: [
            (account_id, settings.account.region) for account_id in members if account_id not in made_by_the_stack
        ],
    }
    stack_sets = {baseline["StackSetName"]: baseline, read_only["StackSetName"]: read_only}

    def describe(_call: Callable[[], Any], _name: str, params: dict) -> Any:
        if params["StackSetName"] not in stack_sets:
            message = f"StackSet {params['StackSetName']} not found"
            raise ClientError({"Error": {"Code": "StackSetNotFoundException", "Message": message}}, "DescribeStackSet")
        return {"StackSet": copy.deepcopy(stack_sets[params["StackSetName"]])}

    def list_instances(_call: Callable[[], Any], _name: str, params: dict) -> Any:
        name = params["StackSetName"]
        return {
            "Summaries": [
                {
                    "StackSetId": f"{name}:1",
                    "Account": account_id,
                    "Region": region,
                    "Status": "CURRENT",
                    "StackInstanceStatus": {"DetailedStatus": "SUCCEEDED"},
                }
                for account_id, region in instances.get(name, [])
            ]
        }

    patch_api(monkeypatch, "DescribeStackSet", describe, "cloudformation")
    patch_api(monkeypatch, "ListStackInstances", list_instances, "cloudformation")

    def subscribers(_call: Callable[[], Any], _name: str, params: dict) -> Any:
        budget = budgets_backends[params["AccountId"]]["global"].budgets[params["AccountId"]][params["BudgetName"]]
        wanted = params["Notification"]
        for notification in budget.notifications:
            details = notification.details
            if (details["NotificationType"], float(details["Threshold"])) == (
                wanted["NotificationType"],
                float(wanted["Threshold"]),
            ):
                return {"Subscribers": list(notification.subscribers)}
        return {"Subscribers": []}

    patch_api(monkeypatch, "DescribeSubscribersForNotification", subscribers, "budgets")
    stub_answer(
        monkeypatch,
        "ce",
        "ListCostAllocationTags",
        lambda: {
            "CostAllocationTags": [
                {"TagKey": key, "Type": "UserDefined", "Status": "Active"} for key in (COST_CENTER_TAG, ENVIRONMENT_TAG)
            ]
        },
    )
