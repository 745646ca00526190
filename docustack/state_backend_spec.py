"""The state backend's settings, once: read by the ``StateBackend`` component and by ``docustack bootstrap``.

Bootstrap creates the bucket and key with boto3 before the stack exists; the stack's first ``pulumi up`` then
adopts them. Both must declare exactly the same thing, so both read it from here, in the shapes of the S3 and
KMS APIs (the component translates them into Pulumi arguments; the tests read the bucket back from moto and
compare it with these same values).

Naming: the strategy document's per-account bucket is ``docustack-terraform-state-<account id>``, for
Terraform state. This program's state is Pulumi's, so its bucket is ``<prefix>-pulumi-state-<account id>``:
the same scheme (prefix, tool, account ID), a name that says which tool's state it holds, and no clash with
a Terraform bucket that may already exist in the account (docs/state-backends.md, "Bucket naming").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from docustack.settings import StackSettings

POLICY_VERSION = "2012-10-17"
LIFECYCLE_RULE_ID = "expire-noncurrent-state-versions"
ABORT_INCOMPLETE_MULTIPART_DAYS = 7
# S3's four Block Public Access flags, all on
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html).
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
OBJECT_OWNERSHIP = "BucketOwnerEnforced"  # ACLs disabled
VERSIONING_STATUS = "Enabled"
SSE_ALGORITHM = "aws:kms"
BUCKET_KEY_ENABLED = True  # fewer KMS requests per object; the key policy is unaffected
KEY_SPEC = "SYMMETRIC_DEFAULT"
KEY_USAGE = "ENCRYPT_DECRYPT"
KEY_ROTATION_ENABLED = True


def provider_default_tags(prefix: str, stack: str) -> dict[str, str]:
    """The tags the stack's provider puts on everything. Bootstrap tags what it creates the same, so the import
    on the first ``pulumi up`` finds nothing to change."""
    return {"ManagedBy": "pulumi", "Project": prefix, "Stack": stack}


def whole_bucket_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lifecycle rules as read back: an empty filter and an empty prefix both mean every object, and S3 may hand
    back either."""
    return [{**rule, "Filter": {"Prefix": ""}} if rule.get("Filter") == {} else rule for rule in rules]


@dataclass(frozen=True)
class StateBackendSpec:
    """One account's state bucket and key, as both the component and bootstrap must make them."""

    prefix: str
    stack: str
    account_id: str
    region: str
    noncurrent_version_expiration_days: int = 90

    @classmethod
    def from_settings(cls, settings: StackSettings, stack: str) -> StateBackendSpec:
        return cls(
            prefix=settings.prefix,
            stack=stack,
            account_id=settings.account.id,
            region=settings.account.region,
            noncurrent_version_expiration_days=settings.state_backend.noncurrent_version_expiration_days,
        )

    # ---- names

    @property
    def bucket_name(self) -> str:
        return f"{self.prefix}-pulumi-state-{self.account_id}"

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket_name}"

    @property
    def key_alias(self) -> str:
        """One key encrypts the state objects (SSE-KMS) and is Pulumi's secrets provider: the same people may
        read both, so one key and one policy describe who can."""
        return f"alias/{self.prefix}-pulumi-state"

    @property
    def key_description(self) -> str:
        return f"Pulumi state bucket {self.bucket_name} and secrets provider of stack {self.stack}"

    @property
    def terraform_lock_table_name(self) -> str:
        return f"{self.prefix}-terraform-locks"

    # ---- documents and settings, in the APIs' shapes

    @property
    def tags(self) -> dict[str, str]:
        return provider_default_tags(self.prefix, self.stack)

    def bucket_policy(self) -> dict[str, Any]:
        """TLS only: deny every S3 request over plain HTTP (S3 user guide, example bucket policies)."""
        return {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [self.bucket_arn, f"{self.bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }

    def key_policy(self) -> dict[str, Any]:
        """KMS's default key policy: the account's IAM policies decide who may use the key. Without this
        statement the key would become unmanageable; with it the preview role's kms:Decrypt grant works."""
        return {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "EnableIamPolicies",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{self.account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }

    def encryption_rule(self, key_arn: str) -> dict[str, Any]:
        return {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE_ALGORITHM, "KMSMasterKeyID": key_arn},
            "BucketKeyEnabled": BUCKET_KEY_ENABLED,
        }

    def lifecycle_rule(self) -> dict[str, Any]:
        """Old versions of state files expire; the current ones never do. Versioning keeps every overwrite
        of a checkpoint recoverable for ``noncurrent_version_expiration_days``."""
        return {
            "ID": LIFECYCLE_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": self.noncurrent_version_expiration_days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_INCOMPLETE_MULTIPART_DAYS},
        }

    # ---- how the Pulumi CLI is pointed at it

    def login_url(self, key_arn: str) -> str:
        """``pulumi login`` URL. ``ssetype``/``kmskeyid`` make the CLI send the SSE header on every write,
        which the Require S3 Encryption SCP demands (pulumi/pulumi#9341; Pulumi CLI >= 3.113)."""
        return (
            f"s3://{self.bucket_name}?region={self.region}&ssetype={SSE_ALGORITHM}&kmskeyid={quote(key_arn, safe='')}"
        )

    @property
    def secrets_provider(self) -> str:
        return f"awskms://{self.key_alias}?region={self.region}"
