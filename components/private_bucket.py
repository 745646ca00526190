"""The settings every bucket of this program gets, as child resources of the component that owns the bucket.

Versioning on, ACLs disabled (``BucketOwnerEnforced``), all four Block Public Access flags, and default
encryption SSE-KMS with the given key and an S3 Bucket Key. The values are those of
``docustack.state_backend_spec``: bootstrap creates the state bucket with the same, and ``docustack verify``
compares live buckets with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from docustack.state_backend_spec import (
    BUCKET_KEY_ENABLED,
    OBJECT_OWNERSHIP,
    PUBLIC_ACCESS_BLOCK,
    SSE_ALGORITHM,
    VERSIONING_STATUS,
)


@dataclass(frozen=True)
class PrivateBucketSettings:
    ownership: aws.s3.BucketOwnershipControls
    public_access_block: aws.s3.BucketPublicAccessBlock
    versioning: aws.s3.BucketVersioning
    encryption: aws.s3.BucketServerSideEncryptionConfiguration

    @property
    def all(self) -> list[pulumi.Resource]:
        """Every settings resource: what a bucket policy that lets others write waits for."""
        return [self.versioning, self.ownership, self.public_access_block, self.encryption]


def private_bucket_settings(
    name: str, bucket: aws.s3.Bucket, key_arn: pulumi.Input[str], parent: pulumi.Resource
) -> PrivateBucketSettings:
    """Children ``<name>-versioning``, ``-ownership``, ``-public-access-block`` and ``-encryption`` of ``parent``.

    A bucket policy should wait for the returned ownership and public access block: S3 checks a policy against
    Block Public Access and refuses one while ownership changes. A policy that lets services deliver waits for
    all of them (``all``), so nothing is written before versioning and default encryption are on.
    """
    child = pulumi.ResourceOptions(parent=parent)
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status=VERSIONING_STATUS),
        opts=child,
    )
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership=OBJECT_OWNERSHIP),
        opts=child,
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=PUBLIC_ACCESS_BLOCK["BlockPublicAcls"],
        ignore_public_acls=PUBLIC_ACCESS_BLOCK["IgnorePublicAcls"],
        block_public_policy=PUBLIC_ACCESS_BLOCK["BlockPublicPolicy"],
        restrict_public_buckets=PUBLIC_ACCESS_BLOCK["RestrictPublicBuckets"],
        opts=child,
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm=SSE_ALGORITHM, kms_master_key_id=key_arn
                ),
                bucket_key_enabled=BUCKET_KEY_ENABLED,
            )
        ],
        opts=child,
    )
    return PrivateBucketSettings(ownership, public_access_block, versioning, encryption)
