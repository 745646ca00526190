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

Every grant to a service principal uses only the request context that service's own page documents for that
request, and its confused-deputy keys: CloudTrail ``aws:SourceArn`` (the organization trail); AWS Config and
VPC Flow Logs (``delivery.logs.amazonaws.com``) ``aws:SourceAccount``, listing the organization's accounts. Neither
page documents ``aws:SourceOrgID`` for these requests, and the AWS Config page says its service principal "won't
work with organization ID or organization units based conditions". The account list grows with the organization,
so the documents are checked against S3's 20 KB bucket-policy and KMS's 32 KB key-policy quotas when built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

import policies
from components.private_bucket import private_bucket_settings
from docustack.state_backend_spec import KEY_ROTATION_ENABLED

if TYPE_CHECKING:
    from docustack.settings import StackSettings

CLOUDTRAIL = "cloudtrail.amazonaws.com"
CONFIG = "config.amazonaws.com"
LOG_DELIVERY = "delivery.logs.amazonaws.com"  # VPC Flow Logs (and other vended logs) delivering to S3
# The SCP and the bucket policies refuse the same actions; the SCP file is the one list of them.
PROTECTING_SCP = "protect-log-archive.json"
OBJECT_ACTIONS_SID = "DenyDeletingLogObjects"
BUCKET_ACTIONS_SID = "DenyDeletingOrWeakeningLogBucket"
# "Bucket policies are limited to 20 KB in size"
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html). Whether S3 counts 20,000 or 20,480
# bytes is not stated; the smaller number is the limit here.
MAX_BUCKET_POLICY_BYTES = 20_000
# "Key policy document size: 32 KB (32,768 bytes)" (https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html).
MAX_KEY_POLICY_BYTES = 32_768

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
    # Every account whose AWS Config recorders or VPC flow logs deliver here: the management account and each member
    # account (delivery_account_ids). AWS Config and flow-log delivery are scoped to these with aws:SourceAccount.
    source_account_ids: pulumi.Input[Sequence[str]]
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


def delivery_account_ids(management_account_id: str, member_account_ids: Sequence[str]) -> list[str]:
    """The ``aws:SourceAccount`` values of the Config and flow-log grants: sorted, each account once."""
    return sorted({management_account_id, *member_account_ids})


class PolicyTooLargeError(ValueError):
    """A policy document larger than AWS accepts (too many accounts in ``aws:SourceAccount``)."""


def checked_size(document: Document, limit: int, what: str) -> Document:
    """``document`` if its minified text fits in ``limit`` bytes; otherwise a clear error naming the quota."""
    size = len(policies.minify(document).encode("utf-8"))
    if size > limit:
        raise PolicyTooLargeError(
            f"the {what} would be {size} bytes, over AWS's limit of {limit}: too many delivering accounts "
            f"in aws:SourceAccount"
        )
    return document


def _source_accounts(account_ids: Sequence[str]) -> Document:
    return {"aws:SourceAccount": list(account_ids)}


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
    source_account_ids: Sequence[str],
    exempt_role_arns: Sequence[str],
    reader_role_arns: Sequence[str] = (),
) -> Document:
    """The CloudTrail and flow-log bucket's policy."""
    arn = bucket_arn(bucket)
    trail = {"aws:SourceArn": trail_arn}
    owner_full_control = {"s3:x-amz-acl": "bucket-owner-full-control"}
    accounts = _source_accounts(source_account_ids)
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
        # VPC Flow Logs to S3, Sids and keys as AWS writes them:
        # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html (aws:SourceAccount of the
        # flow log's owner on both statements; GetBucketAcl and ListBucket in one statement). For many accounts,
        # "for aws:SourceAccount, specify the list of account IDs for which logs are being delivered to this
        # bucket": https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-S3.html.
        # The optional aws:SourceArn (arn:aws:logs:<region>:<account>:*) is left out: it names the same accounts
        # and would double the policy's size.
        _allow_service(
            "AWSLogDeliveryAclCheck",
            LOG_DELIVERY,
            ["s3:GetBucketAcl", "s3:ListBucket"],
            arn,
            {"StringEquals": accounts},
        ),
        _allow_service(
            "AWSLogDeliveryWrite",
            LOG_DELIVERY,
            "s3:PutObject",
            f"{arn}/AWSLogs/*/vpcflowlogs/*",
            {"StringEquals": {**owner_full_control, **accounts}},
        ),
        *_readers(bucket, reader_role_arns),
        *_deny_weakening(bucket, exempt_role_arns),
    ]
    document = {"Version": "2012-10-17", "Statement": statements}
    return checked_size(document, MAX_BUCKET_POLICY_BYTES, f"bucket policy of {bucket}")


def config_bucket_policy(
    bucket: str,
    *,
    source_account_ids: Sequence[str],
    exempt_role_arns: Sequence[str],
    reader_role_arns: Sequence[str] = (),
) -> Document:
    """The AWS Config bucket's policy: delivery from the organization's accounts, nothing else."""
    arn = bucket_arn(bucket)
    accounts = _source_accounts(source_account_ids)
    statements = [
        _tls_only(bucket),
        # https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html: delivery to a bucket in
        # another account falls back to the config.amazonaws.com principal when the bucket does not grant the
        # recorder's role. AWS's three statements (GetBucketAcl, ListBucket for the existence check, PutObject
        # with bucket-owner-full-control) each carry aws:SourceAccount; the page adds that the service principal
        # "won't work with organization ID or organization units based conditions", so the organization is
        # expressed as the list of its accounts. GetBucketAcl and ListBucket share one statement (same principal,
        # resource and condition) so that the list appears twice, not three times, within the 20 KB quota.
        _allow_service(
            "AWSConfigBucketPermissionsCheck",
            CONFIG,
            ["s3:GetBucketAcl", "s3:ListBucket"],
            arn,
            {"StringEquals": accounts},
        ),
        _allow_service(
            "AWSConfigBucketDelivery",
            CONFIG,
            "s3:PutObject",
            f"{arn}/AWSLogs/*/Config/*",
            {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **accounts}},
        ),
        *_readers(bucket, reader_role_arns),
        *_deny_weakening(bucket, exempt_role_arns),
    ]
    document = {"Version": "2012-10-17", "Statement": statements}
    return checked_size(document, MAX_BUCKET_POLICY_BYTES, f"bucket policy of {bucket}")


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
    trail_arn: str,
    source_account_ids: Sequence[str],
    reader_role_arns: Sequence[str] = (),
) -> Document:
    """The key policy: the services encrypt, only the named readers decrypt (besides the key's own account)."""
    trail = {"aws:SourceArn": trail_arn}
    accounts = _source_accounts(source_account_ids)
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
        # https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html: the service principal
        # gets kms:Decrypt and kms:GenerateDataKey, restricted with aws:SourceAccount (the accounts it delivers for).
        _allow_service(
            "AllowConfigEncrypt", CONFIG, ["kms:Decrypt", "kms:GenerateDataKey"], "*", {"StringEquals": accounts}
        ),
        # Flow logs to an SSE-KMS bucket: the key statement of https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3.html
        # (its actions), scoped with aws:SourceAccount, the key the flow-log bucket statements document for this
        # principal (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html). UNVERIFIED:
        # the page text of the key statement's own conditions could not be read here.
        _allow_service(
            "AllowLogDeliveryEncrypt",
            LOG_DELIVERY,
            ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "*",
            {"StringEquals": accounts},
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
    document = {"Version": "2012-10-17", "Statement": statements}
    return checked_size(document, MAX_KEY_POLICY_BYTES, "Log Archive key policy")


def log_archive_policies(settings: StackSettings, source_account_ids: Sequence[str]) -> list[Document]:
    """The three documents the management stack would declare for ``source_account_ids`` (the longest
    organization ID, a 12-digit Log Archive ID): raises :class:`PolicyTooLargeError` when one would not fit.
    The settings check runs this with one placeholder ID per account."""
    assert settings.organization is not None and settings.organization.audit_services is not None
    archive = settings.organization.audit_services.log_archive
    log_archive_id = "0" * 12
    exempt = settings.exempt_role_arns(log_archive_id)
    readers = archive.log_reader_role_arns
    accounts = delivery_account_ids(settings.account.id, source_account_ids)
    return [
        log_bucket_policy(
            settings.log_archive_bucket_name(log_archive_id),
            management_account_id=settings.account.id,
            organization_id="o-" + "a" * 32,  # Organizations IDs are o- and 10 to 32 characters
            trail_arn=settings.trail_arn(),
            source_account_ids=accounts,
            exempt_role_arns=exempt,
            reader_role_arns=readers,
        ),
        config_bucket_policy(
            settings.log_archive_bucket_name(log_archive_id, "config"),
            source_account_ids=accounts,
            exempt_role_arns=exempt,
            reader_role_arns=readers,
        ),
        log_key_policy(
            account_id=log_archive_id,
            management_account_id=settings.account.id,
            trail_arn=settings.trail_arn(),
            source_account_ids=accounts,
            reader_role_arns=readers,
        ),
    ]


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
            policy=pulumi.Output.all(args.account_id, args.source_account_ids).apply(
                lambda values: policies.minify(
                    log_key_policy(
                        account_id=values[0],
                        management_account_id=args.management_account_id,
                        trail_arn=args.trail_arn,
                        source_account_ids=values[1],
                        reader_role_arns=args.reader_role_arns,
                    )
                )
            ),
            opts=child,
        )

        logs, logs_ready = self._bucket(f"{name}-bucket", args.bucket_name, key, args, locked=True)
        object_lock = aws.s3.BucketObjectLockConfiguration(
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
            lambda bucket, organization_id, exempt, accounts: log_bucket_policy(
                bucket,
                management_account_id=args.management_account_id,
                organization_id=organization_id,
                trail_arn=args.trail_arn,
                source_account_ids=accounts,
                exempt_role_arns=exempt,
                reader_role_arns=args.reader_role_arns,
            ),
            args,
            after=[*logs_ready, object_lock],
        )

        config, config_ready = self._bucket(f"{name}-config-bucket", args.config_bucket_name, key, args, locked=False)
        self.config_bucket_policy = self._policy(
            f"{name}-config-bucket",
            config,
            lambda bucket, _organization_id, exempt, accounts: config_bucket_policy(
                bucket,
                source_account_ids=accounts,
                exempt_role_arns=exempt,
                reader_role_arns=args.reader_role_arns,
            ),
            args,
            after=config_ready,
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
    ) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
        """A protected, private, versioned, KMS-encrypted bucket with a lifecycle that respects the retention,
        and the settings resources its bucket policy waits for.

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
        settings = private_bucket_settings(name, bucket, key.arn, self)
        rule = lifecycle_rule(
            transition_days=args.transition_days,
            transition_storage_class=args.transition_storage_class,
            expiration_days=args.expiration_days,
            retention_days=args.retention_days,
        )
        lifecycle = aws.s3.BucketLifecycleConfiguration(
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
        return bucket, [*settings.all, lifecycle]

    def _policy(
        self,
        name: str,
        bucket: aws.s3.Bucket,
        document: Callable[[str, str, Sequence[str], Sequence[str]], Document],
        args: LogArchiveArgs,
        *,
        after: Sequence[pulumi.Resource],
    ) -> aws.s3.BucketPolicy:
        """The bucket policy, last: it is what lets the services deliver (the trail and the Config delivery
        channels wait for it), so nothing lands in the bucket before its ownership, Block Public Access,
        versioning, encryption, lifecycle and Object Lock settings are in place. S3 also evaluates a new policy
        against Block Public Access (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html),
        so the policy waits for the block as the state backend's does."""
        return aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(
                bucket.bucket, args.organization_id, args.exempt_role_arns, args.source_account_ids
            ).apply(lambda values: policies.minify(document(values[0], values[1], values[2], values[3]))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
