"""Log delivery AWS accepts: each service grant uses only the request context its service documents, the policies
fit AWS's size quotas at 500 member accounts, and the bucket policies come last in the resource graph."""

from __future__ import annotations

import json
from typing import Any

import pytest
from audit_helpers import settings_problems

import policies
from components import LogArchive, LogArchiveArgs
from components.log_archive import (
    MAX_BUCKET_POLICY_BYTES,
    MAX_KEY_POLICY_BYTES,
    PolicyTooLargeError,
    config_bucket_policy,
    delivery_account_ids,
    log_bucket_policy,
    log_key_policy,
)
from docustack.offline import Plan, fake_account_id, run_program
from docustack.plan import StackPlan
from docustack.settings import parse_settings

MANAGEMENT = "111122223333"
LOG_ARCHIVE = "444455556666"
ORG = "o-abcdef1234"
BUCKET = f"docustack-log-archive-{LOG_ARCHIVE}"
CONFIG_BUCKET = f"docustack-log-archive-config-{LOG_ARCHIVE}"
TRAIL = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/organization-trail"
EXEMPT = ["arn:aws:iam::*:role/OrganizationAccountAccessRole", "arn:aws:iam::*:role/docustack-break-glass"]
READERS = [f"arn:aws:iam::{LOG_ARCHIVE}:role/log-reader", f"arn:aws:iam::{LOG_ARCHIVE}:role/security-analyst"]

# The condition keys each service's own pages document for its requests to S3 and KMS. A grant to a service
# principal may use these and no others: a key the service does not send makes the condition fail (and delivery
# with it), and aws:SourceOrgID is documented for none of these requests.
DOCUMENTED_KEYS: dict[str, tuple[set[str], str]] = {
    "cloudtrail.amazonaws.com": (
        {"aws:SourceArn", "aws:SourceAccount", "s3:x-amz-acl", "kms:EncryptionContext:aws:cloudtrail:arn"},
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html, "
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html",
    ),
    "config.amazonaws.com": (
        {"aws:SourceAccount", "aws:SourceArn", "s3:x-amz-acl"},
        "https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html, "
        "https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html",
    ),
    "delivery.logs.amazonaws.com": (
        {"aws:SourceAccount", "aws:SourceArn", "s3:x-amz-acl"},
        "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html, "
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-S3.html",
    ),
}
# Confused-deputy protection: every grant to these services names its source (account or ARN).
SOURCE_KEYS = {"aws:SourceArn", "aws:SourceAccount"}


def _member_ids(count: int) -> list[str]:
    return [f"{200000000000 + index:012d}" for index in range(count)]


def _documents(accounts: list[str], readers: list[str] = READERS) -> dict[str, dict[str, Any]]:
    return {
        "log bucket": log_bucket_policy(
            BUCKET,
            management_account_id=MANAGEMENT,
            organization_id=ORG,
            trail_arn=TRAIL,
            source_account_ids=accounts,
            exempt_role_arns=EXEMPT,
            reader_role_arns=readers,
        ),
        "config bucket": config_bucket_policy(
            CONFIG_BUCKET, source_account_ids=accounts, exempt_role_arns=EXEMPT, reader_role_arns=readers
        ),
        "key": log_key_policy(
            account_id=LOG_ARCHIVE,
            management_account_id=MANAGEMENT,
            trail_arn=TRAIL,
            source_account_ids=accounts,
            reader_role_arns=readers,
        ),
    }


def _condition_keys(statement: dict[str, Any]) -> set[str]:
    return {key for operator in statement.get("Condition", {}).values() for key in operator}


def _service_statements(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for statement in document["Statement"]:
        principal = statement.get("Principal")
        if isinstance(principal, dict) and "Service" in principal:
            services = principal["Service"]
            for service in [services] if isinstance(services, str) else services:
                found.append((service, statement))
    return found


def _planned_documents(plan: Plan) -> dict[str, dict[str, Any]]:
    resources = [*plan.by_type("aws:s3/bucketPolicy:BucketPolicy"), *plan.by_type("aws:kms/keyPolicy:KeyPolicy")]
    return {resource.name: json.loads(resource.inputs["policy"]) for resource in resources}


@pytest.fixture(scope="module")
def component_plan() -> Plan:
    args = LogArchiveArgs(
        bucket_name=BUCKET,
        config_bucket_name=CONFIG_BUCKET,
        account_id=LOG_ARCHIVE,
        management_account_id=MANAGEMENT,
        organization_id=ORG,
        trail_arn=TRAIL,
        exempt_role_arns=tuple(EXEMPT),
        source_account_ids=delivery_account_ids(MANAGEMENT, [LOG_ARCHIVE, "777788889999"]),
        reader_role_arns=tuple(READERS),
    )
    return run_program(lambda: LogArchive("log-archive", args), stack="test")


def _assert_documented_context_only(documents: dict[str, dict[str, Any]]) -> None:
    seen = set()
    for name, document in documents.items():
        for service, statement in _service_statements(document):
            assert service in DOCUMENTED_KEYS, f"{name} {statement['Sid']}: no documented context for {service}"
            allowed, page = DOCUMENTED_KEYS[service]
            keys = _condition_keys(statement)
            assert keys <= allowed, f"{name} {statement['Sid']}: {sorted(keys - allowed)} not documented ({page})"
            # A service's own key belongs to that service's requests: s3:x-amz-acl to S3 writes, the encryption
            # context to KMS calls; on another service's grant it is never sent, and the grant never matches.
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            services = {action.split(":")[0] for action in actions}
            misplaced = sorted(key for key in keys if not key.startswith("aws:") and key.split(":")[0] not in services)
            assert not misplaced, f"{name} {statement['Sid']}: {misplaced} on a grant of {sorted(services)} actions"
            assert keys & SOURCE_KEYS, f"{name} {statement['Sid']}: no confused-deputy condition"
            assert statement["Effect"] == "Allow"
            seen.add(service)
    assert seen == set(DOCUMENTED_KEYS), "every delivering service has a grant"


def test_service_grants_use_only_documented_condition_keys(component_plan: Plan) -> None:
    documents = _planned_documents(component_plan)
    assert set(documents) == {"log-archive-bucket-policy", "log-archive-config-bucket-policy", "log-archive-key-policy"}
    _assert_documented_context_only(documents)


def test_the_allow_list_check_fails_on_an_undocumented_key() -> None:
    documents = _documents(delivery_account_ids(MANAGEMENT, [LOG_ARCHIVE]))
    regressed = json.loads(json.dumps(documents))
    grant = next(s for s in regressed["config bucket"]["Statement"] if s["Sid"] == "AWSConfigBucketPermissionsCheck")
    grant["Condition"]["StringEquals"]["aws:SourceOrgID"] = ORG
    with pytest.raises(AssertionError, match="aws:SourceOrgID"):
        _assert_documented_context_only(regressed)
    misplaced = json.loads(json.dumps(documents))
    grant = next(s for s in misplaced["key"]["Statement"] if s["Sid"] == "AllowLogDeliveryEncrypt")
    grant["Condition"].setdefault("StringEquals", {})["s3:x-amz-acl"] = "bucket-owner-full-control"
    with pytest.raises(AssertionError, match=r"\['s3:x-amz-acl'\] on a grant of \['kms'\] actions"):
        _assert_documented_context_only(misplaced)
    unscoped = json.loads(json.dumps(documents))
    grant = next(s for s in unscoped["key"]["Statement"] if s["Sid"] == "AllowLogDeliveryEncrypt")
    del grant["Condition"]
    with pytest.raises(AssertionError, match="confused-deputy"):
        _assert_documented_context_only(unscoped)


def test_management_stack_grants_use_only_documented_keys_and_list_every_account(
    stack_plans: dict[str, StackPlan],
) -> None:
    plan = stack_plans["management"].plan
    documents = _planned_documents(plan)
    archive = {name: doc for name, doc in documents.items() if name.startswith("log-archive-")}
    assert len(archive) == 3
    _assert_documented_context_only(archive)
    # The management account and every account the settings declare (IDs given or created by the stack).
    members = [r.outputs["id"] for r in plan.by_type("aws:organizations/account:Account")]
    assert fake_account_id("DocuStack Log Archive") in members
    expected = sorted({"348665872333", *members})
    for name, document in archive.items():
        for service, statement in _service_statements(document):
            if service == "cloudtrail.amazonaws.com":
                continue
            assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == expected, (name, statement["Sid"])


def test_delivery_account_ids_are_sorted_and_unique() -> None:
    assert delivery_account_ids("333333333333", ["222222222222", "333333333333", "111111111111"]) == [
        "111111111111",
        "222222222222",
        "333333333333",
    ]


def test_policies_fit_aws_size_quotas_at_500_member_accounts() -> None:
    accounts = delivery_account_ids(MANAGEMENT, _member_ids(500))
    assert len(accounts) == 501
    documents = _documents(accounts)
    sizes = {name: len(policies.minify(document).encode()) for name, document in documents.items()}
    # S3: "Bucket policies are limited to 20 KB in size" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html);
    # KMS: 32,768 bytes per key policy (https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html).
    assert MAX_BUCKET_POLICY_BYTES == 20_000
    assert MAX_KEY_POLICY_BYTES == 32_768
    assert sizes["log bucket"] <= MAX_BUCKET_POLICY_BYTES, sizes
    assert sizes["config bucket"] <= MAX_BUCKET_POLICY_BYTES, sizes
    assert sizes["key"] <= MAX_KEY_POLICY_BYTES, sizes
    # Every account is really in each grant (the size is not met by dropping some).
    for name, document in documents.items():
        for service, statement in _service_statements(document):
            if service != "cloudtrail.amazonaws.com":
                assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == accounts, (name, statement["Sid"])


def test_too_many_accounts_is_a_clear_error_not_a_policy_aws_refuses() -> None:
    accounts = delivery_account_ids(MANAGEMENT, _member_ids(900))
    with pytest.raises(PolicyTooLargeError, match=r"bucket policy of docustack-log-archive-config-.* over AWS's limit"):
        config_bucket_policy(CONFIG_BUCKET, source_account_ids=accounts, exempt_role_arns=EXEMPT)
    with pytest.raises(PolicyTooLargeError, match=r"aws:SourceAccount"):
        log_bucket_policy(
            BUCKET,
            management_account_id=MANAGEMENT,
            organization_id=ORG,
            trail_arn=TRAIL,
            source_account_ids=accounts,
            exempt_role_arns=EXEMPT,
        )


# --------------------------------------------------------------------------------------------------------
# Order: the bucket policies wait for every setting of their bucket (docs/audit-services.md, step 3).

BUCKET_SETTINGS = {
    "versioning": "aws:s3/bucketVersioning:BucketVersioning",
    "ownership": "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "public-access-block": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "encryption": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "lifecycle": "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
}


def _assert_policies_wait_for_bucket_settings(plan: Plan) -> None:
    for bucket, locked in (("log-archive-bucket", True), ("log-archive-config-bucket", False)):
        policy = plan.one("aws:s3/bucketPolicy:BucketPolicy", f"{bucket}-policy")
        waits_for = {plan.by_urn(urn).name for urn in policy.dependencies}
        expected = {bucket, *(f"{bucket}-{suffix}" for suffix in BUCKET_SETTINGS)}
        if locked:
            expected.add(f"{bucket}-object-lock")
        assert expected <= waits_for, (bucket, sorted(expected - waits_for))
        for suffix, type_ in BUCKET_SETTINGS.items():
            assert plan.one(type_, f"{bucket}-{suffix}").urn in policy.dependencies
        if locked:
            lock = plan.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
            assert lock.urn in policy.dependencies


def test_bucket_policies_wait_for_ownership_block_encryption_lifecycle_and_lock(component_plan: Plan) -> None:
    _assert_policies_wait_for_bucket_settings(component_plan)


def test_management_stack_orders_settings_policies_then_deliveries(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    _assert_policies_wait_for_bucket_settings(plan)
    bucket_policy = plan.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-bucket-policy")
    config_policy = plan.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-config-bucket-policy")
    key_policy = plan.one("aws:kms/keyPolicy:KeyPolicy", "log-archive-key-policy")
    trail = plan.one("aws:cloudtrail/trail:Trail")
    assert {bucket_policy.urn, key_policy.urn} <= set(trail.dependencies)
    channels = plan.by_type("aws:cfg/deliveryChannel:DeliveryChannel")
    assert channels
    for channel in channels:
        assert {config_policy.urn, key_policy.urn} <= set(channel.dependencies), channel.name


# --------------------------------------------------------------------------------------------------------
# The settings refuse an organization too large for the Log Archive's policies, before anything is registered.


def _with_sandboxes(raw: dict[str, Any], count: int) -> dict[str, Any]:
    accounts = raw["organization"]["accounts"]
    accounts += [
        {
            "name": f"sandbox-{index}",
            "accountName": f"Sandbox {index}",
            "email": f"sandbox-{index}@example.com",
            "ou": "Sandbox",
            "id": f"{300000000000 + index:012d}",
        }
        for index in range(count - len(accounts))
    ]
    return raw


def test_settings_accept_500_member_accounts(management_raw: dict[str, Any]) -> None:
    settings = parse_settings(_with_sandboxes(management_raw, 500), source="test")
    assert settings.organization is not None and len(settings.organization.accounts) == 500


def test_settings_refuse_more_accounts_than_the_log_archive_policies_hold(management_raw: dict[str, Any]) -> None:
    problems = settings_problems(_with_sandboxes(management_raw, 700))
    [problem] = [p for p in problems if "too many for one Log Archive" in p]
    assert problem.startswith("docustack:settings.organization.accounts: 700 accounts are too many")
    assert "over AWS's limit of 20000" in problem
