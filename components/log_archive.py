"""The Log Archive: the organization's central, immutable log buckets and the KMS key that encrypts them.

Two buckets, both in the Log Archive account and both inside the ``<prefix>-log-archive-*`` pattern that the
protect-log-archive SCP guards:

- ``<prefix>-log-archive-<account>``: CloudTrail (the organization trail) and VPC Flow Logs. S3 Object Lock
  with a default retention: no one can delete or overwrite a log version before the retention has passed.
- ``<prefix>-log-archive-config-<account>``: AWS Config. "AWS Config does not support the delivery channel to
  an Amazon S3 bucket where object lock is enabled with default retention enabled"
  (https://docs.aws.amazon.com/config/latest/developerguide/manage-delivery-channel.html), so this bucket is
  versioned and guarded by the same deny-delete bucket policy, with noncurrent versions kept for the retention.

SCPs never restrict the management account (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html),
so each bucket policy refuses deletes and weakening itself, to every principal but the exempt roles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

import policies
from components.private_bucket import private_bucket_settings
from docustack.state_backend_spec import KEY_ROTATION_ENABLED

CLOUDTRAIL = "cloudtrail.amazonaws.com"
CONFIG = "config.amazonaws.com"
LOG_DELIVERY = "delivery.logs.amazonaws.com"  # VPC Flow Logs (and other vended logs) delivering to S3
# The SCP and the bucket policies refuse the same actions; the SCP file is the one list of them.
PROTECTING_SCP = "protect-log-archive.json"
OBJECT_ACTIONS_SID = "DenyDeletingLogObjects"
BUCKET_ACTIONS_SID = "DenyDeletingOrWeakeningLogBucket"

Document = dict[str, Any]


@dataclass(frozen=True)
class LogArchiveArgs:
    bucket_name: pulumi.Input[str]  # CloudTrail and flow logs, Object Lock
    config_bucket_name: pulumi.Input[str]  # AWS Config
    account_id: pulumi.Input[str]  # the Log Archive account
    management_account_id: str
    organization_id: pulumi.Input[str]
    trail_arn: str  # arn:aws:cloudtrail:<home region>:<management id>:trail/<name>
    # arn:aws:iam::<log archive account>:role/<name>: only that account's exempt roles pass the deny statements.
    exempt_role_arns: pulumi.Input[Sequence[str]]
    object_lock_mode: str = "COMPLIANCE"
    retention_days: int = 365
    transition_days: int = 90
    transition_storage_class: str = "GLACIER"
    expiration_days: int = 2555
    reader_role_arns: Sequence[str] = ()


# --------------------------------------------------------------------------------------------------------
# Policy documents: plain data, built from plain strings so the tests read exactly what AWS receives.


def key_alias(name: str) -> str:
    """The alias of the Log Archive key of the component named ``name``: how the key is found again."""
    return f"alias/{name}"


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _allow_service(sid: str, service: str, action: str | list[str], resource: str, condition: Document) -> Document:
    """An Allow for an AWS service principal; every such grant here carries a confused-deputy condition."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": action,
        "Resource": resource,
        "Condition": condition,
    }


def _tls_only(bucket: str) -> Document:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html (aws:SecureTransport)
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn(bucket), f"{bucket_arn(bucket)}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _deny_weakening(bucket: str, exempt_role_arns: Sequence[str]) -> list[Document]:
    exempt = {"ArnNotLike": {"aws:PrincipalArn": list(exempt_role_arns)}}
    object_actions = policies.statement(PROTECTING_SCP, OBJECT_ACTIONS_SID)["Action"]
    bucket_actions = policies.statement(PROTECTING_SCP, BUCKET_ACTIONS_SID)["Action"]
    return [
        {
            "Sid": "DenyDeletingLogObjects",
            "Effect": "Deny",
            "Principal": "*",
            "Action": object_actions,
            "Resource": f"{bucket_arn(bucket)}/*",
            "Condition": exempt,
        },
        {
            "Sid": "DenyDeletingOrWeakeningLogBucket",
            "Effect": "Deny",
            "Principal": "*",
            "Action": bucket_actions,
            "Resource": bucket_arn(bucket),
            "Condition": exempt,
        },
    ]


def _readers(bucket: str, reader_role_arns: Sequence[str]) -> list[Document]:
    if not reader_role_arns:
        return []
    return [
        {
            "Sid": "AllowLogReaders",
            "Effect": "Allow",
            "Principal": {"AWS": list(reader_role_arns)},
            "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": [bucket_arn(bucket), f"{bucket_arn(bucket)}/*"],
        }
    ]


def log_bucket_policy(
    bucket: str,
    *,
    management_account_id: str,
    organization_id: str,
    trail_arn: str,
    exempt_role_arns: Sequence[str],
    reader_role_arns: Sequence[str] = (),
) -> Document:
    """The CloudTrail and flow-log bucket's policy."""
    arn = bucket_arn(bucket)
    trail = {"aws:SourceArn": trail_arn}
    owner_full_control = {"s3:x-amz-acl": "bucket-owner-full-control"}
    organization = {"aws:SourceOrgID": organization_id}
    statements = [
        _tls_only(bucket),
        # Organization trail grants, Sids as AWS writes them; aws:SourceArn is always the management account's
        # trail: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-create-and-update-an-organizational-trail-by-using-the-aws-cli.html
        _allow_service("AWSCloudTrailAclCheck20150319", CLOUDTRAIL, "s3:GetBucketAcl", arn, {"StringEquals": trail}),
        _allow_service(
            "AWSCloudTrailWrite20150319",
            CLOUDTRAIL,
            "s3:PutObject",
            f"{arn}/AWSLogs/{management_account_id}/*",
            {"StringEquals": {**owner_full_control, **trail}},
        ),
        _allow_service(
            "AWSCloudTrailOrganizationWrite20150319",
            CLOUDTRAIL,
            "s3:PutObject",
            f"{arn}/AWSLogs/{organization_id}/*",
            {"StringEquals": {**owner_full_control, **trail}},
        ),
        # VPC Flow Logs to S3: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html,
        # scoped to the organization rather than listing every account (aws:SourceOrgID, as Control Tower does).
        _allow_service(
            "AWSLogDeliveryAclCheck",
            LOG_DELIVERY,
            ["s3:GetBucketAcl", "s3:ListBucket"],
            arn,
            {"StringEquals": organization},
        ),
        _allow_service(
            "AWSLogDeliveryWrite",
            LOG_DELIVERY,
            "s3:PutObject",
            f"{arn}/AWSLogs/*/vpcflowlogs/*",
            {"StringEquals": {**owner_full_control, **organization}},
        ),
        *_readers(bucket, reader_role_arns),
        *_deny_weakening(bucket, exempt_role_arns),
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def config_bucket_policy(
    bucket: str,
    *,
    organization_id: str,
    exempt_role_arns: Sequence[str],
    reader_role_arns: Sequence[str] = (),
) -> Document:
    """The AWS Config bucket's policy: delivery from every account of the organization, nothing else."""
    arn = bucket_arn(bucket)
    organization = {"aws:SourceOrgID": organization_id}
    statements = [
        _tls_only(bucket),
        # Cross-account delivery falls back to the config.amazonaws.com principal when the bucket does not
        # grant the recorder's role: https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html
        _allow_service(
            "AWSConfigBucketPermissionsCheck", CONFIG, "s3:GetBucketAcl", arn, {"StringEquals": organization}
        ),
        _allow_service("AWSConfigBucketExistenceCheck", CONFIG, "s3:ListBucket", arn, {"StringEquals": organization}),
        _allow_service(
            "AWSConfigBucketDelivery",
            CONFIG,
            "s3:PutObject",
            f"{arn}/AWSLogs/*/Config/*",
            {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **organization}},
        ),
        *_readers(bucket, reader_role_arns),
        *_deny_weakening(bucket, exempt_role_arns),
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def lifecycle_rule(
    *, transition_days: int, transition_storage_class: str, expiration_days: int, retention_days: int
) -> Document:
    """Each Log Archive bucket's one lifecycle rule, in the S3 API's shape (``docustack verify`` compares the live
    configuration with it): to colder storage, then expiry no earlier than the retention."""
    return {
        "ID": "archive-then-expire",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Transitions": [{"Days": transition_days, "StorageClass": transition_storage_class}],
        # Not before the retention: S3 would only add a delete marker over a locked version anyway, and the
        # settings refuse expirationDays < retentionDays.
        "Expiration": {"Days": expiration_days},
        # A version that became noncurrent is kept for the retention too (the Config bucket has no Object Lock
        # to do it).
        "NoncurrentVersionExpiration": {"NoncurrentDays": retention_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }


def log_key_policy(
    *,
    account_id: str,
    management_account_id: str,
    organization_id: str,
    trail_arn: str,
    reader_role_arns: Sequence[str] = (),
) -> Document:
    """The key policy: the services encrypt, only the named readers decrypt (besides the key's own account)."""
    trail = {"aws:SourceArn": trail_arn}
    organization = {"aws:SourceOrgID": organization_id}
    statements: list[Document] = [
        # Without this the key becomes unmanageable: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
        {
            "Sid": "EnableLogArchiveAccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
        _allow_service(
            "AllowCloudTrailEncryptLogs",
            CLOUDTRAIL,
            "kms:GenerateDataKey*",
            "*",
            {
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{management_account_id}:trail/*"
                },
                "StringEquals": trail,
            },
        ),
        _allow_service("AllowCloudTrailDescribeKey", CLOUDTRAIL, "kms:DescribeKey", "*", {"StringEquals": trail}),
        # Same page: with an S3 Bucket Key, kms:Decrypt is required to create or update a trail with SSE-KMS.
        _allow_service("AllowCloudTrailBucketKey", CLOUDTRAIL, "kms:Decrypt", "*", {"StringEquals": trail}),
        # https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html
        _allow_service(
            "AllowConfigEncrypt", CONFIG, ["kms:Decrypt", "kms:GenerateDataKey"], "*", {"StringEquals": organization}
        ),
        # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html (SSE-KMS)
        _allow_service(
            "AllowLogDeliveryEncrypt",
            LOG_DELIVERY,
            ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "*",
            {"StringEquals": organization},
        ),
    ]
    if reader_role_arns:
        # CloudTrail's "grant decrypt permissions" statement: only objects CloudTrail encrypted.
        statements.append(
            {
                "Sid": "AllowLogReadersDecrypt",
                "Effect": "Allow",
                "Principal": {"AWS": list(reader_role_arns)},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}},
            },
        )
        # Config snapshots and flow logs carry no CloudTrail context, and with an S3 Bucket Key the context is
        # the bucket's ARN: readers also decrypt through S3, which the bucket policies let them read
        # (kms:ViaService: https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
        statements.append(
            {
                "Sid": "AllowLogReadersDecryptThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": list(reader_role_arns)},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


# --------------------------------------------------------------------------------------------------------
# The component


class LogArchive(pulumi.ComponentResource):
    """The log buckets and their key, in the Log Archive account (pass that account's provider in ``opts``).

    Buckets and key are protected. Each bucket: versioning, ACLs disabled (``BucketOwnerEnforced``), all four
    Block Public Access flags, SSE-KMS with a bucket key, lifecycle to colder storage then expiry no earlier
    than the retention, and the bucket policy above. The CloudTrail bucket adds Object Lock.
    """

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    config_bucket_name: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    # What a writer must wait for: a delivery is refused until both policies are in place.
    bucket_policy: pulumi.Resource
    config_bucket_policy: pulumi.Resource
    key_policy: pulumi.Resource

    def __init__(self, name: str, args: LogArchiveArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:audit:LogArchive", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the organization's CloudTrail, Config and flow logs in the Log Archive",
            enable_key_rotation=KEY_ROTATION_ENABLED,  # the state keys' setting: verify compares with it
            deletion_window_in_days=30,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        aws.kms.Alias(f"{name}-key-alias", name=key_alias(name), target_key_id=key.key_id, opts=child)
        self.key_policy = aws.kms.KeyPolicy(
            f"{name}-key-policy",
            key_id=key.key_id,
            policy=pulumi.Output.all(args.account_id, args.organization_id).apply(
                lambda values: policies.minify(
                    log_key_policy(
                        account_id=values[0],
                        management_account_id=args.management_account_id,
                        organization_id=values[1],
                        trail_arn=args.trail_arn,
                        reader_role_arns=args.reader_role_arns,
                    )
                )
            ),
            opts=child,
        )

        logs = self._bucket(f"{name}-bucket", args.bucket_name, key, args, locked=True)
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-bucket-object-lock",
            bucket=logs.id,
            object_lock_enabled="Enabled",
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode=args.object_lock_mode, days=args.retention_days
                )
            ),
            opts=child,
        )
        self.bucket_policy = self._policy(
            f"{name}-bucket",
            logs,
            lambda bucket, organization_id, exempt: log_bucket_policy(
                bucket,
                management_account_id=args.management_account_id,
                organization_id=organization_id,
                trail_arn=args.trail_arn,
                exempt_role_arns=exempt,
                reader_role_arns=args.reader_role_arns,
            ),
            args,
        )

        config = self._bucket(f"{name}-config-bucket", args.config_bucket_name, key, args, locked=False)
        self.config_bucket_policy = self._policy(
            f"{name}-config-bucket",
            config,
            lambda bucket, organization_id, exempt: config_bucket_policy(
                bucket,
                organization_id=organization_id,
                exempt_role_arns=exempt,
                reader_role_arns=args.reader_role_arns,
            ),
            args,
        )

        self.bucket_name = logs.bucket
        self.bucket_arn = logs.arn
        self.config_bucket_name = config.bucket
        self.key_arn = key.arn
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "config_bucket_name": self.config_bucket_name,
                "key_arn": self.key_arn,
            }
        )

    def _bucket(
        self, name: str, bucket_name: pulumi.Input[str], key: aws.kms.Key, args: LogArchiveArgs, *, locked: bool
    ) -> aws.s3.Bucket:
        """A protected, private, versioned, KMS-encrypted bucket with a lifecycle that respects the retention.

        Versioning, ownership, Block Public Access and encryption are the state buckets' settings
        (docustack.state_backend_spec): every private bucket this program makes has them."""
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            name,
            bucket=bucket_name,
            # Object Lock can only be turned on when the bucket is created, and never off again.
            object_lock_enabled=locked,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        private_bucket_settings(name, bucket, key.arn, self)
        rule = lifecycle_rule(
            transition_days=args.transition_days,
            transition_storage_class=args.transition_storage_class,
            expiration_days=args.expiration_days,
            retention_days=args.retention_days,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=rule["ID"],
                    status=rule["Status"],
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule["Filter"]["Prefix"]),
                    transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                            days=transition["Days"], storage_class=transition["StorageClass"]
                        )
                        for transition in rule["Transitions"]
                    ],
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=rule["Expiration"]["Days"]),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
                    ),
                )
            ],
            opts=child,
        )
        return bucket

    def _policy(
        self,
        name: str,
        bucket: aws.s3.Bucket,
        document: Callable[[str, str, Sequence[str]], Document],
        args: LogArchiveArgs,
    ) -> aws.s3.BucketPolicy:
        return aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.bucket, args.organization_id, args.exempt_role_arns).apply(
                lambda values: policies.minify(document(values[0], values[1], values[2]))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
