"""What every private bucket of the program has, compared with a live bucket: the Log Archive buckets and the
state buckets share versioning, Block Public Access, ownership and SSE-KMS with a bucket key
(:mod:`docustack.state_backend_spec` holds those values, the components declare them from there)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from docustack.bucket_state import BucketState, absent_if, read_bucket
from docustack.state_backend_spec import (
    BUCKET_KEY_ENABLED,
    OBJECT_OWNERSHIP,
    PUBLIC_ACCESS_BLOCK,
    SSE_ALGORITHM,
    VERSIONING_STATUS,
    whole_bucket_rules,
)
from docustack.verify.framework import Finding, compared

NOT_FOUND = "not found"


def on_off(value: object) -> str:
    return "on" if value else "off"


def read_live_bucket(s3: Any, name: str) -> BucketState | None:
    """The bucket's settings, None when there is no such bucket (a denial still raises)."""
    return absent_if(("NoSuchBucket",), lambda: read_bucket(s3, name))


def public_access_text(config: Mapping[str, bool] | None) -> str:
    """The four Block Public Access flags, for a bucket or an account (the same names in both APIs)."""
    config = config or {}
    return ", ".join(f"{flag} {on_off(config.get(flag, False))}" for flag in PUBLIC_ACCESS_BLOCK)


def encryption_text(algorithm: str | None, key: str | None, bucket_key: bool | None) -> str:
    """``bucket_key`` None (a rule that does not name it) reads as off, as ``on_off`` reads any false value."""
    return f"{algorithm} with {key or 'no key named'}, bucket key {on_off(bucket_key)}"


def live_encryption_text(rules: list[dict[str, Any]] | None) -> str:
    texts = []
    for rule in rules or []:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        texts.append(
            encryption_text(default.get("SSEAlgorithm"), default.get("KMSMasterKeyID"), rule.get("BucketKeyEnabled"))
        )
    return "; ".join(texts) or "none"


def private_bucket_findings(resource: str, state: BucketState, key_arn: str) -> Iterator[Finding]:
    """Versioning, the four Block Public Access flags, ACLs disabled, SSE-KMS with ``key_arn`` and a bucket key."""
    yield compared(f"{resource}/Versioning", VERSIONING_STATUS, state.versioning or "never enabled")
    yield compared(
        f"{resource}/PublicAccessBlock",
        public_access_text(PUBLIC_ACCESS_BLOCK),
        public_access_text(state.public_access_block),
    )
    ownership = ", ".join(rule.get("ObjectOwnership", "") for rule in state.ownership_rules or [])
    yield compared(f"{resource}/Ownership", OBJECT_OWNERSHIP, ownership or "none (ACLs enabled)")
    yield compared(
        f"{resource}/Encryption",
        encryption_text(SSE_ALGORITHM, key_arn, BUCKET_KEY_ENABLED),
        live_encryption_text(state.encryption_rules),
    )


def lifecycle_text(rules: list[dict[str, Any]] | None) -> str:
    """A whole lifecycle configuration as canonical JSON: every rule (by ID), its filter, transitions,
    expirations, noncurrent-version actions and multipart abort. An empty filter and an empty prefix both mean
    every object (:func:`whole_bucket_rules`); nothing else is normalized away, so any other rule, filter or
    number differs. ``None``: the bucket has no lifecycle configuration."""
    if not rules:
        return "none"
    ordered = sorted(whole_bucket_rules(rules), key=lambda rule: json.dumps(rule, sort_keys=True))
    return json.dumps(ordered, sort_keys=True)


def compared_lifecycle(resource: str, declared: list[dict[str, Any]], live: list[dict[str, Any]] | None) -> Finding:
    """The bucket's whole lifecycle configuration against the declared rules; the detail names the rule IDs."""
    ids = ", ".join(sorted(str(rule.get("ID", "")) for rule in live or [])) or "none"
    return compared(
        f"{resource}/Lifecycle", lifecycle_text(declared), lifecycle_text(live), detail=f"live rules: {ids}"
    )
