"""Checks of the audit services the management stack composes (docs/audit-services.md): the organization trail,
the Log Archive buckets, the Config delegated administrators, aggregator and recorders, GuardDuty and Security Hub.

The expected values are the program's own: the trail flags of :mod:`components.organization_trail`, the bucket
and key policy builders of :mod:`components.log_archive`, the constants of the Config, GuardDuty and Security Hub
components, the names of :mod:`docustack.settings`. Resources in the Log Archive and Audit accounts are read
through ``context.member_session`` (``--member-role`` narrowed to ``ReadOnlyAccess``). A management stack without
``organization.auditServices`` declares none of this, and these checks find nothing to compare.

Config recording is checked from the management stack: the management account records through the management stack,
the Log Archive and Audit accounts through the organization baseline (the same recorder and channel); every other
member account's recorder is checked by ``BASELINE-RECORDERS`` (:mod:`.baseline_org_checks`). An account stack makes
no recorder of its own any more.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any
from urllib.parse import unquote

import policies
from components.config_aggregator import ALL_REGIONS, DELEGATED_SERVICES, ORGANIZATIONS_ROLE_POLICY_ARN
from components.config_recorder import RECORD_ALL_SUPPORTED, RECORDER_NAME, ConfigRecorderArgs
from components.guardduty_organization import AUTO_ENABLE_ORGANIZATION_MEMBERS
from components.log_archive import (
    config_bucket_policy,
    delivery_account_ids,
    key_alias,
    lifecycle_rule,
    log_bucket_policy,
    log_key_policy,
)
from components.organization_trail import LOGGING_ENABLED, TRAIL_SETTINGS
from components.security_hub_organization import AUTO_ENABLE, AUTO_ENABLE_STANDARDS
from docustack.bucket_state import BucketState, absent_if
from docustack.settings import AuditServicesSettings
from docustack.stacks import LOG_ARCHIVE
from docustack.state_backend_spec import KEY_ROTATION_ENABLED, KEY_SPEC, KEY_USAGE
from docustack.verify.buckets import (
    NOT_FOUND,
    compared_lifecycle,
    on_off,
    private_bucket_findings,
    read_live_bucket,
)
from docustack.verify.framework import MEDIUM, CheckContext, Finding, check, compared, drift
from docustack.verify.organization_checks import LiveOrganization
from docustack.verify.policy_compare import compared_documents

ACCOUNT_NOT_FOUND = f"account {NOT_FOUND}"
LOG_BUCKET, CONFIG_BUCKET = "", "config"  # the purposes in settings.log_archive_bucket_name


class LiveAudit:
    """The Log Archive and Audit accounts as they are now, their buckets and the Log Archive key."""

    def __init__(self, context: CheckContext) -> None:
        self.context = context
        organization = context.settings.organization
        assert organization is not None and organization.audit_services is not None
        self.declared: AuditServicesSettings = organization.audit_services
        self.organization = context.reader(LiveOrganization)
        self.log_archive_name = organization.log_archive_account
        self.audit_name = self.declared.audit_account
        self._buckets: dict[str, BucketState | None] = {}

    @property
    def log_archive_id(self) -> str | None:
        return self.organization.account_ids.get(self.log_archive_name)

    @property
    def audit_id(self) -> str | None:
        return self.organization.account_ids.get(self.audit_name)

    @property
    def delivery_account_ids(self) -> list[str]:
        """The accounts the services deliver for, as the program lists them (compose_audit_services): the
        management account and the declared accounts that exist."""
        return delivery_account_ids(self.context.settings.account.id, list(self.organization.account_ids.values()))

    def bucket_name(self, purpose: str) -> str:
        account_id = self.log_archive_id or f"<{self.log_archive_name} {ACCOUNT_NOT_FOUND}>"
        return self.context.settings.log_archive_bucket_name(account_id, purpose)

    def bucket(self, purpose: str) -> BucketState | None:
        """A Log Archive bucket's settings, read once per run; None when the bucket (or its account) is missing."""
        if purpose not in self._buckets:
            account_id = self.log_archive_id
            s3 = self.context.member_client(account_id, "s3") if account_id else None
            self._buckets[purpose] = read_live_bucket(s3, self.bucket_name(purpose)) if s3 else None
        return self._buckets[purpose]

    def object_lock(self, bucket: str) -> dict[str, Any] | None:
        """An existing Log Archive bucket's Object Lock configuration; None when Object Lock is off."""
        s3 = self.context.member_client(self.log_archive_id or "", "s3")
        return absent_if(
            ("ObjectLockConfigurationNotFoundError",),
            lambda: s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"],
        )

    @cached_property
    def key_arn(self) -> str:
        """The Log Archive key, found by its alias; a description of what is missing otherwise (never equal to
        a live ARN, so every comparison with it drifts)."""
        alias = key_alias(LOG_ARCHIVE)
        if self.log_archive_id is None:
            return f"the key of {alias} ({self.log_archive_name} {ACCOUNT_NOT_FOUND})"
        kms = self.context.member_client(self.log_archive_id, "kms")
        key = absent_if(("NotFoundException",), lambda: kms.describe_key(KeyId=alias)["KeyMetadata"])
        return key["Arn"] if key else f"the key of {alias} ({alias} {NOT_FOUND})"

    def account_label(self, account_id: str) -> str:
        return self.organization.label(account_id)


def _audit(context: CheckContext) -> LiveAudit | None:
    organization = context.settings.organization
    if organization is None or organization.audit_services is None:
        return None
    return context.reader(LiveAudit)


def _regions(context: CheckContext) -> list[str]:
    """The home region first, then the other allowed regions: the program deploys Config, GuardDuty and Security
    Hub in each."""
    home = context.settings.account.region
    return [home, *(region for region in context.settings.allowed_regions if region != home)]


# --------------------------------------------------------------------------------------------------------
# The organization trail


@check(
    "TRAIL-CONFIGURATION",
    "The organization trail covers every account and region, validates, writes to the Log Archive",
)
def trail_configuration(context: CheckContext) -> Iterator[Finding]:
    audit = _audit(context)
    if audit is None:
        return
    name = audit.declared.trail_name
    resource = f"trail:{name}"
    cloudtrail = context.client("cloudtrail")
    trail = absent_if(("TrailNotFoundException",), lambda: cloudtrail.get_trail(Name=name)["Trail"])
    if trail is None:
        yield drift(resource, "exists in the management account", NOT_FOUND)
        return
    for setting, value in TRAIL_SETTINGS.items():
        yield compared(f"{resource}/{setting}", str(value), str(trail.get(setting, False)))
    # The ARN names the home region and the owner: the management account in the stack's region.
    yield compared(f"{resource}/TrailARN", context.settings.trail_arn(), trail.get("TrailARN", "none"))
    yield compared(f"{resource}/S3BucketName", audit.bucket_name(LOG_BUCKET), trail.get("S3BucketName", "none"))
    # The program sets no key prefix: the bucket policy grants CloudTrail AWSLogs/<id>/* only.
    yield compared(f"{resource}/S3KeyPrefix", "none", trail.get("S3KeyPrefix") or "none")
    yield compared(f"{resource}/KmsKeyId", audit.key_arn, trail.get("KmsKeyId", "none"))
    yield compared(
        f"{resource}/CloudWatchLogsLogGroupArn",
        _declared_log_group(context, audit),
        trail.get("CloudWatchLogsLogGroupArn") or "none",
    )
    selectors = cloudtrail.get_event_selectors(TrailName=trail.get("TrailARN", name))
    recorded, detail = management_events(selectors)
    yield compared(f"{resource}/ManagementEvents", MANAGEMENT_EVENTS_DECLARED, recorded, detail=detail)


def _declared_log_group(context: CheckContext, audit: LiveAudit) -> str:
    logs = audit.declared.cloud_watch_logs
    if not logs.enabled:
        return "none"
    # components/organization_trail.py names the group /aws/cloudtrail/<trail>; CloudTrail takes its ARN with ":*".
    caller = context.caller
    return (
        f"arn:{caller.partition}:logs:{context.settings.account.region}:{context.settings.account.id}:"
        f"log-group:/aws/cloudtrail/{audit.declared.trail_name}:*"
    )


# The program declares no event selectors, so the trail keeps CloudTrail's default: "trails created without
# specific event selectors will be configured to log all read and write management events, and no data events"
# (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html). An event is logged when
# it matches any selector (same page); advanced selectors replace classic ones, the fields of one advanced selector
# must all match, and management events are filtered by eventCategory, eventSource and readOnly
# (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedEventSelector.html,
# https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html).
MANAGEMENT_EVENTS_DECLARED = "read and write management events of every source"
READ, WRITE = "read", "write"


def management_events(selectors: dict[str, Any]) -> tuple[str, str]:
    """What a GetEventSelectors answer records of management events, and the selectors as evidence.

    Only the union of selectors that filter on nothing but read/write counts: a selector that also filters on
    an event source (or excludes sources, or uses an operator or field this reading does not know) records less
    than every management event, so it never makes the answer "every source"."""
    classic = selectors.get("EventSelectors") or []
    advanced = selectors.get("AdvancedEventSelectors") or []
    covered: set[str] = set()
    partial: list[str] = []
    for selector in classic:
        kinds = _read_write(selector.get("ReadWriteType", "All"))
        if not selector.get("IncludeManagementEvents", True):
            continue
        excluded = selector.get("ExcludeManagementEventSources") or []
        if excluded:
            partial.append(f"{'/'.join(sorted(kinds))} excluding {', '.join(excluded)}")
        else:
            covered |= kinds
    for selector in advanced:
        kinds, narrowed = _advanced_management(selector.get("FieldSelectors") or [])
        if narrowed:
            partial.append(f"{'/'.join(sorted(kinds)) or 'none'} filtered by {narrowed}")
        else:
            covered |= kinds
    if covered == {READ, WRITE}:
        recorded = MANAGEMENT_EVENTS_DECLARED
    else:
        recorded = {frozenset({READ}): "read-only", frozenset({WRITE}): "write-only"}.get(
            frozenset(covered), "no"
        ) + " management events of every source"
        if partial:
            recorded += "; only some sources: " + "; ".join(partial)
    kind = "advanced" if advanced else "classic"
    return recorded, f"{kind} event selectors: {json.dumps(advanced or classic, sort_keys=True)}"


def _read_write(read_write_type: str) -> set[str]:
    return {"All": {READ, WRITE}, "ReadOnly": {READ}, "WriteOnly": {WRITE}}.get(read_write_type, set())


def _operators(field: dict[str, Any]) -> set[str]:
    return {key for key, values in field.items() if key != "Field" and values}


def _advanced_management(fields: list[dict[str, Any]]) -> tuple[set[str], str]:
    """(read/write kinds of management events one advanced selector matches, what else narrows it or "")."""
    by_field = {field.get("Field"): field for field in fields}
    category = by_field.pop("eventCategory", None)
    known_operators = {"Equals", "NotEquals"}
    if category is None or _operators(category) - known_operators:
        return set(), "an eventCategory condition this check cannot read" if category else ""
    if "Management" not in category.get("Equals", []) or "Management" in category.get("NotEquals", []):
        return set(), ""  # a data (or other) event selector: no management events
    kinds = {READ, WRITE}
    read_only = by_field.pop("readOnly", None)
    if read_only is not None:
        if _operators(read_only) - known_operators:
            return set(), f"readOnly {json.dumps(read_only, sort_keys=True)}"
        values = {"true": READ, "false": WRITE}
        kinds = {values[v] for v in read_only.get("Equals", list(values)) if v in values}
        kinds -= {values[v] for v in read_only.get("NotEquals", []) if v in values}
    if by_field:
        return kinds, ", ".join(
            f"{name} {json.dumps(field, sort_keys=True)}" for name, field in sorted(by_field.items())
        )
    return kinds, ""


@check("TRAIL-LOGGING", "The organization trail is logging")
def trail_logging(context: CheckContext) -> Iterator[Finding]:
    audit = _audit(context)
    if audit is None:
        return
    name = audit.declared.trail_name
    cloudtrail = context.client("cloudtrail")
    status = absent_if(("TrailNotFoundException",), lambda: cloudtrail.get_trail_status(Name=name))
    actual = NOT_FOUND if status is None else _logging(status.get("IsLogging", False))
    yield compared(f"trail:{name}", _logging(LOGGING_ENABLED), actual)


def _logging(is_logging: bool) -> str:
    return "logging" if is_logging else "stopped"


# --------------------------------------------------------------------------------------------------------
# The Log Archive buckets


@check("LOG-BUCKET", "The Log Archive buckets are versioned, private, SSE-KMS with the Log Archive key, locked")
def log_buckets(context: CheckContext) -> Iterator[Finding]:
    audit = _audit(context)
    if audit is None:
        return
    lock = audit.declared.log_archive
    for purpose in (LOG_BUCKET, CONFIG_BUCKET):
        name = audit.bucket_name(purpose)
        resource = f"bucket:{name}"
        state = audit.bucket(purpose)
        if state is None:
            yield drift(resource, "exists in the Log Archive account", NOT_FOUND)
            continue
        yield from private_bucket_findings(resource, state, audit.key_arn)
        # Config cannot deliver to a bucket with a default retention (log_archive.py): only the log bucket locks.
        expected = (
            _lock_text("Enabled", lock.object_lock_mode, f"{lock.retention_days} days")
            if purpose == LOG_BUCKET
            else None
        )
        yield compared(f"{resource}/ObjectLock", expected or "not enabled", _live_lock(audit.object_lock(name)))
        declared_rule = lifecycle_rule(
            transition_days=lock.transition_days,
            transition_storage_class=lock.transition_storage_class,
            expiration_days=lock.expiration_days,
            retention_days=lock.retention_days,
        )
        yield compared_lifecycle(resource, [declared_rule], state.lifecycle_rules)


@check(
    "LOG-ARCHIVE-KEY",
    "The Log Archive key is a customer managed symmetric key of the declared policy, enabled and rotating",
)
def log_archive_key(context: CheckContext) -> Iterator[Finding]:
    audit = _audit(context)
    if audit is None:
        return
    alias = key_alias(LOG_ARCHIVE)
    resource = f"key:{alias}"
    if audit.log_archive_id is None:
        yield drift(resource, "exists in the Log Archive account", f"{audit.log_archive_name} {ACCOUNT_NOT_FOUND}")
        return
    kms = context.member_client(audit.log_archive_id, "kms")
    key = absent_if(("NotFoundException",), lambda: kms.describe_key(KeyId=alias)["KeyMetadata"])
    if key is None:
        yield drift(resource, "exists in the Log Archive account", NOT_FOUND)
        return
    key_id = key["KeyId"]
    yield compared(f"{resource}/State", "Enabled", key.get("KeyState", "unknown"), detail=key["Arn"])
    yield compared(f"{resource}/KeyManager", "CUSTOMER", key.get("KeyManager", "unknown"))
    # The component names no spec or usage: CreateKey's defaults, SYMMETRIC_DEFAULT and ENCRYPT_DECRYPT
    # (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html), the state keys' values.
    yield compared(f"{resource}/KeySpec", KEY_SPEC, key.get("KeySpec") or key.get("CustomerMasterKeySpec", "unknown"))
    yield compared(f"{resource}/KeyUsage", KEY_USAGE, key.get("KeyUsage", "unknown"))
    rotation = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    yield compared(f"{resource}/Rotation", on_off(KEY_ROTATION_ENABLED), on_off(rotation))
    # What decides who may use the key: a statement for another account is drift.
    declared = log_key_policy(
        account_id=audit.log_archive_id,
        management_account_id=context.settings.account.id,
        trail_arn=context.settings.trail_arn(),
        source_account_ids=audit.delivery_account_ids,
        reader_role_arns=audit.declared.log_archive.log_reader_role_arns,
    )
    live_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    expected = "statements " + ", ".join(statement["Sid"] for statement in declared["Statement"])
    yield compared_documents(f"{resource}/Policy", expected, declared, live_policy)


def _lock_text(enabled: str, mode: str | None, period: str) -> str:
    return f"{enabled}, default retention {mode} {period}" if mode else f"{enabled}, no default retention"


def _live_lock(configuration: dict[str, Any] | None) -> str:
    if configuration is None:
        return "not enabled"
    retention = configuration.get("Rule", {}).get("DefaultRetention", {})
    # A retention set in years is drift from the declared days even when it lasts as long: the next `up` rewrites it.
    days, years = retention.get("Days"), retention.get("Years")
    period = f"{days} days" if days else f"{years} years" if years else "of no length"
    return _lock_text(configuration.get("ObjectLockEnabled", "not enabled"), retention.get("Mode"), period)


@check("LOG-BUCKET-POLICY", "The Log Archive bucket policies hold every statement the program declares")
def log_bucket_policies(context: CheckContext) -> Iterator[Finding]:
    audit = _audit(context)
    if audit is None:
        return
    settings = context.settings
    organization_id = audit.organization.description["Id"]
    exempt = settings.exempt_role_arns(audit.log_archive_id or "*")
    readers = audit.declared.log_archive.log_reader_role_arns
    accounts = audit.delivery_account_ids
    declared = {
        LOG_BUCKET: log_bucket_policy(
            audit.bucket_name(LOG_BUCKET),
            management_account_id=settings.account.id,
            organization_id=organization_id,
            trail_arn=settings.trail_arn(),
            source_account_ids=accounts,
            exempt_role_arns=exempt,
            reader_role_arns=readers,
        ),
        CONFIG_BUCKET: config_bucket_policy(
            audit.bucket_name(CONFIG_BUCKET),
            source_account_ids=accounts,
            exempt_role_arns=exempt,
            reader_role_arns=readers,
        ),
    }
    for purpose, document in declared.items():
        resource = f"bucket:{audit.bucket_name(purpose)}/Policy"
        expected = "statements " + ", ".join(statement["Sid"] for statement in document["Statement"])
        state = audit.bucket(purpose)
        if state is None:
            yield drift(resource, expected, f"bucket {NOT_FOUND}")
            continue
        yield compared_documents(resource, expected, document, state.policy)


# --------------------------------------------------------------------------------------------------------
# AWS Config


@check("CONFIG-DELEGATED-ADMIN", "The Audit account is Config's delegated administrator", severity=MEDIUM)
def config_delegated_administrators(context: CheckContext) -> Iterator[Finding]:
    audit = _audit(context)
    if audit is None:
        return
    for principal in DELEGATED_SERVICES:
        admins = audit.organization.read_all(
            "list_delegated_administrators", "DelegatedAdministrators", ServicePrincipal=principal
        )
        actual = ", ".join(sorted(audit.account_label(admin["Id"]) for admin in admins)) or "none"
        yield compared(f"service:{principal}", f"account:{audit.audit_name}", actual)


@check("CONFIG-AGGREGATOR", "The Audit account aggregates Config over the organization, all regions", severity=MEDIUM)
def config_aggregator(context: CheckContext) -> Iterator[Finding]:
    audit = _audit(context)
    if audit is None:
        return
    name = context.settings.config_aggregator_name()
    resource = f"aggregator:{name}"
    expected = _aggregation_text({"OrganizationAggregationSource": {"AllAwsRegions": ALL_REGIONS}})
    if audit.audit_id is None:
        yield drift(resource, expected, f"{audit.audit_name} {ACCOUNT_NOT_FOUND}")
        return
    config = context.member_client(audit.audit_id, "config")
    aggregators = absent_if(
        ("NoSuchConfigurationAggregatorException",),
        lambda: config.describe_configuration_aggregators(ConfigurationAggregatorNames=[name])[
            "ConfigurationAggregators"
        ],
    )
    yield compared(resource, expected, _aggregation_text(aggregators[0]) if aggregators else NOT_FOUND)
    if not aggregators:
        return
    # The role the aggregator lists the organization with (components/config_aggregator.py): trusted by Config
    # alone, with AWSConfigRoleForOrganizations. Its name is generated, so it is found through the aggregator.
    role_arn = (aggregators[0].get("OrganizationAggregationSource") or {}).get("RoleArn", "")
    iam = context.member_client(audit.audit_id, "iam")
    role_name = role_arn.rsplit("/", 1)[-1]
    role = absent_if(("NoSuchEntity",), lambda: iam.get_role(RoleName=role_name)["Role"]) if role_name else None
    if role is None:
        yield drift(f"{resource}/Role", ORGANIZATIONS_ROLE_POLICY_ARN, NOT_FOUND, detail=role_arn or "no role")
        return
    document = role["AssumeRolePolicyDocument"]
    if isinstance(document, str):
        document = json.loads(unquote(document))
    trust = json.loads(policies.service_trust_policy("config.amazonaws.com"))
    yield compared_documents(f"{resource}/RoleTrust", "config.amazonaws.com", trust, document, detail=[role_arn])
    attached = sorted(
        policy["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
        for policy in page["AttachedPolicies"]
    )
    yield compared(f"{resource}/RolePolicies", ORGANIZATIONS_ROLE_POLICY_ARN, ", ".join(attached) or "none")


def _aggregation_text(aggregator: dict[str, Any]) -> str:
    source = aggregator.get("OrganizationAggregationSource")
    if source is None:
        return "account sources" if aggregator.get("AccountAggregationSources") else "no source"
    regions = "all regions" if source.get("AllAwsRegions") else f"regions {', '.join(source.get('AwsRegions', []))}"
    return f"organization source, {regions}"


@check("CONFIG-RECORDING", "Config records everything and delivers to the Log Archive")
def config_recording(context: CheckContext) -> Iterator[Finding]:
    settings = context.settings
    own = settings.account.id  # read with the caller's session; member accounts through member sessions
    accounts: list[tuple[str, str | None]] = [(settings.account.name, own)]
    audit = _audit(context)
    if audit is None:
        return
    accounts += [(audit.log_archive_name, audit.log_archive_id), (audit.audit_name, audit.audit_id)]
    bucket, key_arn = audit.bucket_name(CONFIG_BUCKET), audit.key_arn
    for label, account_id in accounts:
        for region in _regions(context):
            resource = f"config:{label}/{region}"
            recorder_expected = _recorder_text(
                RECORDER_NAME, True, RECORD_ALL_SUPPORTED, region == settings.account.region, CONTINUOUS, []
            )
            channel_expected = _channel_text(
                RECORDER_NAME, bucket, DECLARED_CHANNEL.s3_key_prefix, key_arn, DECLARED_CHANNEL.delivery_frequency
            )
            if account_id is None:
                yield drift(f"{resource}/Recorder", recorder_expected, ACCOUNT_NOT_FOUND)
                yield drift(f"{resource}/DeliveryChannel", channel_expected, ACCOUNT_NOT_FOUND)
                continue
            config = (
                context.client("config", region)
                if account_id == own
                else context.member_client(account_id, "config", region)
            )
            yield compared(f"{resource}/Recorder", recorder_expected, _live_recorder(config))
            yield compared(f"{resource}/DeliveryChannel", channel_expected, _live_channel(config))


# What the stacks leave at ConfigRecorderArgs' defaults: no key prefix, a snapshot every 24 hours.
DECLARED_CHANNEL = ConfigRecorderArgs(bucket_name="", kms_key_arn="")
# The program sets no recording mode, and wants continuous recording (CONTINUOUS or DAILY:
# https://docs.aws.amazon.com/config/latest/APIReference/API_RecordingMode.html). That a recorder without a
# recordingMode records continuously is UNVERIFIED in that page; a DAILY mode or any override is drift.
CONTINUOUS = "CONTINUOUS"


def _recorder_text(
    name: str, recording: bool, all_supported: bool, global_types: bool, frequency: str, overrides: list[Any]
) -> str:
    text = (
        f"{name}: {'recording' if recording else 'stopped'}, all supported types {on_off(all_supported)}, "
        f"global types {on_off(global_types)}, {frequency}"
    )
    return text + (f", overrides {json.dumps(overrides, sort_keys=True)}" if overrides else "")


def _live_recorder(config: Any) -> str:
    """Every customer managed recorder of the region (Config allows one), as text; none: "no recorder"."""
    recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
    # A service-linked recorder (it names its servicePrincipal) belongs to another AWS service, not to this program.
    recorders = [recorder for recorder in recorders if not recorder.get("servicePrincipal")]
    if not recorders:
        return "no recorder"
    statuses = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    texts = []
    for recorder in recorders:
        recording = any(status.get("recording") for status in statuses if status.get("name") == recorder["name"])
        group = recorder.get("recordingGroup", {})
        exclusions = (group.get("exclusionByResourceTypes") or {}).get("resourceTypes") or []
        mode = recorder.get("recordingMode") or {}
        texts.append(
            _recorder_text(
                recorder["name"],
                recording,
                group.get("allSupported", False) and not exclusions and not group.get("resourceTypes"),
                group.get("includeGlobalResourceTypes", False),
                mode.get("recordingFrequency", CONTINUOUS),
                mode.get("recordingModeOverrides") or [],
            )
        )
    return "; ".join(sorted(texts))


def _channel_text(name: str, bucket: str | None, prefix: str | None, key_arn: str | None, frequency: str | None) -> str:
    path = f"/{prefix}" if prefix else ""
    return f"{name}: s3://{bucket}{path} with {key_arn or 'no key'}, snapshots {frequency or 'not set'}"


def _live_channel(config: Any) -> str:
    channels = config.describe_delivery_channels()["DeliveryChannels"]
    if not channels:
        return "no delivery channel"
    return "; ".join(
        sorted(
            _channel_text(
                channel.get("name", ""),
                channel.get("s3BucketName"),
                channel.get("s3KeyPrefix"),
                channel.get("s3KmsKeyArn"),
                (channel.get("configSnapshotDeliveryProperties") or {}).get("deliveryFrequency"),
            )
            for channel in channels
        )
    )


# --------------------------------------------------------------------------------------------------------
# GuardDuty and Security Hub


def _admin_text(entries: list[tuple[str, str]]) -> str:
    return ", ".join(f"{label} {status}" for label, status in sorted(entries)) or "none"


def _organization_admins(context: CheckContext, service: str, id_key: str, status_key: str) -> Iterator[Finding]:
    """The service's delegated admin, as the management account lists it in each allowed region: the Audit account,
    enabled, and no other."""
    audit = _audit(context)
    if audit is None:
        return
    expected = _admin_text([(f"account:{audit.audit_name}", "ENABLED")])
    for region in _regions(context):
        admins = context.client(service, region).list_organization_admin_accounts()["AdminAccounts"]
        actual = _admin_text([(audit.account_label(admin[id_key]), admin[status_key]) for admin in admins])
        yield compared(f"{service}:{region}", expected, actual)


@check("GUARDDUTY-ADMIN", "The Audit account is GuardDuty's organization admin in every allowed region")
def guardduty_admin(context: CheckContext) -> Iterator[Finding]:
    return _organization_admins(context, "guardduty", "AdminAccountId", "AdminStatus")


def _audit_account_setting(
    context: CheckContext, service: str, expected: str, read: Callable[[Any], str]
) -> Iterator[Finding]:
    """A setting the Audit account holds as the service's admin, read in each allowed region with ``read``."""
    audit = _audit(context)
    if audit is None:
        return
    for region in _regions(context):
        resource = f"{service}:{region}"
        if audit.audit_id is None:
            yield drift(resource, expected, f"{audit.audit_name} {ACCOUNT_NOT_FOUND}")
            continue
        yield compared(resource, expected, read(context.member_client(audit.audit_id, service, region)))


@check("GUARDDUTY-AUTO-ENABLE", "GuardDuty is turned on for every member, existing and new")
def guardduty_auto_enable(context: CheckContext) -> Iterator[Finding]:
    return _audit_account_setting(context, "guardduty", AUTO_ENABLE_ORGANIZATION_MEMBERS, _guardduty_members)


def _guardduty_members(guardduty: Any) -> str:
    detectors = guardduty.list_detectors()["DetectorIds"]
    if not detectors:
        return "no detector in the Audit account"
    configuration = guardduty.describe_organization_configuration(DetectorId=detectors[0])
    return configuration.get("AutoEnableOrganizationMembers") or f"AutoEnable {configuration.get('AutoEnable')}"


@check("GUARDDUTY-DETECTORS", "GuardDuty's detectors in the management and Audit accounts are enabled")
def guardduty_detectors(context: CheckContext) -> Iterator[Finding]:
    audit = _audit(context)
    if audit is None:
        return
    # components/guardduty_organization.py: a detector with enable=True in both accounts, in every allowed region.
    accounts = [(context.settings.account.name, context.settings.account.id), (audit.audit_name, audit.audit_id)]
    for label, account_id in accounts:
        for region in _regions(context):
            resource = f"guardduty:{label}/{region}"
            if account_id is None:
                yield drift(resource, "ENABLED", ACCOUNT_NOT_FOUND)
                continue
            guardduty = (
                context.client("guardduty", region)
                if account_id == context.settings.account.id
                else context.member_client(account_id, "guardduty", region)
            )
            detectors = guardduty.list_detectors()["DetectorIds"]
            statuses = [guardduty.get_detector(DetectorId=detector)["Status"] for detector in detectors]
            yield compared(resource, "ENABLED", ", ".join(statuses) or "no detector", detail=", ".join(detectors))


@check("SECURITYHUB-ADMIN", "The Audit account is Security Hub's organization admin in every allowed region")
def security_hub_admin(context: CheckContext) -> Iterator[Finding]:
    return _organization_admins(context, "securityhub", "AccountId", "Status")


@check("SECURITYHUB-AUTO-ENABLE", "Security Hub is turned on for new members with the default standards")
def security_hub_auto_enable(context: CheckContext) -> Iterator[Finding]:
    return _audit_account_setting(context, "securityhub", _hub_text(AUTO_ENABLE, AUTO_ENABLE_STANDARDS), _hub_members)


@check("SECURITYHUB-ACCOUNT", "Security Hub is enabled in the Audit account, its organization admin")
def security_hub_account(context: CheckContext) -> Iterator[Finding]:
    # components/security_hub_organization.py enables Security Hub in the Audit account before the designation.
    # DescribeHub returns the hub's ARN (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_DescribeHub.html).
    # An account that is not subscribed answers with an error, InvalidAccessException, which AWS also documents as
    # "the account doesn't have permission": it cannot be told from a denial, so it stays an error (exit 2), never
    # compliant and never claimed as drift.
    return _audit_account_setting(context, "securityhub", "enabled", _hub_enabled)


def _hub_enabled(securityhub: Any) -> str:
    return "enabled" if securityhub.describe_hub().get("HubArn") else "not enabled"


def _hub_members(securityhub: Any) -> str:
    live = securityhub.describe_organization_configuration()
    return _hub_text(live.get("AutoEnable", False), live.get("AutoEnableStandards"))


def _hub_text(auto_enable: bool, standards: str | None) -> str:
    return f"AutoEnable {on_off(auto_enable)}, AutoEnableStandards {standards}"
