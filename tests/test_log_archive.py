"""The Log Archive: immutable, private, KMS-encrypted buckets whose policies grant exactly what AWS documents."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from audit_helpers import settings_problems

import policies
from components import LogArchive, LogArchiveArgs
from docustack.offline import Plan, run_program
from docustack.settings import LogArchiveSettings

MANAGEMENT = "111122223333"
LOG_ARCHIVE = "444455556666"
ORG = "o-abcdef1234"
BUCKET = f"docustack-log-archive-{LOG_ARCHIVE}"
CONFIG_BUCKET = f"docustack-log-archive-config-{LOG_ARCHIVE}"
TRAIL = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/organization-trail"
EXEMPT = ["arn:aws:iam::*:role/OrganizationAccountAccessRole", "arn:aws:iam::*:role/docustack-break-glass"]
READER = f"arn:aws:iam::{LOG_ARCHIVE}:role/log-reader"
OWNER_FULL_CONTROL = {"s3:x-amz-acl": "bucket-owner-full-control"}
WORKLOAD = "777788889999"
# The accounts whose Config recorders and flow logs deliver: sorted, each once (delivery_account_ids).
SOURCE_ACCOUNTS = sorted([MANAGEMENT, LOG_ARCHIVE, WORKLOAD])
FROM_ACCOUNTS = {"aws:SourceAccount": SOURCE_ACCOUNTS}


def _plan(**overrides: Any) -> Plan:
    args = {
        "bucket_name": BUCKET,
        "config_bucket_name": CONFIG_BUCKET,
        "account_id": LOG_ARCHIVE,
        "management_account_id": MANAGEMENT,
        "organization_id": ORG,
        "trail_arn": TRAIL,
        "exempt_role_arns": tuple(EXEMPT),
        "source_account_ids": SOURCE_ACCOUNTS,
        "reader_role_arns": (READER,),
        **overrides,
    }
    return run_program(lambda: LogArchive("log-archive", LogArchiveArgs(**args)), stack="test")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return _plan()


def _statements(plan: Plan, type_: str, name: str) -> dict[str, dict[str, Any]]:
    document = json.loads(plan.one(type_, name).inputs["policy"])
    assert document["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in document["Statement"]]
    assert len(sids) == len(set(sids))
    return {statement["Sid"]: statement for statement in document["Statement"]}


def bucket_statements(plan: Plan, name: str = "log-archive-bucket-policy") -> dict[str, dict[str, Any]]:
    return _statements(plan, "aws:s3/bucketPolicy:BucketPolicy", name)


def key_statements(plan: Plan) -> dict[str, dict[str, Any]]:
    return _statements(plan, "aws:kms/keyPolicy:KeyPolicy", "log-archive-key-policy")


def test_buckets_and_key_are_protected_and_named_inside_the_scp_pattern(plan: Plan) -> None:
    buckets = {r.name: r for r in plan.by_type("aws:s3/bucket:Bucket")}
    assert buckets["log-archive-bucket"].inputs["bucket"] == BUCKET
    assert buckets["log-archive-config-bucket"].inputs["bucket"] == CONFIG_BUCKET
    assert all(bucket.protect for bucket in buckets.values())
    assert plan.one("aws:kms/key:Key").protect
    assert plan.one("aws:kms/key:Key").inputs["enableKeyRotation"] is True
    scp = policies.load("protect-log-archive.json")
    pattern = scp["Statement"][1]["Resource"].replace("{{log_archive_bucket}}", "docustack-log-archive-*")
    regex = re.compile(re.escape(pattern).replace(r"\*", ".*"))
    for name in (BUCKET, CONFIG_BUCKET):
        assert regex.fullmatch(f"arn:aws:s3:::{name}")
    component = plan.one("docustack:audit:LogArchive")
    assert all(r.parent == component.urn for r in plan.resources if r.custom)


def test_cloudtrail_bucket_has_object_lock_in_compliance_mode(plan: Plan) -> None:
    assert plan.one("aws:s3/bucket:Bucket", "log-archive-bucket").inputs["objectLockEnabled"] is True
    lock = plan.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["objectLockEnabled"] == "Enabled"
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 365}}
    # AWS Config cannot deliver to a bucket with default retention: its bucket has none.
    assert plan.one("aws:s3/bucket:Bucket", "log-archive-config-bucket").inputs["objectLockEnabled"] is False


def test_each_bucket_is_versioned_private_and_kms_encrypted_with_a_bucket_key(plan: Plan) -> None:
    for bucket in ("log-archive-bucket", "log-archive-config-bucket"):
        versioning = plan.one("aws:s3/bucketVersioning:BucketVersioning", f"{bucket}-versioning")
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        ownership = plan.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"{bucket}-ownership")
        assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
        block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{bucket}-public-access-block")
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert block.inputs[flag] is True, flag
        encryption = plan.one(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{bucket}-encryption",
        )
        [rule] = encryption.inputs["rules"]
        assert rule["bucketKeyEnabled"] is True
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        assert (
            rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == plan.one("aws:kms/key:Key").outputs["arn"]
        )


def test_lifecycle_never_expires_before_the_retention(plan: Plan) -> None:
    for bucket in ("log-archive-bucket", "log-archive-config-bucket"):
        lifecycle = plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{bucket}-lifecycle")
        [rule] = lifecycle.inputs["rules"]
        assert rule["status"] == "Enabled"
        assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER"}]
        assert rule["expiration"]["days"] == 2555
        assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 365


def test_bucket_policy_denies_plain_http(plan: Plan) -> None:
    for name, bucket in (("log-archive-bucket-policy", BUCKET), ("log-archive-config-bucket-policy", CONFIG_BUCKET)):
        assert bucket_statements(plan, name)["DenyInsecureTransport"] == {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }


def test_bucket_policy_grants_the_organization_trail_exactly(plan: Plan) -> None:
    statements = bucket_statements(plan)
    cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
    assert statements["AWSCloudTrailAclCheck20150319"] == {
        "Sid": "AWSCloudTrailAclCheck20150319",
        "Effect": "Allow",
        "Principal": cloudtrail,
        "Action": "s3:GetBucketAcl",
        "Resource": f"arn:aws:s3:::{BUCKET}",
        "Condition": {"StringEquals": {"aws:SourceArn": TRAIL}},
    }
    for sid, owner in (("AWSCloudTrailWrite20150319", MANAGEMENT), ("AWSCloudTrailOrganizationWrite20150319", ORG)):
        assert statements[sid] == {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": cloudtrail,
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{owner}/*",
            "Condition": {"StringEquals": {**OWNER_FULL_CONTROL, "aws:SourceArn": TRAIL}},
        }


def test_bucket_policy_grants_flow_log_delivery_to_the_organizations_accounts_only(plan: Plan) -> None:
    statements = bucket_statements(plan)
    # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html: aws:SourceAccount on both.
    assert statements["AWSLogDeliveryAclCheck"] == {
        "Sid": "AWSLogDeliveryAclCheck",
        "Effect": "Allow",
        "Principal": {"Service": "delivery.logs.amazonaws.com"},
        "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
        "Resource": f"arn:aws:s3:::{BUCKET}",
        "Condition": {"StringEquals": FROM_ACCOUNTS},
    }
    assert statements["AWSLogDeliveryWrite"] == {
        "Sid": "AWSLogDeliveryWrite",
        "Effect": "Allow",
        "Principal": {"Service": "delivery.logs.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/*/vpcflowlogs/*",
        "Condition": {"StringEquals": {**OWNER_FULL_CONTROL, **FROM_ACCOUNTS}},
    }
    # Config does not write here, and CloudTrail does not write to the Config bucket.
    assert not any("config" in json.dumps(s.get("Principal")) for s in statements.values())


def test_config_bucket_policy_grants_config_delivery_to_the_organizations_accounts_only(plan: Plan) -> None:
    statements = bucket_statements(plan, "log-archive-config-bucket-policy")
    config = {"Service": "config.amazonaws.com"}
    # https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html: aws:SourceAccount on the
    # ACL check, the existence check (ListBucket) and the delivery.
    assert statements["AWSConfigBucketPermissionsCheck"] == {
        "Sid": "AWSConfigBucketPermissionsCheck",
        "Effect": "Allow",
        "Principal": config,
        "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
        "Resource": f"arn:aws:s3:::{CONFIG_BUCKET}",
        "Condition": {"StringEquals": FROM_ACCOUNTS},
    }
    assert statements["AWSConfigBucketDelivery"] == {
        "Sid": "AWSConfigBucketDelivery",
        "Effect": "Allow",
        "Principal": config,
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{CONFIG_BUCKET}/AWSLogs/*/Config/*",
        "Condition": {"StringEquals": {**OWNER_FULL_CONTROL, **FROM_ACCOUNTS}},
    }
    assert not any("cloudtrail" in json.dumps(s.get("Principal")) for s in statements.values())
    # Exactly these service grants: nothing else reaches the Config bucket as a service.
    services = sorted(sid for sid, s in statements.items() if "Service" in (s.get("Principal") or {}))
    assert services == ["AWSConfigBucketDelivery", "AWSConfigBucketPermissionsCheck"]


def test_bucket_policies_refuse_deletes_and_weakening_to_all_but_the_exempt_roles(plan: Plan) -> None:
    scp = {s["Sid"]: s for s in policies.load("protect-log-archive.json")["Statement"]}
    for name, bucket in (("log-archive-bucket-policy", BUCKET), ("log-archive-config-bucket-policy", CONFIG_BUCKET)):
        statements = bucket_statements(plan, name)
        objects = statements["DenyDeletingLogObjects"]
        weakening = statements["DenyDeletingOrWeakeningLogBucket"]
        for statement in (objects, weakening):
            assert statement["Effect"] == "Deny"
            assert statement["Principal"] == "*"
            assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": EXEMPT}}
        assert objects["Resource"] == f"arn:aws:s3:::{bucket}/*"
        assert weakening["Resource"] == f"arn:aws:s3:::{bucket}"
        # The same actions the SCP refuses in member accounts; the bucket policy also binds the management account.
        assert objects["Action"] == scp["DenyDeletingLogObjects"]["Action"]
        assert weakening["Action"] == scp["DenyDeletingOrWeakeningLogBucket"]["Action"]
        for action in ("s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectRetention"):
            assert action in objects["Action"]
        for action in (
            "s3:DeleteBucket",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketVersioning",
            "s3:PutBucketObjectLockConfiguration",
        ):
            assert action in weakening["Action"]


def test_key_policy_lets_services_encrypt_and_only_readers_decrypt(plan: Plan) -> None:
    statements = key_statements(plan)
    assert statements["EnableLogArchiveAccountAdministration"]["Principal"] == {
        "AWS": f"arn:aws:iam::{LOG_ARCHIVE}:root"
    }
    assert statements["AllowCloudTrailEncryptLogs"] == {
        "Sid": "AllowCloudTrailEncryptLogs",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:GenerateDataKey*",
        "Resource": "*",
        "Condition": {
            "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{MANAGEMENT}:trail/*"},
            "StringEquals": {"aws:SourceArn": TRAIL},
        },
    }
    assert statements["AllowCloudTrailDescribeKey"] == {
        "Sid": "AllowCloudTrailDescribeKey",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceArn": TRAIL}},
    }
    assert statements["AllowCloudTrailBucketKey"] == {
        "Sid": "AllowCloudTrailBucketKey",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceArn": TRAIL}},
    }
    # https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html
    assert statements["AllowConfigEncrypt"] == {
        "Sid": "AllowConfigEncrypt",
        "Effect": "Allow",
        "Principal": {"Service": "config.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": {"StringEquals": FROM_ACCOUNTS},
    }
    assert statements["AllowLogDeliveryEncrypt"] == {
        "Sid": "AllowLogDeliveryEncrypt",
        "Effect": "Allow",
        "Principal": {"Service": "delivery.logs.amazonaws.com"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": FROM_ACCOUNTS},
    }
    assert statements["AllowLogReadersDecrypt"] == {
        "Sid": "AllowLogReadersDecrypt",
        "Effect": "Allow",
        "Principal": {"AWS": [READER]},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}},
    }
    # Everything else they read (Config snapshots, flow logs, objects under a Bucket Key) only through S3.
    assert statements["AllowLogReadersDecryptThroughS3"] == {
        "Sid": "AllowLogReadersDecryptThroughS3",
        "Effect": "Allow",
        "Principal": {"AWS": [READER]},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
    }
    # No one else may decrypt: every other kms:Decrypt grant is to a service principal, scoped by a condition.
    for sid, statement in statements.items():
        if sid in (
            "EnableLogArchiveAccountAdministration",
            "AllowLogReadersDecrypt",
            "AllowLogReadersDecryptThroughS3",
        ):
            continue
        assert "Service" in statement["Principal"] and statement["Condition"], sid


def test_without_readers_no_one_outside_the_account_reads() -> None:
    plan = _plan(reader_role_arns=())
    assert not [sid for sid in key_statements(plan) if sid.startswith("AllowLogReaders")]
    assert "AllowLogReaders" not in bucket_statements(plan)


def test_policies_are_minified() -> None:
    plan = _plan()
    for resource in [*plan.by_type("aws:s3/bucketPolicy:BucketPolicy"), *plan.by_type("aws:kms/keyPolicy:KeyPolicy")]:
        text = resource.inputs["policy"]
        assert text == policies.minify(json.loads(text))


def test_expiry_before_retention_is_rejected_naming_the_field(management_raw: dict[str, Any]) -> None:
    archive = management_raw["organization"]["auditServices"]["logArchive"]
    archive.update(retentionDays=400, expirationDays=365, transitionDays=400)
    problems = settings_problems(management_raw)
    assert problems == [
        "docustack:settings.organization.auditServices.logArchive.expirationDays: 365 is shorter than retentionDays "
        "(400): lifecycle must not try to expire logs that Object Lock still retains",
        "docustack:settings.organization.auditServices.logArchive.transitionDays: 400 must be earlier than "
        "expirationDays (365)",
    ]


def test_unknown_lock_mode_and_unknown_keys_are_rejected(management_raw: dict[str, Any]) -> None:
    archive = management_raw["organization"]["auditServices"]["logArchive"]
    archive.update(objectLockMode="NONE", mfaDelete=True)
    problems = settings_problems(management_raw)
    assert any(
        p.startswith("docustack:settings.organization.auditServices.logArchive.objectLockMode:") for p in problems
    )
    assert (
        "docustack:settings.organization.auditServices.logArchive.mfaDelete: is not a known setting (check the spelling)"
        in problems
    )


def test_secure_defaults() -> None:
    defaults = LogArchiveSettings()
    assert defaults.object_lock_mode == "COMPLIANCE"
    assert defaults.expiration_days >= defaults.retention_days
    assert defaults.log_reader_role_arns == []
