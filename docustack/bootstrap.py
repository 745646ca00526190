"""``docustack bootstrap --stack NAME``: make the stack's state bucket and key before its first ``pulumi up``.

The chicken-and-egg step: Pulumi needs the bucket to keep the state of the stack that declares the bucket.
This command, with boto3 and the operator's credentials for the stack's account, creates (or finds) exactly
what :mod:`docustack.state_backend_spec` declares, which is what the ``StateBackend`` component declares too.
The stack's first ``pulumi up`` then adopts the bucket, key and alias (docs/state-backends.md).

Rules:

- It refuses to run with credentials for another account than the stack's config names, in a region that is
  not the stack's (and allowed), or while the account ID is still a ``<placeholder>``.
- It looks first and changes afterwards. Whatever is missing is made; whatever is weaker than declared and
  has one safe stronger setting is strengthened (versioning on, key rotation on, the four Block Public Access
  flags on, ACLs disabled, default encryption from none or SSE-S3 to SSE-KMS with the state key). Anything
  else that differs (another KMS key, another bucket or key policy, another lifecycle, a key that is disabled
  or scheduled for deletion, a bucket in another region or owned by someone else) is a conflict: it lists
  every conflict, changes nothing, and leaves the decision to a person.
- It never deletes and never weakens. A second run finds nothing to do and says so; a run that stopped half
  way is finished by the next one (a key it created but could not alias is found again by its tags).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from docustack import state_backend_spec as spec_module
from docustack.bucket_state import BucketState, error_code, read_bucket
from docustack.settings import CONFIG_KEY, StackSettings, is_placeholder
from docustack.state_backend_spec import StateBackendSpec
from policies import minify

Echo = Callable[[str], None]


class BootstrapError(Exception):
    """Bootstrap refused or failed; ``str()`` is the message for the operator."""


@dataclass(frozen=True)
class Change:
    description: str
    apply: Callable[[], None]


@dataclass
class KeyFound:
    key_id: str
    arn: str
    has_alias: bool


@dataclass
class Review:
    """What bootstrap found: the changes it would make and the conflicts that stop it."""

    changes: list[Change] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BootstrapResult:
    key_id: str
    key_arn: str
    changes: tuple[str, ...]
    login_url: str
    secrets_provider: str


def check_target(settings: StackSettings, stack: str, session: boto3.Session) -> str:
    """Refuse placeholders, another region or another account; returns the caller's ARN."""
    account = settings.account
    if is_placeholder(account.id):
        raise BootstrapError(
            f"refusing to bootstrap stack {stack!r}: {CONFIG_KEY}.account.id is still the placeholder "
            f"{account.id}; fill in the account ID in Pulumi.{stack}.yaml first"
        )
    region = session.region_name
    if not region:
        raise BootstrapError(
            f"no AWS region is configured; set AWS_DEFAULT_REGION={account.region} (the stack's region) or the profile's region"
        )
    if region not in settings.allowed_regions:
        raise BootstrapError(
            f"refusing to bootstrap in {region}: the stack's allowed regions are {', '.join(settings.allowed_regions)}"
        )
    if region != account.region:
        raise BootstrapError(
            f"refusing to bootstrap in {region}: stack {stack!r} deploys to {account.region}, and its provider "
            f"could not adopt a bucket and key in another region; set AWS_DEFAULT_REGION={account.region}"
        )
    identity = session.client("sts").get_caller_identity()
    if identity["Account"] != account.id:
        raise BootstrapError(
            f"refusing to bootstrap stack {stack!r}: the credentials are for account {identity['Account']} "
            f"({identity['Arn']}), but Pulumi.{stack}.yaml says the stack's account is {account.id}"
        )
    return identity["Arn"]


class Bootstrapper:
    """Looks at the account's state bucket and key, then makes them as declared."""

    def __init__(self, settings: StackSettings, stack: str, session: boto3.Session) -> None:
        self.settings = settings
        self.stack = stack
        self.spec = StateBackendSpec.from_settings(settings, stack)
        self.s3 = session.client("s3")
        self.kms = session.client("kms")
        self.key: KeyFound | None = None

    # ---- looking

    def review(self) -> Review:
        review = Review()
        self._review_key(review)
        self._review_bucket(review)
        return review

    def _review_key(self, review: Review) -> None:
        spec = self.spec
        configured = self.settings.state_backend.key_id
        configured = None if configured is None or is_placeholder(configured) else configured
        aliased = self._describe_key(spec.key_alias)
        if aliased is not None:
            metadata = aliased
            if configured and configured != metadata["KeyId"]:
                review.conflicts.append(
                    f"{spec.key_alias} points to key {metadata['KeyId']}, but {CONFIG_KEY}.stateBackend.keyId "
                    f"names {configured}"
                )
                return
        elif configured:
            metadata = self._describe_key(configured)
            if metadata is None:
                review.conflicts.append(
                    f"{CONFIG_KEY}.stateBackend.keyId names key {configured}, which this account does not have"
                )
                return
        else:
            metadata = self._find_unaliased_key(review)
        if metadata is None:
            review.changes.append(Change(f"create the KMS key and its alias {spec.key_alias}", self._create_key))
            return
        self.key = KeyFound(metadata["KeyId"], metadata["Arn"], has_alias=aliased is not None)
        problems = _key_problems(metadata)
        if problems:
            review.conflicts += [f"key {metadata['KeyId']}: {problem}" for problem in problems]
            return
        policy = json.loads(self.kms.get_key_policy(KeyId=self.key.key_id, PolicyName="default")["Policy"])
        if policy != spec.key_policy():
            review.conflicts.append(
                f"key {self.key.key_id}: its key policy differs from the declared one ({minify(spec.key_policy())}); "
                "bootstrap does not replace key policies (a wrong one can lock the account out of its key)"
            )
        if not self.kms.get_key_rotation_status(KeyId=self.key.key_id)["KeyRotationEnabled"]:
            review.changes.append(Change("turn on automatic key rotation", self._enable_rotation))
        if not self._key_has_spec_tags(self.key.key_id):
            review.changes.append(Change(f"tag the key {_tag_text(spec.tags)}", self._tag_key))
        if not self.key.has_alias:
            review.changes.append(Change(f"create the alias {spec.key_alias}", self._create_alias))

    def _describe_key(self, key_id: str) -> dict[str, Any] | None:
        try:
            return self.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        except ClientError as error:
            if error_code(error) == "NotFoundException":
                return None
            raise

    def _key_has_spec_tags(self, key_id: str) -> bool:
        tags = {t["TagKey"]: t["TagValue"] for t in self.kms.list_resource_tags(KeyId=key_id)["Tags"]}
        return all(tags.get(k) == v for k, v in self.spec.tags.items())

    def _kms_tags(self) -> list[dict[str, str]]:
        return [{"TagKey": k, "TagValue": v} for k, v in self.spec.tags.items()]

    def _find_unaliased_key(self, review: Review) -> dict[str, Any] | None:
        """A key an earlier run created but could not alias: the declared description and tags."""
        candidates = []
        for page in self.kms.get_paginator("list_keys").paginate():
            for entry in page["Keys"]:
                metadata = self.kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
                if metadata.get("KeyManager") != "CUSTOMER" or metadata.get("Description") != self.spec.key_description:
                    continue
                if metadata.get("KeyState") == "PendingDeletion":
                    continue
                if self._key_has_spec_tags(entry["KeyId"]):
                    candidates.append(metadata)
        if len(candidates) > 1:
            ids = ", ".join(c["KeyId"] for c in candidates)
            review.conflicts.append(
                f"no alias {self.spec.key_alias}, and several keys look like the state key ({ids}); "
                f"name the right one in {CONFIG_KEY}.stateBackend.keyId"
            )
            return None
        return candidates[0] if candidates else None

    def _review_bucket(self, review: Review) -> None:
        spec = self.spec
        name = spec.bucket_name
        owned = any(b["Name"] == name for b in self.s3.list_buckets(Prefix=name).get("Buckets", []))
        if not owned:
            if self._bucket_exists_elsewhere():
                review.conflicts.append(_taken_message(name))
                return
            review.changes.append(Change(f"create the bucket {name} in {spec.region}", self._create_bucket))
            review.changes += self._bucket_setting_changes(BucketState())
            return
        location = self.s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
        if location != spec.region:
            review.conflicts.append(f"bucket {name} is in {location}, not in the stack's region {spec.region}")
            return
        state = read_bucket(self.s3, name)
        review.conflicts += self._bucket_conflicts(state)
        review.changes += self._bucket_setting_changes(state)

    def _bucket_exists_elsewhere(self) -> bool:
        try:
            self.s3.head_bucket(Bucket=self.spec.bucket_name)
        except ClientError as error:
            if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
                return False
        return True  # it answered (or refused us): someone else's

    def _bucket_conflicts(self, state: BucketState) -> list[str]:
        spec = self.spec
        conflicts = []
        for rule in state.encryption_rules or []:
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            algorithm = default.get("SSEAlgorithm")
            key = default.get("KMSMasterKeyID")
            if algorithm == "AES256" or (
                algorithm == spec_module.SSE_ALGORITHM and (key is None or self._is_state_key(key))
            ):
                continue
            conflicts.append(
                f"bucket {spec.bucket_name}: default encryption is {algorithm} with key {key}, not the state key; "
                "bootstrap does not move a bucket to another key"
            )
        if state.policy is not None and state.policy != spec.bucket_policy():
            conflicts.append(
                f"bucket {spec.bucket_name}: its bucket policy differs from the declared TLS-only policy "
                f"({minify(spec.bucket_policy())}); bootstrap does not replace bucket policies"
            )
        if state.lifecycle_rules is not None and spec_module.whole_bucket_rules(state.lifecycle_rules) != [
            spec.lifecycle_rule()
        ]:
            conflicts.append(
                f"bucket {spec.bucket_name}: its lifecycle rules differ from the declared one "
                f"({json.dumps(spec.lifecycle_rule())}); bootstrap does not replace lifecycle rules"
            )
        return conflicts

    def _is_state_key(self, key: str) -> bool:
        if self.key is None:
            return False
        return key in (self.key.key_id, self.key.arn, self.spec.key_alias) or key.endswith(f":{self.spec.key_alias}")

    def _bucket_setting_changes(self, state: BucketState) -> list[Change]:
        """The settings to make or strengthen; conflicts are reported by :meth:`_bucket_conflicts`."""
        spec = self.spec
        changes = []
        wanted_ownership = [{"ObjectOwnership": spec_module.OBJECT_OWNERSHIP}]
        if state.ownership_rules != wanted_ownership:
            changes.append(Change("disable ACLs (Object Ownership BucketOwnerEnforced)", self._put_ownership))
        if state.public_access_block != spec_module.PUBLIC_ACCESS_BLOCK:
            changes.append(Change("turn on all four Block Public Access settings", self._put_public_access_block))
        if state.versioning != spec_module.VERSIONING_STATUS:
            changes.append(Change("turn on versioning", self._put_versioning))
        if not self._encryption_is_declared(state.encryption_rules):
            changes.append(
                Change("encrypt by default with SSE-KMS, the state key and an S3 Bucket Key", self._put_encryption)
            )
        if state.policy is None:
            changes.append(Change("put the TLS-only bucket policy", self._put_policy))
        if state.lifecycle_rules is None:
            changes.append(Change("put the lifecycle rule for noncurrent versions", self._put_lifecycle))
        if any(state.tags.get(k) != v for k, v in spec.tags.items()):
            changes.append(Change(f"tag the bucket {_tag_text(spec.tags)}", lambda: self._tag_bucket(state.tags)))
        return changes

    def _encryption_is_declared(self, rules: list[dict[str, Any]] | None) -> bool:
        if not rules or len(rules) != 1:
            return False
        rule = rules[0]
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        return (
            default.get("SSEAlgorithm") == spec_module.SSE_ALGORITHM
            and self.key is not None
            and default.get("KMSMasterKeyID") == self.key.arn
            and rule.get("BucketKeyEnabled", False) == spec_module.BUCKET_KEY_ENABLED
        )

    # ---- changing

    def _create_key(self) -> None:
        spec = self.spec
        metadata = self.kms.create_key(
            Description=spec.key_description,
            KeyUsage=spec_module.KEY_USAGE,
            KeySpec=spec_module.KEY_SPEC,
            Policy=minify(spec.key_policy()),
            Tags=self._kms_tags(),
        )["KeyMetadata"]
        self.key = KeyFound(metadata["KeyId"], metadata["Arn"], has_alias=False)
        self._enable_rotation()
        self._create_alias()

    def _enable_rotation(self) -> None:
        assert self.key is not None
        self.kms.enable_key_rotation(KeyId=self.key.key_id)

    def _tag_key(self) -> None:
        assert self.key is not None
        self.kms.tag_resource(KeyId=self.key.key_id, Tags=self._kms_tags())

    def _create_alias(self) -> None:
        assert self.key is not None
        self.kms.create_alias(AliasName=self.spec.key_alias, TargetKeyId=self.key.key_id)
        self.key.has_alias = True

    def _create_bucket(self) -> None:
        spec = self.spec
        arguments: dict[str, Any] = {"Bucket": spec.bucket_name}
        if spec.region != "us-east-1":  # us-east-1 takes no location constraint
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": spec.region}
        try:
            self.s3.create_bucket(**arguments)
        except ClientError as error:
            if error_code(error) == "BucketAlreadyExists":
                raise BootstrapError(_taken_message(spec.bucket_name)) from None
            if error_code(error) != "BucketAlreadyOwnedByYou":
                raise

    def _put_ownership(self) -> None:
        self.s3.put_bucket_ownership_controls(
            Bucket=self.spec.bucket_name,
            OwnershipControls={"Rules": [{"ObjectOwnership": spec_module.OBJECT_OWNERSHIP}]},
        )

    def _put_public_access_block(self) -> None:
        self.s3.put_public_access_block(
            Bucket=self.spec.bucket_name, PublicAccessBlockConfiguration=dict(spec_module.PUBLIC_ACCESS_BLOCK)
        )

    def _put_versioning(self) -> None:
        self.s3.put_bucket_versioning(
            Bucket=self.spec.bucket_name, VersioningConfiguration={"Status": spec_module.VERSIONING_STATUS}
        )

    def _put_encryption(self) -> None:
        assert self.key is not None
        self.s3.put_bucket_encryption(
            Bucket=self.spec.bucket_name,
            ServerSideEncryptionConfiguration={"Rules": [self.spec.encryption_rule(self.key.arn)]},
        )

    def _put_policy(self) -> None:
        self.s3.put_bucket_policy(Bucket=self.spec.bucket_name, Policy=minify(self.spec.bucket_policy()))

    def _put_lifecycle(self) -> None:
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=self.spec.bucket_name, LifecycleConfiguration={"Rules": [self.spec.lifecycle_rule()]}
        )

    def _tag_bucket(self, existing: dict[str, str]) -> None:
        # PutBucketTagging replaces the whole set: keep the tags that are there.
        tags = {**existing, **self.spec.tags}
        self.s3.put_bucket_tagging(
            Bucket=self.spec.bucket_name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )


def _key_problems(metadata: dict[str, Any]) -> list[str]:
    problems = []
    if metadata.get("KeyManager") != "CUSTOMER":
        problems.append("is an AWS managed key, not a customer managed one")
    if metadata.get("KeyState") != "Enabled":
        problems.append(
            f"is {metadata.get('KeyState')}; enable it (or cancel its deletion) by hand if it is the state key"
        )
    if metadata.get("KeySpec", spec_module.KEY_SPEC) != spec_module.KEY_SPEC:
        problems.append(f"is a {metadata.get('KeySpec')} key, not {spec_module.KEY_SPEC}")
    if metadata.get("KeyUsage", spec_module.KEY_USAGE) != spec_module.KEY_USAGE:
        problems.append(f"is for {metadata.get('KeyUsage')}, not {spec_module.KEY_USAGE}")
    return problems


def _taken_message(bucket: str) -> str:
    return (
        f"the bucket name {bucket} is taken by another AWS account (bucket names are global); "
        "this account cannot own its state bucket under the declared name. Find out who owns it before going on"
    )


def _tag_text(tags: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in tags.items())


def bootstrap(settings: StackSettings, stack: str, session: boto3.Session, echo: Echo = print) -> BootstrapResult:
    """Check the target, look, then make what is missing; raises :class:`BootstrapError` to refuse or fail."""
    try:
        caller = check_target(settings, stack, session)
        echo(f"Stack {stack}: account {settings.account.id}, region {session.region_name}, as {caller}")
        bootstrapper = Bootstrapper(settings, stack, session)
        review = bootstrapper.review()
    except (BotoCoreError, ClientError) as error:
        raise BootstrapError(f"could not read the account's state bucket and key: {error}") from None
    spec = bootstrapper.spec
    if review.conflicts:
        lines = "\n".join(f"  - {conflict}" for conflict in review.conflicts)
        raise BootstrapError(
            f"refusing to bootstrap stack {stack!r}; nothing was changed. These differ from the declared settings "
            f"in a way bootstrap will not decide for you:\n{lines}"
        )
    done = []
    for change in review.changes:
        try:
            change.apply()
        except (BotoCoreError, ClientError) as error:
            raise BootstrapError(_failure_message(change, error, done)) from None
        done.append(change.description)
        echo(f"  + {change.description}")
    if not done:
        echo(f"Nothing to change: {spec.bucket_name} and {spec.key_alias} already have the declared settings.")
    assert bootstrapper.key is not None
    return BootstrapResult(
        key_id=bootstrapper.key.key_id,
        key_arn=bootstrapper.key.arn,
        changes=tuple(done),
        login_url=spec.login_url(bootstrapper.key.arn),
        secrets_provider=spec.secrets_provider,
    )


def _failure_message(change: Change, error: Exception, done: list[str]) -> str:
    message = f"failed to {change.description}: {error}"
    if isinstance(error, ClientError) and error_code(error) in ("AccessDenied", "AccessDeniedException"):
        message += (
            "\n  In a Workloads account the Deny Public S3 SCP lets only the exempt roles change Block Public "
            "Access: run bootstrap as OrganizationAccountAccessRole (or the break-glass role)."
        )
    if done:
        message += f"\n  Done before the failure: {'; '.join(done)}."
    return message + "\n  Nothing was deleted; run bootstrap again to finish."


def next_steps(settings: StackSettings, stack: str, result: BootstrapResult) -> str:
    """What the operator runs next, in order."""
    configured = settings.state_backend.key_id
    key_line = (
        f"   Pulumi.{stack}.yaml already names this key ({CONFIG_KEY}.stateBackend.keyId)."
        if configured == result.key_id
        else f"   In Pulumi.{stack}.yaml set {CONFIG_KEY}.stateBackend.keyId to {result.key_id}\n"
        f"   (stateBackend:\n     keyId: {result.key_id})"
    )
    return "\n".join(
        [
            "",
            "Next steps (docs/state-backends.md):",
            "1. Point the Pulumi CLI (>= 3.113) at the bucket; ssetype/kmskeyid make every state write carry the",
            "   encryption header that the Require S3 Encryption SCP demands:",
            f"   pulumi login '{result.login_url}'",
            "2. Create the stack with the account's key as its secrets provider:",
            f"   pulumi stack init {stack} --secrets-provider '{result.secrets_provider}'",
            "3. Let the stack adopt the key:",
            key_line,
            "4. Review, then adopt the bucket, key and alias on the first update:",
            f"   pulumi preview --stack {stack}",
            f"   pulumi up --stack {stack}",
        ]
    )
