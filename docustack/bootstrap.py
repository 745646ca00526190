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
- It adopts no key it cannot prove is its own: the key must be in the stack's account and region, customer
  managed with KMS key material, single-Region, Enabled, symmetric, with the description and tags bootstrap
  gives it and the declared key policy. Every bucket call carries ``ExpectedBucketOwner`` (the stack's account).
- It never weakens, and deletes only one thing: a key this very run made and that lost the race for the alias
  to a concurrent run (scheduled for deletion in 30 days, its ID printed). A second run finds nothing to do and
  says so; a run that stopped half way is finished by the next one (a key it created but could not alias is
  found again by its description and tags); unaliased look-alike keys are named, never silently left.
- In an account stack's account it makes sure the management account's access role exists (AdministratorAccess,
  trusted by the management account alone; the management account ID from ``DescribeOrganization``), and
  refuses when a role of that name trusts anyone else. Outside an organization it makes none and says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from docustack import state_backend_spec as spec_module
from docustack.bucket_state import BucketState, absent_if, error_code, pin_bucket_owner, read_bucket
from docustack.settings import CONFIG_KEY, StackSettings, is_placeholder
from docustack.state_backend_spec import StateBackendSpec
from policies import minify

Echo = Callable[[str], None]
ACCESS_ROLE_NAME = "OrganizationAccountAccessRole"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
# The longest wait KMS allows before deleting a key: the most time to notice and cancel.
KEY_DELETION_WINDOW_DAYS = 30


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
    made_by_this_run: bool = False


@dataclass
class Review:
    """What bootstrap found: the changes it would make and the conflicts that stop it."""

    changes: list[Change] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things found and named, that bootstrap leaves alone


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

    def __init__(
        self,
        settings: StackSettings,
        stack: str,
        session: boto3.Session,
        management: StackSettings | None = None,
    ) -> None:
        self.settings = settings
        self.stack = stack
        # The management stack's settings, when the project has them: its account ID is cross-checked with the
        # organization's, and its entry for this account names the access role.
        self.management = management
        self.spec = StateBackendSpec.from_settings(settings, stack)
        self.s3 = pin_bucket_owner(session.client("s3"), self.spec.account_id)
        self.kms = session.client("kms")
        self.iam = session.client("iam")
        self.organizations = session.client("organizations")
        self.key: KeyFound | None = None
        self.echo: Echo = print

    # ---- looking

    def review(self) -> Review:
        review = Review()
        self._review_key(review)
        self._review_bucket(review)
        if not self.settings.is_management:
            self._review_access_role(review)
        return review

    # ---- the management account's way into an account stack's account

    @property
    def access_role_name(self) -> str:
        """The role the management stack reaches this account through: its entry's ``roleName`` in the
        management stack's settings, else Organizations' default name."""
        if self.management is not None and self.management.organization is not None:
            for account in self.management.organization.accounts:
                if account.id == self.spec.account_id:
                    return account.role_name
        return ACCESS_ROLE_NAME

    def _review_access_role(self, review: Review) -> None:
        """Invited accounts have no ``OrganizationAccountAccessRole`` (Organizations makes it only in accounts it
        creates: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_create-cross-account-role.html),
        and once protect-guardrails is attached nobody in the account can make a role of an exempt name. So
        bootstrap of an account stack, which runs before the management stack's first ``up``, makes sure it
        exists, as Organizations makes it: AdministratorAccess, trusted by the management account only."""
        spec = self.spec
        try:
            # Any account of an organization may call DescribeOrganization
            # (https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeOrganization.html).
            organization = self.organizations.describe_organization()["Organization"]
        except ClientError as error:
            if error_code(error) != "AWSOrganizationsNotInUseException":
                raise
            # Outside an organization no SCP binds the account, so nothing can lock it out yet; but nothing tells
            # which management account the role must trust either. adopt-check reports the missing role too.
            review.notes.append(
                f"account {spec.account_id} is not a member of an organization yet, so bootstrap cannot tell which "
                f"management account {self.access_role_name} must trust and did not make it. Once the account has "
                "joined, run bootstrap again, before the management stack's `up` adopts it"
            )
            return
        management_id = organization["MasterAccountId"]
        if management_id == spec.account_id:
            review.notes.append(
                f"account {spec.account_id} is the organization's management account: SCPs do not bind it, so it "
                f"needs no {self.access_role_name}"
            )
            return
        declared = self.management.account.id if self.management is not None else None
        if declared is None:
            review.notes.append(
                f"no management stack settings were found (or they do not load), so the management account "
                f"{management_id} that DescribeOrganization names is not checked against them"
            )
        if declared is not None and not is_placeholder(declared) and declared != management_id:
            review.conflicts.append(
                f"the organization's management account is {management_id}, but the management stack's settings "
                f"name {declared} ({CONFIG_KEY}.account.id of the management stack)"
            )
            return
        name = self.access_role_name
        role = absent_if(("NoSuchEntity",), lambda: self.iam.get_role(RoleName=name))
        if role is None:
            review.changes.append(
                Change(
                    f"create the role {name} (AdministratorAccess, trusted only by the management account "
                    f"{management_id})",
                    lambda: self._create_access_role(name, management_id),
                )
            )
            return
        problems = trust_problems(_policy_document(role["Role"]["AssumeRolePolicyDocument"]), management_id)
        if problems:
            review.conflicts += [f"role {name}: {problem}" for problem in problems]
            review.conflicts.append(
                f"role {name} must be trusted by the management account {management_id} alone; bootstrap does "
                "not re-trust an existing role: fix its trust policy by hand, or delete it and run bootstrap again"
            )
            return
        if not self._has_admin_policy(name):
            review.changes.append(
                Change(f"attach AdministratorAccess to the role {name}", lambda: self._attach_admin_policy(name))
            )

    def _has_admin_policy(self, role_name: str) -> bool:
        pages = self.iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
        return any(p["PolicyArn"] == ADMINISTRATOR_ACCESS for page in pages for p in page["AttachedPolicies"])

    def _create_access_role(self, role_name: str, management_id: str) -> None:
        try:
            self.iam.create_role(
                RoleName=role_name,
                AssumeRolePolicyDocument=minify(access_role_trust_policy(management_id)),
                Description="Administrator access for the organization's management account",
            )
        except ClientError as error:
            if error_code(error) != "EntityAlreadyExists":
                raise
            # Made meanwhile (another run, a person): adopt it only if it is trusted as declared.
            document = _policy_document(self.iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"])
            problems = trust_problems(document, management_id)
            if problems:
                raise BootstrapError(
                    f"role {role_name} appeared while bootstrap was creating it, and {'; '.join(problems)}; "
                    "fix its trust policy by hand"
                ) from None
        self._attach_admin_policy(role_name)

    def _attach_admin_policy(self, role_name: str) -> None:
        self.iam.attach_role_policy(RoleName=role_name, PolicyArn=ADMINISTRATOR_ACCESS)

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
            if metadata is None and review.conflicts:
                return
        if metadata is None:
            review.changes.append(Change(f"create the KMS key and its alias {spec.key_alias}", self._create_key))
            return
        problems = self._provenance_problems(metadata)
        if problems:
            review.conflicts += [f"key {metadata['KeyId']}: {problem}" for problem in problems]
            review.conflicts.append(
                f"key {metadata['KeyId']} is therefore not provably this stack's state key, and bootstrap adopts "
                "nothing it cannot prove is its own (docs/state-backends.md, 'What bootstrap adopts')"
            )
            return
        self.key = KeyFound(metadata["KeyId"], metadata["Arn"], has_alias=aliased is not None)
        if not self.kms.get_key_rotation_status(KeyId=self.key.key_id)["KeyRotationEnabled"]:
            review.changes.append(Change("turn on automatic key rotation", self._enable_rotation))
        if not self.key.has_alias:
            review.changes.append(Change(f"create the alias {spec.key_alias}", self._create_alias))
        review.notes += [
            f"key {key_id} looks like a state key an interrupted or concurrent bootstrap run made (the declared "
            f"description and tags, no alias) and is not {self.key.key_id}, the one {spec.key_alias} names. If "
            f"no other bootstrap run is in progress, nothing uses it: aws kms schedule-key-deletion --key-id "
            f"{key_id} --pending-window-in-days 30"
            for key_id in self._candidate_key_ids()
            if key_id != self.key.key_id
        ]

    def _provenance_problems(self, metadata: dict[str, Any]) -> list[str]:
        """Why a key is not provably the state key bootstrap made for this stack; empty when it is.

        Provably ours: in the stack's account and region (an alias can only name a key of its own account and
        Region, https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html, but a configured key ID
        is checked all the same); customer managed, key material from KMS, single-Region, Enabled, symmetric
        ENCRYPT_DECRYPT; the description and tags bootstrap gives it; and the declared key policy.
        """
        spec = self.spec
        problems = _key_problems(metadata)
        arn_parts = str(metadata.get("Arn", "")).split(":")
        if len(arn_parts) < 6 or arn_parts[4] != spec.account_id or arn_parts[3] != spec.region:
            problems.append(f"is {metadata.get('Arn')}, not a key of account {spec.account_id} in {spec.region}")
        if metadata.get("Origin", "AWS_KMS") != "AWS_KMS":
            problems.append(f"has key material from {metadata.get('Origin')}, not from KMS (AWS_KMS)")
        if metadata.get("MultiRegion"):
            problems.append("is a multi-Region key; the state key is a single-Region key")
        if problems:
            return problems  # not readable as ours, or not usable: no need to read its tags and policy
        if metadata.get("Description") != spec.key_description:
            problems.append(
                f"its description is {metadata.get('Description')!r}, not the one bootstrap gives the state key "
                f"({spec.key_description!r})"
            )
        if not self._key_has_spec_tags(metadata["KeyId"]):
            problems.append(f"does not carry the tags bootstrap gives the state key ({_tag_text(spec.tags)})")
        policy = json.loads(self.kms.get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"])
        if policy != spec.key_policy():
            problems.append(
                f"its key policy differs from the declared one ({minify(spec.key_policy())}); bootstrap does not "
                "replace key policies (a wrong one can lock the account out of its key)"
            )
        return problems

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

    def _candidate_key_ids(self) -> list[str]:
        """Keys with the state key's description and tags, not scheduled for deletion: the ones a bootstrap run
        of this stack made."""
        found = []
        for page in self.kms.get_paginator("list_keys").paginate():
            for entry in page["Keys"]:
                metadata = self.kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
                if metadata.get("KeyManager") != "CUSTOMER" or metadata.get("Description") != self.spec.key_description:
                    continue
                if metadata.get("KeyState") == "PendingDeletion":
                    continue
                if self._key_has_spec_tags(entry["KeyId"]):
                    found.append(entry["KeyId"])
        return found

    def _find_unaliased_key(self, review: Review) -> dict[str, Any] | None:
        """A key an earlier run created but could not alias: the declared description and tags."""
        candidates = self._candidate_key_ids()
        if len(candidates) > 1:
            review.conflicts.append(
                f"no alias {self.spec.key_alias}, and several keys look like the state key ({', '.join(candidates)}); "
                f"name the right one in {CONFIG_KEY}.stateBackend.keyId"
            )
            return None
        return self.kms.describe_key(KeyId=candidates[0])["KeyMetadata"] if candidates else None

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
        # A Get call, so that the read-only comparison (docustack adopt-check) can make it too; with
        # ExpectedBucketOwner another account's bucket answers 403, a free name NoSuchBucket.
        try:
            self.s3.get_bucket_location(Bucket=self.spec.bucket_name)
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
        self.key = KeyFound(metadata["KeyId"], metadata["Arn"], has_alias=False, made_by_this_run=True)
        self._enable_rotation()
        self._create_alias()

    def _enable_rotation(self) -> None:
        assert self.key is not None
        self.kms.enable_key_rotation(KeyId=self.key.key_id)

    def _create_alias(self) -> None:
        assert self.key is not None
        try:
            self.kms.create_alias(AliasName=self.spec.key_alias, TargetKeyId=self.key.key_id)
        except ClientError as error:
            if error_code(error) != "AlreadyExistsException":
                raise
            self._lost_the_alias()
            return
        self.key.has_alias = True

    def _lost_the_alias(self) -> None:
        """Another run (or a person) created the alias between our look and our create.

        If the alias names a key that is provably this stack's, that key is the state key: a key this run made
        encrypted nothing yet (the alias comes before any bucket setting) and is scheduled for deletion, with
        its ID printed. Anything else stops the run, naming the key it leaves behind.
        """
        assert self.key is not None
        ours, alias = self.key, self.spec.key_alias
        winner = self._describe_key(alias)
        problems = self._provenance_problems(winner) if winner is not None else ["the alias is gone again"]
        leftover = (
            f"The key {ours.key_id} this run {'made' if ours.made_by_this_run else 'found'} has no alias and "
            "nothing uses it: once the alias is sorted out, delete it with "
            f"aws kms schedule-key-deletion --key-id {ours.key_id} --pending-window-in-days 30"
        )
        if winner is None or problems:
            raise BootstrapError(
                f"while this run was creating {alias}, it appeared pointing to key "
                f"{winner['KeyId'] if winner else '(none)'}, which is not provably this stack's state key: "
                f"{'; '.join(problems)}. {leftover}"
            )
        self.key = KeyFound(winner["KeyId"], winner["Arn"], has_alias=True)
        if not ours.made_by_this_run:
            self.echo(f"  ! {alias} now points to key {winner['KeyId']}, made by another run. {leftover}")
        else:
            try:
                # KMS waits 7 to 30 days before deleting; until then the deletion can be cancelled
                # (https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html).
                self.kms.schedule_key_deletion(KeyId=ours.key_id, PendingWindowInDays=KEY_DELETION_WINDOW_DAYS)
            except ClientError as error:
                raise BootstrapError(
                    f"another bootstrap run created {alias} first (key {winner['KeyId']}), and scheduling the "
                    f"deletion of this run's key failed: {error}. {leftover}"
                ) from None
            self.echo(
                f"  ! another bootstrap run created {alias} first, for key {winner['KeyId']}, which this run "
                f"adopts; the key this run made, {ours.key_id}, encrypted nothing and is scheduled for deletion "
                f"in {KEY_DELETION_WINDOW_DAYS} days (aws kms cancel-key-deletion --key-id {ours.key_id} keeps it)"
            )
        if not self.kms.get_key_rotation_status(KeyId=self.key.key_id)["KeyRotationEnabled"]:
            self._enable_rotation()

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


def access_role_trust_policy(management_id: str) -> dict[str, Any]:
    """The trust policy Organizations gives ``OrganizationAccountAccessRole`` in an account it creates: the
    management account, and through it whom its IAM policies allow
    (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_access-cross-account-role.html)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{management_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def trust_problems(document: dict[str, Any], management_id: str) -> list[str]:
    """Who else than the management account an access role's trust policy lets in; empty when nobody.

    Deny statements and conditions only narrow, so they are accepted; every ``Allow`` must name the management
    account (as its ARN or its 12-digit ID, which IAM stores as the ARN) and nothing else.
    """
    accepted = {f"arn:aws:iam::{management_id}:root", management_id}
    statements = document.get("Statement", [])
    problems = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            problems.append(f"trusts everyone but {json.dumps(statement['NotPrincipal'])} (NotPrincipal)")
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, dict) or set(principal) != {"AWS"}:
            problems.append(f"trusts {json.dumps(principal)}, not only the management account {management_id}")
            continue
        values = principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
        others = [value for value in values if value not in accepted]
        if others:
            problems.append(f"trusts {', '.join(others)}, not only the management account {management_id}")
    return problems


def _policy_document(document: Any) -> dict[str, Any]:
    """IAM hands policy documents back URL-encoded; boto3 usually decodes them already."""
    if isinstance(document, str):
        return json.loads(unquote(document))
    return document


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


def bootstrap(
    settings: StackSettings,
    stack: str,
    session: boto3.Session,
    echo: Echo = print,
    *,
    management: StackSettings | None = None,
) -> BootstrapResult:
    """Check the target, look, then make what is missing; raises :class:`BootstrapError` to refuse or fail.

    ``management``: the management stack's settings, if the project has them (see :class:`Bootstrapper`)."""
    try:
        caller = check_target(settings, stack, session)
        echo(f"Stack {stack}: account {settings.account.id}, region {session.region_name}, as {caller}")
        bootstrapper = Bootstrapper(settings, stack, session, management)
        bootstrapper.echo = echo
        review = bootstrapper.review()
    except (BotoCoreError, ClientError, ValueError) as error:
        # ValueError: botocore's answer to a malformed AWS_MAX_ATTEMPTS or endpoint URL in the environment or profile
        raise BootstrapError(f"could not read the account's state bucket and key: {error}") from None
    spec = bootstrapper.spec
    if review.conflicts:
        lines = "\n".join(f"  - {conflict}" for conflict in review.conflicts)
        raise BootstrapError(
            f"refusing to bootstrap stack {stack!r}; nothing was changed. These differ from the declared settings "
            f"in a way bootstrap will not decide for you:\n{lines}"
        )
    for note in review.notes:
        echo(f"  ! {note}")
    done = []
    for change in review.changes:
        try:
            change.apply()
        except (BotoCoreError, ClientError) as error:
            raise BootstrapError(_failure_message(change, error, done)) from None
        except KeyboardInterrupt:
            # Each change is one AWS call (or a call and its follow-up), and every one is found again and finished
            # by the next run: say so, then let the interrupt end the command.
            echo(
                f"  ! interrupted while trying to {change.description}"
                + (f"; done before: {'; '.join(done)}" if done else "")
                + ". Nothing was deleted; run bootstrap again to finish"
            )
            raise
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
        if "role" in change.description:
            message += (
                "\n  Once protect-guardrails is attached, only the exempt roles may create a role of an exempt "
                "name: run bootstrap of every account stack before the management stack's first `pulumi up`, or "
                "as the break-glass role."
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
