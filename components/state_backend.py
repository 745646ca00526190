"""One account's Pulumi state backend: the state bucket, its KMS key and alias, optionally a Terraform lock table."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.private_bucket import private_bucket_settings
from docustack import state_backend_spec as spec_module
from docustack.state_backend_spec import StateBackendSpec
from policies import minify


@dataclass(frozen=True)
class StateBackendArgs:
    spec: StateBackendSpec
    # Adopt what `docustack bootstrap` created: the bucket (by name), the key (by this ID) and the alias.
    # None creates them instead (an account whose state lives elsewhere).
    adopt_key_id: str | None = None
    # The strategy document's DynamoDB lock table, for Terraform state kept in this bucket. Pulumi locks with
    # files in the bucket and needs none
    # (https://www.pulumi.com/docs/iac/concepts/state-and-backends/: the DIY backends lock with files).
    terraform_lock_table: bool = False


class StateBackend(pulumi.ComponentResource):
    """The bucket and key a stack's state lives in, with the settings of :mod:`docustack.state_backend_spec`.

    Versioned, SSE-KMS with the account's key and an S3 Bucket Key, all four Block Public Access flags, ACLs
    disabled, TLS only, noncurrent versions expiring. Bucket, key and alias are protected: deleting any of them
    loses the stack's state or its secrets. Only they are imported; the bucket's configuration resources are
    plain PUTs of the same values bootstrap set, so creating them on the first ``up`` changes nothing. An
    imported key, alias or bucket that differs from this declaration is updated to it by that ``up`` (Pulumi
    imports, then reconciles: pulumi/pulumi#16397); ``docustack adopt-check`` lists such differences first.
    """

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    key_alias: pulumi.Output[str]
    login_url: pulumi.Output[str]
    secrets_provider: pulumi.Output[str]

    def __init__(self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:state:StateBackend", name, None, opts)
        spec = args.spec
        adopting = args.adopt_key_id is not None

        def protected(import_id: str | None) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, protect=True, import_=import_id if adopting else None)

        key = aws.kms.Key(
            f"{name}-key",
            description=spec.key_description,
            key_usage=spec_module.KEY_USAGE,
            customer_master_key_spec=spec_module.KEY_SPEC,
            enable_key_rotation=spec_module.KEY_ROTATION_ENABLED,
            policy=minify(spec.key_policy()),
            opts=protected(args.adopt_key_id),
        )
        alias = aws.kms.Alias(
            f"{name}-key-alias",
            name=spec.key_alias,
            target_key_id=key.key_id,
            opts=protected(spec.key_alias),
        )
        bucket = aws.s3.Bucket(f"{name}-bucket", bucket=spec.bucket_name, opts=protected(spec.bucket_name))

        child = pulumi.ResourceOptions(parent=self)
        hardened = private_bucket_settings(name, bucket, key.arn, self)
        # A policy is checked against Block Public Access, and S3 refuses policies while ownership changes:
        # put it after both.
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=minify(spec.bucket_policy()),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[hardened.public_access_block, hardened.ownership]),
        )
        rule = spec.lifecycle_rule()
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=rule["ID"],
                    status=rule["Status"],
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule["Filter"]["Prefix"]),
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
        if args.terraform_lock_table:
            # Terraform's S3 backend locks on an item keyed LockID (terraform s3 backend docs, dynamodb_table).
            aws.dynamodb.Table(
                f"{name}-terraform-locks",
                name=spec.terraform_lock_table_name,
                billing_mode="PAY_PER_REQUEST",
                hash_key="LockID",
                attributes=[aws.dynamodb.TableAttributeArgs(name="LockID", type="S")],
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=key.arn),
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                opts=child,
            )

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.bucket.apply(lambda bucket_name: f"arn:aws:s3:::{bucket_name}")
        self.key_arn = key.arn
        self.key_alias = alias.name
        self.login_url = key.arn.apply(spec.login_url)
        self.secrets_provider = pulumi.Output.from_input(spec.secrets_provider)
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "key_arn": self.key_arn,
                "key_alias": self.key_alias,
                "login_url": self.login_url,
                "secrets_provider": self.secrets_provider,
            }
        )
