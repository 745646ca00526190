"""Reading an S3 bucket's protections back, for ``docustack bootstrap`` (what to make or strengthen) and
``docustack verify`` (what drifted). Only Get calls: the verify command's read-only guard lets them through."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def absent_if(codes: tuple[str, ...], read: Callable[[], T]) -> T | None:
    """``read()``, or None when AWS answers that the thing does not exist (one of ``codes``). Any other error
    propagates: a denial is "cannot see", never "absent"."""
    try:
        return read()
    except ClientError as error:
        if error_code(error) in codes:
            return None
        raise


@dataclass
class BucketState:
    """A bucket's settings as read; ``None`` where the bucket has none (or does not exist yet)."""

    versioning: str | None = None
    encryption_rules: list[dict[str, Any]] | None = None
    public_access_block: dict[str, bool] | None = None
    ownership_rules: list[dict[str, str]] | None = None
    policy: dict[str, Any] | None = None
    lifecycle_rules: list[dict[str, Any]] | None = None
    tags: dict[str, str] = field(default_factory=dict)


def read_bucket(s3: Any, name: str) -> BucketState:
    """Every setting of an existing bucket; a missing bucket raises ``NoSuchBucket``."""

    def read(call: Callable[[], Any], missing: str) -> Any:
        return absent_if((missing,), call)

    encryption = read(lambda: s3.get_bucket_encryption(Bucket=name), "ServerSideEncryptionConfigurationNotFoundError")
    public_access = read(lambda: s3.get_public_access_block(Bucket=name), "NoSuchPublicAccessBlockConfiguration")
    ownership = read(lambda: s3.get_bucket_ownership_controls(Bucket=name), "OwnershipControlsNotFoundError")
    policy = read(lambda: s3.get_bucket_policy(Bucket=name), "NoSuchBucketPolicy")
    lifecycle = read(lambda: s3.get_bucket_lifecycle_configuration(Bucket=name), "NoSuchLifecycleConfiguration")
    tagging = read(lambda: s3.get_bucket_tagging(Bucket=name), "NoSuchTagSet")
    return BucketState(
        versioning=s3.get_bucket_versioning(Bucket=name).get("Status"),
        encryption_rules=encryption["ServerSideEncryptionConfiguration"]["Rules"] if encryption else None,
        public_access_block=public_access["PublicAccessBlockConfiguration"] if public_access else None,
        ownership_rules=ownership["OwnershipControls"]["Rules"] if ownership else None,
        policy=json.loads(policy["Policy"]) if policy else None,
        lifecycle_rules=lifecycle["Rules"] if lifecycle else None,
        tags={t["Key"]: t["Value"] for t in tagging["TagSet"]} if tagging else {},
    )


def pin_bucket_owner(s3: Any, account_id: str) -> Any:
    """Make every call of ``s3`` that names a bucket carry ``ExpectedBucketOwner=account_id``.

    With it S3 answers 403 instead of acting when the bucket belongs to another account, so a bucket that
    changed hands between a check and a later call is never read or written
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html). Operations without
    the parameter (``ListBuckets``, ``CreateBucket``) are left as they are. Returns ``s3``.
    """

    def add_owner(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.input_shape is not None and "ExpectedBucketOwner" in model.input_shape.members:
            params.setdefault("ExpectedBucketOwner", account_id)

    s3.meta.events.register("provide-client-params.s3.*", add_owner)
    return s3
