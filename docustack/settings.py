"""Typed stack settings: the one place that reads and checks what a ``Pulumi.<stack>.yaml`` declares.

Every stack has one structured config value, ``docustack:settings``. Pydantic checks its shape field by field
(unknown keys are errors); :func:`semantic_errors` then runs the cross-field and AWS-quota checks and collects
every problem before anything is reported, in the manner of LZA's organization-config validator. Both kinds
of problem come out of :func:`parse_settings` as one :class:`SettingsError` whose lines each name the field
path and the reason: when a field has the wrong shape, the cross-field checks still run on the rest (the bad
value is set aside, see :func:`parse_settings`). :func:`settings_warnings` names what may be legitimate but
deserves a look (shown by ``docustack plan`` and ``pulumi preview``); :func:`cross_stack_problems` compares one
stack file with its siblings.

Values that the operator must still fill in are written as placeholders, ``<like-this>``. They are accepted
where an identifier of an existing thing goes (account IDs, the organization ID to adopt); the offline plan
and ``pulumi preview`` warn about them, and ``pulumi up`` refuses to deploy while any is left.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

import policies
from policies import perimeter

CONFIG_KEY = "docustack:settings"

PLACEHOLDER = re.compile(r"^<[a-z0-9][a-z0-9-]*>$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
SLUG = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
# IAM role names: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName pattern).
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
MAX_ROLE_NAME = 64
MAX_ACCOUNT_NAME = 50
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com$")
# Organizations CreateAccount (https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccount.html):
# AccountName 1-50 characters of pattern [\u0020-\u007E]+ (printable ASCII), Email 6-64 characters.
ACCOUNT_NAME = re.compile(r"^[\u0020-\u007E]{1,50}$")
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
OU_NAME = re.compile(r"^[^/\n]{1,128}$")
# CloudTrail trail names: 3-128 characters of letters, digits, '.', '_' and '-', starting and ending with a letter
# or digit (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html).
TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# S3 bucket names are at most 63 characters (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
MAX_BUCKET_NAME = 63
# S3 Object Lock default retention: at most 100 years (PutObjectLockConfiguration, DefaultRetention).
MAX_RETENTION_DAYS = 36500
# GitHub: owner (user or organization) 1-39 letters, digits or single dashes; repository 1-100 of [A-Za-z0-9._-].
# No wildcard can pass: the name is pasted into an OIDC subject that is compared with StringEquals.
GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$")
# A branch name as it follows refs/heads/ (git check-ref-format, minus the characters that are wildcards in IAM).
GIT_BRANCH = re.compile(r"^(?!/)(?!.*(?:\.\.|//|@\{|\.lock$|/$|\.$))[A-Za-z0-9._/-]{1,200}$")
GITHUB_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
KMS_KEY_ARN = re.compile(r"^arn:aws:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
# KMS key IDs: a UUID, or mrk-<32 hex> for multi-Region keys.
KMS_KEY_ID = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$")

# Organizations quotas: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
# (the per-policy-type quotas are in policies.QUOTAS).
MAX_OU_DEPTH = 5
FULL_AWS_ACCESS = "FullAWSAccess"
# The OU the strategy document puts the Log Archive and Audit accounts in.
SECURITY_OU = "Security"
ROOT_TARGET = "root"


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and bool(PLACEHOLDER.match(value))


def _require_string(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("must be a quoted string (an unquoted number loses leading zeros)")
    return value


def _check_account_id(value: str) -> str:
    if ACCOUNT_ID.match(value) or is_placeholder(value):
        return value
    raise ValueError(f"{value!r} is not a 12-digit AWS account ID (or a <placeholder> to fill in)")


def _check_organization_id(value: str) -> str:
    if ORGANIZATION_ID.match(value) or is_placeholder(value):
        return value
    raise ValueError(f"{value!r} is not an organization ID like o-abcd123456 (or a <placeholder> to fill in)")


def _pattern_or_placeholder(regex: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if regex.match(value) or is_placeholder(value):
            return value
        raise ValueError(f"{value!r} is not {what} (or a <placeholder> to fill in)")

    return AfterValidator(check)


def _pattern(regex: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


AccountId = Annotated[str, BeforeValidator(_require_string), AfterValidator(_check_account_id)]
OrganizationId = Annotated[str, AfterValidator(_check_organization_id)]
Region = Annotated[str, _pattern(REGION, "an AWS region name such as us-east-1")]
Slug = Annotated[str, _pattern(SLUG, "a lower-case name of letters, digits and dashes")]
RoleName = Annotated[str, _pattern(ROLE_NAME, "an IAM role name")]
ServicePrincipal = Annotated[str, _pattern(SERVICE_PRINCIPAL, "an AWS service principal like x.amazonaws.com")]
TrailName = Annotated[str, _pattern(TRAIL_NAME, "a CloudTrail trail name (3-128 letters, digits, '.', '_', '-')")]
RoleArn = Annotated[str, _pattern(ROLE_ARN, "an IAM role ARN like arn:aws:iam::111122223333:role/name")]
Days = Annotated[int, Field(ge=1, le=MAX_RETENTION_DAYS)]


def _check_email(value: str) -> str:
    if is_placeholder(value) or (EMAIL.match(value) and 6 <= len(value) <= 64):
        return value
    raise ValueError(f"{value!r} is not an email address of 6 to 64 characters (or a <placeholder> to fill in)")


Email = Annotated[str, AfterValidator(_check_email)]
GithubRepository = Annotated[str, _pattern_or_placeholder(GITHUB_REPOSITORY, "a GitHub repository 'owner/name'")]
GitBranch = Annotated[str, _pattern(GIT_BRANCH, "a branch name such as main (without refs/heads/, no wildcards)")]
GithubEnvironment = Annotated[str, _pattern(GITHUB_ENVIRONMENT, "a GitHub environment name (letters, digits, . _ -)")]
KmsKeyId = Annotated[str, _pattern_or_placeholder(KMS_KEY_ID, "a KMS key ID (a UUID, not an ARN or alias)")]
OuName = Annotated[str, _pattern(OU_NAME, "an OU name (1-128 characters, no '/')")]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, str_strip_whitespace=True
    )


class StackAccount(_Model):
    """The account a stack deploys into: its provider is pinned to this ID and region."""

    id: AccountId
    name: Slug
    region: Region


class OrganizationalUnitSettings(_Model):
    name: OuName
    children: list[OrganizationalUnitSettings] = []


# --------------------------------------------------------------------------------------------------------
# Issue 12: the organization baseline, budgets and cost-allocation tags

# AWS tag values: up to 256 Unicode letters, digits, spaces and _ . : / = + - @
# (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html, "Tag naming limits and requirements").
TagValue = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[\w .:/=+\-@]+$")]
SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
SnsTopicArn = Annotated[str, _pattern(SNS_TOPIC_ARN, "an SNS topic ARN like arn:aws:sns:us-east-1:111122223333:topic")]
# The cost-allocation tag keys every resource carries (provider default tags) and the management account activates.
COST_CENTER_TAG, ENVIRONMENT_TAG = "cost-center", "environment"
UNASSIGNED_COST_CENTER = "unassigned"
# Budgets quotas (https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-limits.html): a budget has
# at most 10 notifications; a notification at most 10 e-mail subscribers and 1 SNS subscriber
# (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_NotificationWithSubscribers.html).
MAX_BUDGET_NOTIFICATIONS = 10
MAX_EMAIL_SUBSCRIBERS = 10
MAX_SNS_SUBSCRIBERS = 1
# Budget names: 1 to 100 characters, neither ':' nor '\\' nor '/action/'
# (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html, BudgetName).
MAX_BUDGET_NAME = 100
# The baseline's OUs when the settings name none: the strategy document's three.
BASELINE_OUS = ("Security", "Sandbox", "Workloads")


class CostAllocationSettings(_Model):
    """The values of the cost-allocation tags on everything the stack creates (provider default tags)."""

    cost_center: TagValue
    environment: TagValue | None = Field(default=None, description="default: the account's name")


class BudgetNotificationSettings(_Model):
    """One alert: ACTUAL or FORECASTED spend above ``thresholdPercent`` of the limit (above 100 is valid)."""

    type: Literal["ACTUAL", "FORECASTED"]
    threshold_percent: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    emails: list[Email] = []
    sns_topic_arns: list[SnsTopicArn] = []


class BudgetSettings(_Model):
    """A monthly cost budget; a field left out comes from the account's OU, then from ``budgets.default``."""

    monthly_limit_usd: Annotated[float, Field(allow_inf_nan=False)] | None = None
    notifications: list[BudgetNotificationSettings] | None = None


class BudgetsSettings(_Model):
    """A budget per member account, made in the management account and filtered on that account.

    ``default`` applies to every account; ``organizationalUnits`` (OU path to budget) overrides it for the
    accounts of that OU and the OUs below it (the nearest wins); an account's own ``budget`` overrides both.
    """

    default: BudgetSettings
    organizational_units: dict[str, BudgetSettings] = {}


class BaselineSettings(_Model):
    """The organization baseline: a service-managed StackSet deploys ``policies/baseline/config-recording.yaml``
    to every account of these OUs and the OUs nested in them, accounts added later included."""

    organizational_units: list[str] = Field(default=list(BASELINE_OUS), description="OU paths")
    stack_set_name: Annotated[str, Field(pattern=r"^[a-zA-Z][a-zA-Z0-9-]{0,127}$")] | None = Field(
        default=None, description="default <prefix>-organization-baseline"
    )


class MemberAccountSettings(_Model):
    """A member account. With ``id`` the existing account is adopted (imported); without, it is created.

    ``name`` is how the rest of the settings refer to the account (``account:<name>`` targets);
    ``account_name`` is the name AWS shows, by default the same. An adopted account's ``account_name`` and
    ``email`` must be its current ones: the import refuses to change them.
    """

    name: Slug
    account_name: (
        Annotated[
            str,
            Field(min_length=1, max_length=50),
            _pattern(ACCOUNT_NAME, "an account name of printable ASCII characters (Organizations CreateAccount)"),
        ]
        | None
    ) = None
    email: Email
    ou: str = Field(description="path of the OU, e.g. 'Workloads' or 'Workloads/Regulated'")
    id: AccountId | None = None
    role_name: RoleName = "OrganizationAccountAccessRole"
    budget: BudgetSettings | None = None
    cost_allocation: CostAllocationSettings | None = Field(
        default=None, description="tags of what the management stack creates in the account; default the stack's"
    )

    @property
    def aws_name(self) -> str:
        return self.account_name or self.name


PolicyType = Literal[
    "SERVICE_CONTROL_POLICY",
    "RESOURCE_CONTROL_POLICY",
    "TAG_POLICY",
    "AISERVICES_OPT_OUT_POLICY",
    "DECLARATIVE_POLICY_EC2",
    "BACKUP_POLICY",
    "S3_POLICY",
]


class OrganizationPolicySettings(_Model):
    """One organization policy of any type: a template under policies/ and the targets it is attached to."""

    name: Slug
    type: PolicyType
    file: str = Field(description="file name under policies/")
    description: Annotated[str, Field(min_length=1, max_length=512)]
    targets: Annotated[list[str], Field(min_length=1)] = Field(description="'root', 'ou:<path>' or 'account:<name>'")


class LogArchiveSettings(_Model):
    """The central log buckets in the Log Archive account: immutable by default.

    COMPLIANCE mode: nobody, the root user included, can delete a locked object version or shorten its
    retention before ``retention_days`` have passed (S3 Object Lock). Lifecycle moves logs to colder storage
    after ``transition_days`` and expires them after ``expiration_days``, which must not be shorter than the
    retention.
    """

    object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    retention_days: Days = 365
    transition_days: Days = 90
    transition_storage_class: Literal["GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"] = "GLACIER"
    expiration_days: Days = 2555
    # Roles (any account of the organization) allowed to read and decrypt the logs; they must exist already,
    # because KMS and S3 refuse a policy that names a principal that does not exist.
    log_reader_role_arns: list[RoleArn] = []


class CloudWatchLogsSettings(_Model):
    """Optional copy of the organization trail into a CloudWatch Logs group of the management account."""

    enabled: bool = False
    retention_days: Literal[
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
    ] = 365


class AuditServicesSettings(_Model):
    """Issue 3: the Log Archive, the organization trail, AWS Config everywhere, GuardDuty and Security Hub."""

    audit_account: str = Field(default="audit", description="name of the member account that runs the audit tools")
    trail_name: TrailName = "organization-trail"
    log_archive: LogArchiveSettings = LogArchiveSettings()
    cloud_watch_logs: CloudWatchLogsSettings = CloudWatchLogsSettings()


# Trusted access for service-managed StackSets
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-activate-trusted-access.html).
STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"
STACKSETS_EXECUTION_ROLE_ARN = "arn:aws:iam::*:role/stacksets-exec-*"

# The trusted service access these services need in the organization, and what each one is for.
AUDIT_SERVICE_PRINCIPALS: dict[str, str] = {
    "cloudtrail.amazonaws.com": "the organization trail",
    "config.amazonaws.com": "the Config aggregator's delegated administrator",
    "config-multiaccountsetup.amazonaws.com": "the Config aggregator's delegated administrator",
    "guardduty.amazonaws.com": "GuardDuty's organization admin account",
    "securityhub.amazonaws.com": "Security Hub's organization admin account",
}


# IAM Identity Center (issue 13, docs in README "Who can reach which account"). Patterns from the API reference:
# InstanceArn and the permission set Name of https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreatePermissionSet.html,
# IdentityStoreId of https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_GetGroupId.html.
IDENTITY_CENTER_INSTANCE_ARN = re.compile(r"^arn:aws:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$")
IDENTITY_STORE_ID = re.compile(r"^(?:d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
# \w is ASCII here (Python's would also take letters such as é): a set becomes the IAM role AWSReservedSSO_<name>_...,
# and IAM names are "alphanumeric characters" plus +=,.@_- (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
PERMISSION_SET_NAME = re.compile(r"^[\w+=,.@-]{1,32}$", re.ASCII)
# AWS managed policies only: a customer managed policy must exist in every account a set is provisioned to.
AWS_MANAGED_POLICY_ARN = re.compile(r"^arn:aws:iam::aws:policy/[\w+=,.@/-]{1,512}$", re.ASCII)
# The Description pattern of https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PermissionSet.html.
PERMISSION_SET_DESCRIPTION = re.compile(r"^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]{1,700}$")
# The ISO-8601 durations this project writes (PT1H, PT4H, PT1H30M); AWS's own pattern is wider.
SESSION_DURATION = re.compile(r"^PT(?=\d)(?:(\d{1,2})H)?(?:(\d{1,3})M)?$")


class IdentityCenterGroupSettings(_Model):
    """A group of the identity store, by display name. ``kind`` decides where it may be given what (README, "Who
    can reach which account"); a group is a developer group unless declared otherwise."""

    name: Slug = Field(description="how assignments refer to the group")
    display_name: Annotated[str, Field(min_length=1, max_length=1024)]
    kind: Literal["developer", "platform", "emergency"] = "developer"
    create: bool = Field(default=False, description="create the group in the identity store instead of looking it up")


class PermissionSetSettings(_Model):
    """A permission set: AWS managed policies, an optional inline policy, a session duration."""

    name: Annotated[str, _pattern(PERMISSION_SET_NAME, "a permission set name (1-32 of letters, digits, +=,.@_-)")]
    description: Annotated[
        str,
        Field(min_length=1, max_length=700),
        _pattern(PERMISSION_SET_DESCRIPTION, "a permission set description (tab, newline, ASCII or Latin-1 letters)"),
    ]
    session_duration: (
        Annotated[str, _pattern(SESSION_DURATION, "an ISO-8601 duration such as PT1H or PT1H30M")] | None
    ) = Field(default=None, description="default PT1H")
    managed_policy_arns: list[Annotated[str, _pattern(AWS_MANAGED_POLICY_ARN, "an AWS managed policy ARN")]] = []
    inline_policy_file: str | None = Field(default=None, description="a JSON template under policies/permission-sets/")
    metadata_reads: bool = Field(
        default=False, description="allow the configuration reads of components/ci_read_permissions.py (no data)"
    )
    read_only: bool = Field(default=False, description="declared read-only; its documents must pass the check")


class AccessAssignmentSettings(_Model):
    """Give ``group`` the ``permission_set`` in every account of ``targets`` (``ou:<path>``, its child OUs
    included, or ``account:<name>``; the management account is ``account:<its name>``)."""

    group: Slug
    permission_set: str
    targets: Annotated[list[str], Field(min_length=1)]


class IdentityCenterSettings(_Model):
    """Human access through the organization's existing IAM Identity Center instance, administered from the
    management account (not a delegated administrator: one cannot manage permission sets provisioned to the
    management account, https://docs.aws.amazon.com/singlesignon/latest/userguide/delegated-admin.html)."""

    instance_arn: Annotated[
        str, _pattern_or_placeholder(IDENTITY_CENTER_INSTANCE_ARN, "an Identity Center instance ARN")
    ]
    identity_store_id: Annotated[
        str, _pattern_or_placeholder(IDENTITY_STORE_ID, "an identity store ID like d-1234567890")
    ]
    region: Region | None = Field(default=None, description="the instance's region; default the stack's")
    production: list[str] = Field(
        default=["account:prod"], description="targets where a developer group gets read-only sets only"
    )
    groups: list[IdentityCenterGroupSettings] = []
    permission_sets: list[PermissionSetSettings] = []
    assignments: list[AccessAssignmentSettings] = []


class OrganizationSettings(_Model):
    """The organization, owned by the management stack."""

    import_id: OrganizationId | None = None
    feature_set: Literal["ALL"] = "ALL"
    service_access_principals: list[ServicePrincipal] = []
    enabled_policy_types: list[PolicyType] = ["SERVICE_CONTROL_POLICY"]
    # The provider manages trusted access and the root's policy types as complete lists: after adopting the
    # organization, the first `up` disables whatever is on and not declared. `docustack adopt-check` refuses to
    # call such a removal decided until the principal or type is declared above or listed here (README, "Running
    # it for real").
    disable_service_access_principals: list[ServicePrincipal] = []
    disable_policy_types: list[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*_POLICY(_[A-Z0-9]+)?$")]] = []
    guardrail_exempt_roles: Annotated[list[RoleName], Field(min_length=1)]
    log_archive_account: str = Field(
        default="log-archive", description="name of the member account that holds the log archive"
    )
    organizational_units: list[OrganizationalUnitSettings] = []
    accounts: list[MemberAccountSettings] = []
    policies: list[OrganizationPolicySettings] = []
    audit_services: AuditServicesSettings | None = None
    identity_center: IdentityCenterSettings | None = None
    baseline: BaselineSettings | None = None
    budgets: BudgetsSettings | None = None

    def policies_of(self, policy_type: str) -> list[OrganizationPolicySettings]:
        """The declared policies of one type, in the settings' order."""
        return [policy for policy in self.policies if policy.type == policy_type]

    @property
    def service_control_policies(self) -> list[OrganizationPolicySettings]:
        return self.policies_of("SERVICE_CONTROL_POLICY")


class StateBackendSettings(_Model):
    """The stack's own state backend: bucket and KMS key (docs/state-backends.md).

    The bucket's name is derived, ``<prefix>-pulumi-state-<account id>``; the key's alias is
    ``alias/<prefix>-pulumi-state``. ``docustack bootstrap`` creates both before the first ``pulumi up``, which
    adopts them (``adopt``, with the ``key_id`` that bootstrap prints).
    """

    adopt: bool = Field(default=True, description="import the bucket, key and alias that bootstrap created")
    key_id: KmsKeyId | None = Field(default=None, description="the ID of the key bootstrap created (not an ARN)")
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=3650)] = 90
    terraform_lock_table: bool = Field(
        default=False, description="a DynamoDB lock table for Terraform state kept alongside (Pulumi needs none)"
    )


def _check_subject_prefix(value: str) -> str:
    """Only what GitHub documents: ``repo:`` then the owner and the repository joined by ``/``; with immutable
    subject claims each name carries its ID after a delimiter (``@`` today; GitHub's first announcement used
    ``-``), so the ID part is taken as GitHub's API reports it. The prefix is compared with StringEquals: no
    wildcard, no ``:`` (the claim's context follows the prefix after one), no whitespace."""
    if is_placeholder(value):
        return value
    if not value.startswith("repo:"):
        raise ValueError(f"{value!r} is not an OIDC subject prefix: it starts with 'repo:' (GitHub's sub_claim_prefix)")
    rest = value.removeprefix("repo:")
    problems = [
        reason
        for bad, reason in (
            (any(c in rest for c in "*?"), "has a wildcard"),
            (":" in rest, "has a ':' after 'repo:' (give the prefix only, without :pull_request or :ref:...)"),
            (any(c.isspace() or not c.isprintable() for c in rest), "has whitespace or a control character"),
            (rest.count("/") != 1 or rest.startswith("/") or rest.endswith("/"), "is not 'repo:<owner>/<repository>'"),
        )
        if bad
    ]
    if problems:
        raise ValueError(f"{value!r} is not an OIDC subject prefix: it {'; it '.join(problems)}")
    return value


SubjectPrefix = Annotated[str, AfterValidator(_check_subject_prefix)]
# GitHub's numeric owner and repository IDs (the REST API's owner.id and id of a repository).
GithubId = Annotated[int, Field(strict=True, ge=1)]


class CiSettings(_Model):
    """GitHub Actions OIDC roles: previews from pull requests, deploys from a branch or environment.

    The roles trust the OIDC ``sub`` of the repository's workflows. A repository with immutable subject claims
    (the default for repositories created or renamed since 2026-07-15, and older ones that opt in) sends
    ``repo:<owner>@<owner-id>/<name>@<repo-id>:...``; the name form ``repo:<owner>/<name>:...`` only matches a
    repository that still uses it. Give ``subjectPrefix`` as GitHub's API reports it (``sub_claim_prefix``,
    README "Which OIDC subjects the roles trust"), or ``ownerId`` and ``repositoryId``; with neither the name form
    is trusted.
    """

    repository: GithubRepository = Field(description="'owner/name' of the repository whose workflows assume the roles")
    subject_prefix: SubjectPrefix | None = Field(
        default=None, description="the repository's OIDC subject prefix as GitHub reports it (sub_claim_prefix)"
    )
    owner_id: GithubId | None = Field(default=None, description="the repository owner's immutable GitHub ID")
    repository_id: GithubId | None = Field(default=None, description="the repository's immutable GitHub ID")
    deploy_environment: GithubEnvironment | None = None
    deploy_branch: GitBranch | None = None
    # Scheduled workflows (docustack verify) run on this branch and use the read-only preview role.
    verify_branch: GitBranch = "main"
    preview_role_name: RoleName | None = Field(default=None, description="default <prefix>-github-preview")
    deploy_role_name: RoleName | None = Field(default=None, description="default <prefix>-github-deploy")
    adopt_oidc_provider: bool = Field(
        default=False, description="import the account's existing token.actions.githubusercontent.com provider"
    )

    @model_validator(mode="after")
    def _one_subject_form(self) -> CiSettings:
        if (self.owner_id is None) != (self.repository_id is None):
            raise ValueError("ownerId and repositoryId go together: give both (or subjectPrefix instead)")
        if self.subject_prefix is not None and self.owner_id is not None:
            raise ValueError("give subjectPrefix or ownerId and repositoryId, not both")
        prefix = self.subject_prefix
        if prefix is not None and not is_placeholder(prefix) and not is_placeholder(self.repository):
            # Each part is the name (compared caselessly), with or without the immutable ID GitHub appends to it:
            # one delimiter ("@" now, "-" in GitHub's first announcement) and digits. Nothing longer: a name that
            # merely begins with ours ("docustackevil/aws-foundation-fork") is another repository.
            owner, name = self.repository.lower().split("/")
            given_owner, given_name = prefix.removeprefix("repo:").lower().split("/")
            if not (
                re.fullmatch(rf"{re.escape(owner)}(?:[@-]\d+)?", given_owner)
                and re.fullmatch(rf"{re.escape(name)}(?:[@-]\d+)?", given_name)
            ):
                raise ValueError(
                    f"subjectPrefix {prefix!r} is not a subject prefix of the repository {self.repository!r}"
                )
        return self

    def oidc_subject_prefix(self) -> str:
        """What every ``sub`` of the repository's workflows begins with, before ``:<context>``."""
        if self.subject_prefix is not None:
            return self.subject_prefix
        if self.owner_id is not None and self.repository_id is not None:
            # Each immutable ID is appended to its name with an "@" (GitHub changelog 2026-04-23, editor's note of
            # 2026-06-10; https://docs.github.com/en/actions/reference/security/oidc, "Immutable subject claims").
            # subjectPrefix, taken as GitHub's API reports it, needs no such knowledge.
            owner, name = self.repository.split("/")
            return f"repo:{owner}@{self.owner_id}/{name}@{self.repository_id}"
        return f"repo:{self.repository}"


class StackSettings(_Model):
    """The whole of ``docustack:settings`` for one stack."""

    prefix: Slug = "docustack"
    allowed_regions: Annotated[list[Region], Field(min_length=1)]
    account: StackAccount
    state_backend: StateBackendSettings = StateBackendSettings()
    ci: CiSettings
    # No longer used (issue 12): the organization baseline records Config in every member account. Kept as a
    # field so an old stack file gets an error that says so (semantic_errors), not "not a known setting".
    config_recording: Any = None
    cost_allocation: CostAllocationSettings | None = None
    organization: OrganizationSettings | None = None

    @property
    def preview_role_name(self) -> str:
        return self.ci.preview_role_name or f"{self.prefix}-github-preview"

    @property
    def deploy_role_name(self) -> str:
        return self.ci.deploy_role_name or f"{self.prefix}-github-deploy"

    @property
    def member_read_only_role_name(self) -> str:
        """The read-only role in member accounts (the management stack makes it in the Log Archive and Audit accounts,
        its member read-only StackSet in every other one) for previews and
        ``docustack verify``: a pull request's preview must not get the member accounts' admin role."""
        return f"{self.prefix}-readonly"

    @property
    def is_management(self) -> bool:
        return self.organization is not None

    def placeholders(self) -> list[str]:
        """Field paths whose value is still a ``<placeholder>``."""
        return [path for path, value in _walk(self.model_dump(by_alias=True)) if is_placeholder(value)]

    def log_archive_bucket_pattern(self) -> str:
        """Every log bucket this program names starts so; the guardrails protect the whole pattern."""
        return f"{self.prefix}-log-archive-*"

    def member_read_only_bucket_arns(self) -> tuple[str, ...]:
        """The buckets the Log Archive and Audit accounts' read-only role may list (never read): the log buckets."""
        return (f"arn:aws:s3:::{self.log_archive_bucket_pattern()}",)

    def log_archive_bucket_name(self, log_archive_account_id: str, purpose: str = "") -> str:
        """A log bucket's name: inside :meth:`log_archive_bucket_pattern` so the SCP protects it too."""
        return "-".join(part for part in (self.prefix, "log-archive", purpose, log_archive_account_id) if part)

    def trail_arn(self) -> str:
        """The organization trail's ARN: the management account owns it in the stack's home region."""
        assert self.organization is not None and self.organization.audit_services is not None
        name = self.organization.audit_services.trail_name
        return f"arn:aws:cloudtrail:{self.account.region}:{self.account.id}:trail/{name}"

    def baseline_stack_set_name(self) -> str:
        """The organization baseline's StackSet, unless ``organization.baseline.stackSetName`` names it."""
        return f"{self.prefix}-organization-baseline"

    def budget_name(self, account_name: str) -> str:
        """A member account's budget in the management account (budget names are unique per account)."""
        return f"{self.prefix}-{account_name}-monthly"

    def config_aggregator_name(self) -> str:
        """The organization's Config aggregator in the Audit account."""
        return f"{self.prefix}-organization"

    def exempt_role_arns(self, account_id: str = "*") -> list[str]:
        """The exempt roles: in every account for the SCPs; pinned to one account for a resource policy of
        that account, where no same-named role elsewhere should pass."""
        roles = self.organization.guardrail_exempt_roles if self.organization else []
        return [f"arn:aws:iam::{account_id}:role/{role}" for role in roles]

    def cost_allocation_tags(self, account: MemberAccountSettings | None = None) -> dict[str, str]:
        """The cost-allocation tags of what the stack creates in its own account, or in ``account`` (the
        management stack's resources in a member account): that account's values, else the stack's."""
        own = self.cost_allocation
        given = account.cost_allocation if account is not None else None
        chosen = given or own
        cost_center = chosen.cost_center if chosen is not None else UNASSIGNED_COST_CENTER
        name = account.name if account is not None else self.account.name
        environment = (chosen.environment if chosen is not None else None) or name
        return {COST_CENTER_TAG: cost_center, ENVIRONMENT_TAG: environment}

    def policy_variables(self) -> dict[str, str | list[str]]:
        """The values filled into ``{{name}}`` slots of the SCP documents."""
        return {
            "allowed_regions": list(self.allowed_regions),
            "exempt_role_arns": self.exempt_role_arns(),
            # IAM role names are unique in an account whatever the path, so a role made at /x/<exempt name> would
            # take the name from the real exempt role (protect-guardrails reserves these too).
            "exempt_role_arns_any_path": [arn.replace(":role/", ":role/*/", 1) for arn in self.exempt_role_arns()],
            "log_archive_bucket": self.log_archive_bucket_pattern(),
            # The organization baseline's StackSet runs in each member account as stacksets-exec-<id>, which
            # StackSets creates there (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-custom-execution-role.html)
            # and assumes from the management account (the managed policy CloudFormationStackSetsOrgAdminServiceRolePolicy
            # allows sts:AssumeRole on arn:aws:iam::*:role/stacksets-exec-*). It makes the Config recorder, so the
            # Config statement of protect-guardrails exempts it, and no other statement does; the same statement
            # that reserves the exempt roles' names reserves its name, so no member principal can take it.
            "config_writer_role_arns": [*self.exempt_role_arns(), STACKSETS_EXECUTION_ROLE_ARN],
            "stacksets_execution_role_arns": [STACKSETS_EXECUTION_ROLE_ARN],
            "stacksets_execution_role_arns_any_path": [STACKSETS_EXECUTION_ROLE_ARN.replace(":role/", ":role/*/", 1)],
            # <prefix>-readonly trusts the management account, whose read-only CI role previews and verifies
            # through it: a member account's admin who widened it would hand pull-request code whatever they add.
            # Only its makers may create or change it: the StackSets execution role (the member read-only StackSet)
            # and the exempt access role (the management stack, in the Log Archive and Audit accounts).
            "member_read_only_role_arns": [f"arn:aws:iam::*:role/{self.member_read_only_role_name}"],
            "member_read_only_role_arns_any_path": [f"arn:aws:iam::*:role/*/{self.member_read_only_role_name}"],
            "member_read_only_role_writers": [*self.exempt_role_arns(), STACKSETS_EXECUTION_ROLE_ARN],
            **self.perimeter_variables(),
        }

    def perimeter_variables(self) -> dict[str, str | list[str]]:
        """The perimeter's slots (policies/perimeter.py): the organization's ID and each OU's organization path,
        with stand-ins of the greatest length for the IDs that exist only after `up` (the stack fills in the
        real ones), the OIDC subjects of the repository whose workflows may federate into the accounts, and the
        accounts through which Elastic Load Balancing delivers access logs (perimeter.ELB_LOG_DELIVERY_ACCOUNTS)."""
        variables: dict[str, str | list[str]] = {"elb_log_delivery_accounts": perimeter.elb_log_delivery_accounts()}
        if self.organization is not None:
            ou_paths = [node.path for node in iter_ous(self.organization)]
            variables.update(
                perimeter.organization_variables(*perimeter.stand_in_ids(self.organization.import_id, ou_paths))
            )
        if self.ci is not None:
            variables["github_subject_patterns"] = perimeter.github_subject_patterns(self.ci.oidc_subject_prefix())
        return variables


# --------------------------------------------------------------------------------------------------------
# Errors


@dataclass(frozen=True)
class SettingsProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SettingsError(Exception):
    """Every problem found in one stack's settings; ``str()`` is the message to show, one line each."""

    def __init__(self, source: str, problems: list[SettingsProblem], note: str = "") -> None:
        self.source = source
        self.problems = problems
        self.note = note
        lines = "\n".join(f"  - {problem}" for problem in problems)
        tail = f"\n  ({note})" if note else ""
        super().__init__(f"{source}: {len(problems)} problem(s) in {CONFIG_KEY}:\n{lines}{tail}")


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    path = CONFIG_KEY
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).startswith(("function-", "constrained-")):
            continue
        else:
            path += f".{part}"
    return path


def _walk(value: Any, path: str = CONFIG_KEY) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


def parse_settings(raw: Any, *, source: str = "settings", policy_dir: Path | None = None) -> StackSettings:
    """Check ``raw`` (the decoded ``docustack:settings`` value) and return the typed settings.

    Raises :class:`SettingsError` with every problem found: the shape of each field, and the cross-field checks
    and AWS quotas. When some fields have the wrong shape, the cross-field checks run on the rest: each bad value
    is set aside (an unknown key dropped, a bad identifier read as a placeholder, a bad optional value left to its
    default) and the settings are checked again; problems the set-aside values could cause are not reported. If
    that is not possible (a required field is missing or has no stand-in), the error says the cross-field checks
    did not run and why.
    """
    if raw is None:
        raise SettingsError(source, [SettingsProblem(CONFIG_KEY, "is missing from the stack's config")])
    try:
        settings = StackSettings.model_validate(raw)
    except ValidationError as error:
        problems = _shape_problems(error)
        partial, unreadable = _set_aside(raw, error)
        if partial is None:
            note = (
                "cross-field checks did not run: "
                + ", ".join(unreadable)
                + " has no value they could use; fix the problems above and run again"
            )
            raise SettingsError(source, problems, note) from None
        shape_paths = [p.path for p in problems]
        problems += [
            problem
            for problem in semantic_errors(partial, policy_dir=policy_dir)
            if not any(_related(problem.path, path) for path in shape_paths)
        ]
        raise SettingsError(source, problems) from None
    problems = semantic_errors(settings, policy_dir=policy_dir)
    if problems:
        raise SettingsError(source, problems)
    return settings


# Settings an earlier version of the program read, and what took their place.
RENAMED_SETTINGS = {
    "organization.serviceControlPolicies": (
        "was renamed to organization.policies, which holds organization policies of every type: move each entry "
        "there and give it `type: SERVICE_CONTROL_POLICY`"
    ),
}


def _shape_problems(error: ValidationError) -> list[SettingsProblem]:
    problems = []
    for detail in error.errors(include_url=False):
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            path = _loc_to_path(detail["loc"]).removeprefix(f"{CONFIG_KEY}.")
            message = RENAMED_SETTINGS.get(path, "is not a known setting (check the spelling)")
        problems.append(SettingsProblem(_loc_to_path(detail["loc"]), message))
    return problems


def _related(path: str, other: str) -> bool:
    """One path is the other or lies inside it: a problem there may come from the value set aside."""
    return any(a == b or a.startswith((f"{b}.", f"{b}[")) for a, b in ((path, other), (other, path)))


SET_ASIDE = "<set-aside>"  # a placeholder: accepted wherever an identifier goes, skipped by the cross-field checks


def _set_aside(raw: Any, error: ValidationError) -> tuple[StackSettings | None, list[str]]:
    """The settings with every badly shaped value set aside, or ``None`` and the paths that have no stand-in.

    First try: an unknown key is dropped, any other bad value becomes a placeholder. Second try, for values that
    take no placeholder: the key is dropped, so an optional field falls back to its default.
    """
    errors = [detail["loc"] for detail in error.errors(include_url=False)]
    candidate = copy.deepcopy(raw)
    for loc in errors:
        _replace(candidate, loc, drop=False)
    for attempt in (1, 2):
        try:
            return StackSettings.model_validate(candidate), []
        except ValidationError as again:
            remaining = [detail["loc"] for detail in again.errors(include_url=False)]
            if attempt == 2 or not all(_replace(candidate, loc, drop=True) for loc in remaining):
                return None, sorted({_loc_to_path(loc) for loc in remaining})
    return None, []  # pragma: no cover (the loop always returns)


def _replace(raw: Any, loc: tuple[Any, ...], *, drop: bool) -> bool:
    """Set aside the value at ``loc`` in ``raw``: drop the key, or put a placeholder in its place."""
    parts = [part for part in loc if not str(part).startswith(("function-", "constrained-"))]
    if not parts:
        return False
    container = raw
    for part in parts[:-1]:
        try:
            container = container[part]
        except (KeyError, IndexError, TypeError):
            return False
    last = parts[-1]
    if isinstance(container, dict) and last in container:
        if drop or not isinstance(container[last], str | int | float) or isinstance(container[last], bool):
            del container[last]
        else:
            container[last] = SET_ASIDE
        return True
    # A list item is never removed (the paths of the items after it would shift); a string can be a placeholder.
    listed = isinstance(container, list) and isinstance(last, int) and 0 <= last < len(container)
    if listed and not drop and isinstance(container[last], str):
        container[last] = SET_ASIDE
        return True
    return False


# --------------------------------------------------------------------------------------------------------
# The organization model the checks, the components and the simulator share


@dataclass(frozen=True)
class OuNode:
    path: str  # "Workloads/Regulated"
    name: str
    parent_path: str | None  # None: directly under the root
    depth: int  # 1 directly under the root
    field: str  # the settings path that declares it


def iter_ous(settings: OrganizationSettings) -> list[OuNode]:
    """The OU tree flattened, parents before children."""
    nodes: list[OuNode] = []

    def visit(units: list[OrganizationalUnitSettings], parent: str | None, depth: int, field: str) -> None:
        for index, unit in enumerate(units):
            path = f"{parent}/{unit.name}" if parent else unit.name
            here = f"{field}[{index}]"
            nodes.append(OuNode(path, unit.name, parent, depth, here))
            visit(unit.children, path, depth + 1, f"{here}.children")

    visit(settings.organizational_units, None, 1, f"{CONFIG_KEY}.organization.organizationalUnits")
    return nodes


def target_label(kind: str, name: str = "") -> str:
    return ROOT_TARGET if kind == ROOT_TARGET else f"{kind}:{name}"


def semantic_errors(settings: StackSettings, *, policy_dir: Path | None = None) -> list[SettingsProblem]:
    """Cross-field and quota checks; every problem is collected, none stops the others."""
    problems: list[SettingsProblem] = []
    add = lambda path, message: problems.append(SettingsProblem(f"{CONFIG_KEY}.{path}", message))  # noqa: E731

    if len(set(settings.allowed_regions)) != len(settings.allowed_regions):
        add("allowedRegions", "lists a region twice")
    if settings.account.region not in settings.allowed_regions:
        add(
            "account.region",
            f"{settings.account.region!r} is not one of the allowed regions {settings.allowed_regions}",
        )
    problems += _state_backend_errors(settings) + _ci_errors(settings) + _derived_name_errors(settings)
    problems += _config_recording_errors(settings)
    organization = settings.organization
    if organization is None:
        return problems

    for index, principal in _duplicates(organization.service_access_principals):
        add(f"organization.serviceAccessPrincipals[{index}]", f"{principal!r} is listed twice")
    for index, role in _duplicates(organization.guardrail_exempt_roles):
        add(f"organization.guardrailExemptRoles[{index}]", f"{role!r} is listed twice")
    for index, policy_type in _duplicates(list(organization.enabled_policy_types)):
        add(f"organization.enabledPolicyTypes[{index}]", f"{policy_type!r} is listed twice")
    for index, policy in enumerate(organization.policies):
        if policy.type not in organization.enabled_policy_types:
            add(
                f"organization.policies[{index}].type",
                f"{policy.type} is not in organization.enabledPolicyTypes: a policy of a type the root has not "
                "enabled cannot be attached",
            )
    for policy_type, principal in policies.POLICY_TYPE_SERVICE_PRINCIPALS.items():
        if organization.policies_of(policy_type) and principal not in organization.service_access_principals:
            add(
                "organization.serviceAccessPrincipals",
                f"must include {principal!r} for the {policies.SHORT_NAMES[policy_type]}: its trusted access "
                "(compliance and status reports across accounts), which `up` would otherwise turn off",
            )

    problems += _exempt_name_errors(settings, organization)

    ous = iter_ous(organization)
    ou_paths = {node.path for node in ous}
    seen_paths: set[str] = set()
    # OU names that differ only in case: 'ou:workloads' and 'ou:Workloads' would both be valid targets, so an SCP
    # could land on the twin the reader did not mean. Whether Organizations itself tells them apart is not
    # documented (CreateOrganizationalUnit only gives the length, 1-128); refused either way.
    seen_folded: dict[str, str] = {}
    for node in ous:
        if node.path in seen_paths:
            add(node.field.removeprefix(f"{CONFIG_KEY}.") + ".name", f"OU {node.path!r} is declared twice")
        elif node.path.casefold() in seen_folded:
            add(
                node.field.removeprefix(f"{CONFIG_KEY}.") + ".name",
                f"OU {node.path!r} differs from OU {seen_folded[node.path.casefold()]!r} only in case",
            )
        seen_paths.add(node.path)
        seen_folded.setdefault(node.path.casefold(), node.path)
        if node.depth > MAX_OU_DEPTH:
            add(
                node.field.removeprefix(f"{CONFIG_KEY}.") + ".name",
                f"OU {node.path!r} is nested {node.depth} deep; AWS allows at most {MAX_OU_DEPTH} levels under the root",
            )

    names: dict[str, int] = {}
    emails: dict[str, int] = {}
    ids: dict[str, str] = {settings.account.id: "account.id (the management account)"}
    for index, account in enumerate(organization.accounts):
        field = f"organization.accounts[{index}]"
        if account.name in names:
            add(f"{field}.name", f"{account.name!r} is also the name of accounts[{names[account.name]}]")
        names.setdefault(account.name, index)
        email = account.email.lower()
        if email in emails:
            add(f"{field}.email", f"{account.email!r} is also the email of accounts[{emails[email]}]")
        emails.setdefault(email, index)
        if account.id and not is_placeholder(account.id):
            if account.id in ids:
                add(f"{field}.id", f"{account.id} is also the ID of {ids[account.id]}")
            ids.setdefault(account.id, f"accounts[{index}]")
        if account.ou not in ou_paths:
            add(f"{field}.ou", f"OU {account.ou!r} is not declared in organization.organizationalUnits")
        if account.account_name is None and len(account.name) > MAX_ACCOUNT_NAME:
            add(
                f"{field}.name",
                f"is also the AWS account name, which Organizations limits to {MAX_ACCOUNT_NAME} characters; "
                "set accountName",
            )

    if (organization.policies or organization.audit_services) and (organization.log_archive_account not in names):
        add("organization.logArchiveAccount", f"no account named {organization.log_archive_account!r}")
    if organization.audit_services is not None:
        problems += _audit_service_errors(settings, organization, organization.audit_services)
    problems += _identity_center_errors(settings, organization, policy_dir)
    problems += _baseline_errors(settings, organization) + _budget_errors(organization)
    problems += _budget_name_errors(settings, organization) + _cost_center_errors(settings, organization, policy_dir)

    targets = {ROOT_TARGET} | {f"ou:{path}" for path in ou_paths} | {f"account:{name}" for name in names}
    # (policy type, target) -> names of the policies of that type attached to it directly
    attached: dict[tuple[str, str], list[str]] = {}
    policy_names: set[str] = set()
    variables = settings.policy_variables()
    for index, policy in enumerate(organization.policies):
        field = f"organization.policies[{index}]"
        kind = policies.SHORT_NAMES[policy.type]
        # Pulumi names each policy's resources after it, so a name is unique across all types.
        if policy.name in policy_names:
            add(f"{field}.name", f"{policy.name!r} is declared twice")
        policy_names.add(policy.name)
        for target_index, target in enumerate(policy.targets):
            if target not in targets:
                add(
                    f"{field}.targets[{target_index}]",
                    f"{target!r} does not name the root, a declared OU ('ou:<path>') or account ('account:<name>')",
                )
            elif policy.name in attached.setdefault((policy.type, target), []):
                add(f"{field}.targets[{target_index}]", f"{target!r} is listed twice")
            else:
                attached[(policy.type, target)].append(policy.name)
        try:
            rendered = policies.render_file(policy.file, variables, policy_type=policy.type, policy_dir=policy_dir)
        except policies.PolicyError as error:
            add(f"{field}.file", str(error))
            continue
        size = len(rendered)
        quota = policies.QUOTAS[policy.type]
        if size > quota.max_characters:
            add(f"{field}.file", f"renders to {size} characters; an {kind} may have at most {quota.max_characters}")
        if policy.type == "SERVICE_CONTROL_POLICY":
            locked_out = _exempt_roles_locked_out(settings, policy.name, rendered)
            if locked_out is not None and locked_out.certain:
                add(f"{field}.file", locked_out.reason)

    for (policy_type, target), attached_names in attached.items():
        quota = policies.QUOTAS[policy_type]
        count = len(attached_names) + (1 if quota.default_policy else 0)
        if count > quota.max_attached_per_target:
            default = f" plus {quota.default_policy}" if quota.default_policy else ""
            add(
                "organization.policies",
                f"{target!r} would have {len(attached_names)} {policies.PLURAL_NAMES[policy_type]} attached directly{default}; "
                f"AWS allows at most "
                f"{quota.max_attached_per_target} ({', '.join(attached_names)})",
            )
    return problems


def _for_length(account_id: str) -> str:
    """An account ID as long as the real one will be, for name-length checks while it is still a placeholder."""
    return account_id if ACCOUNT_ID.match(account_id) else "0" * 12


def _derived_name_errors(settings: StackSettings) -> list[SettingsProblem]:
    """Names the prefix makes that AWS would refuse at ``up``, however valid each setting is on its own."""
    problems: list[SettingsProblem] = []
    # The state bucket's name, as docustack.state_backend_spec.StateBackendSpec.bucket_name makes it.
    bucket = f"{settings.prefix}-pulumi-state-{_for_length(settings.account.id)}"
    if len(bucket) > MAX_BUCKET_NAME:
        problems.append(
            SettingsProblem(
                f"{CONFIG_KEY}.prefix",
                f"makes the state bucket name {bucket!r} longer than {MAX_BUCKET_NAME} characters",
            )
        )
    # A role name given in ci is checked as a RoleName; only the names derived from the prefix can be too long.
    roles = [settings.preview_role_name, settings.deploy_role_name]
    if settings.organization is not None:
        roles.append(settings.member_read_only_role_name)
    for role in roles:
        if len(role) > MAX_ROLE_NAME:
            problems.append(
                SettingsProblem(
                    f"{CONFIG_KEY}.prefix",
                    f"makes the role name {role!r} longer than the {MAX_ROLE_NAME} characters IAM allows",
                )
            )
    return problems


def _exempt_name_errors(settings: StackSettings, organization: OrganizationSettings) -> list[SettingsProblem]:
    """A role this program makes for CI must not carry an exempt name: whoever can run a pull-request preview or
    a deploy would then step round every guardrail. IAM role names are unique regardless of case
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html: "Role names are not distinguished
    by case"), so the comparison ignores case."""
    exempt = {role.casefold(): role for role in organization.guardrail_exempt_roles}
    roles = [
        ("ci.previewRoleName", settings.preview_role_name, "the pull-request preview role"),
        ("ci.deployRoleName", settings.deploy_role_name, "the CI deploy role"),
        ("prefix", settings.member_read_only_role_name, "the read-only role in the Log Archive and Audit accounts"),
    ]
    return [
        SettingsProblem(
            f"{CONFIG_KEY}.{path}",
            f"{role!r} ({what}) is the name of the exempt role {exempt[role.casefold()]!r} in "
            "organization.guardrailExemptRoles: CI would escape every guardrail",
        )
        for path, role, what in roles
        if role.casefold() in exempt
    ]


# Requests an exempt role makes to do its job, across services; an SCP that denies an exempt role every one of
# them in every allowed region leaves nobody below the management account able to repair anything.
EXEMPT_ROLE_WORK = (
    "iam:CreateRole",
    "iam:UpdateAssumeRolePolicy",
    "sts:AssumeRole",
    "organizations:DescribeOrganization",
    "cloudformation:CreateStack",
    "ec2:DescribeInstances",
    "s3:PutBucketPolicy",
    "kms:PutKeyPolicy",
    "config:PutConfigurationRecorder",
)
PROBE_MEMBER_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class Lockout:
    """Why an SCP would, or might, deny an exempt role everything: ``certain`` when the simulator showed it (a
    refusal), not when the simulator could not evaluate the document (a warning: it may be legitimate)."""

    reason: str
    certain: bool


def _exempt_roles_locked_out(settings: StackSettings, name: str, rendered: str) -> Lockout | None:
    """Why the rendered SCP ``name`` would deny an exempt role everything, or ``None`` when it does not.

    The document is evaluated, alone, by the project's SCP simulator for each exempt role in a member account
    and each allowed region, over the requests in :data:`EXEMPT_ROLE_WORK` (resource ``*``, no other context):
    a Deny of ``*`` without an exemption for that role denies them all. A document the simulator cannot decide
    exactly (an operator it does not evaluate, a condition on a key these requests do not carry) is not
    refused, since it may well be right, but it is not passed as checked either.
    """
    import json

    # The simulator reads these settings models, so it is imported here rather than at the top.
    from docustack import simulator

    organization = settings.organization
    assert organization is not None
    organization_id, root_id, ou_ids = perimeter.stand_in_ids(organization.import_id, ["probe"])
    model = simulator.OrganizationModel(
        management_account_id=settings.account.id,
        ou_parents={"probe": None},
        accounts={"probe": simulator.AccountNode(name="probe", id=PROBE_MEMBER_ACCOUNT_ID, ou="probe")},
        attachments={ROOT_TARGET: [simulator.AttachedPolicy(name, json.loads(rendered))]},
        organization_id=organization_id,
        root_id=root_id,
        ou_ids=ou_ids,
    )
    for role in organization.guardrail_exempt_roles:
        principal = f"arn:aws:iam::{PROBE_MEMBER_ACCOUNT_ID}:role/{role}"
        try:
            denied_everything = all(
                not simulator.evaluate(
                    model, simulator.Request(action=action, account="probe", region=region, principal_arn=principal)
                ).allowed
                for region in settings.allowed_regions
                for action in EXEMPT_ROLE_WORK
            )
        except (simulator.UnsupportedPolicy, simulator.InvalidRequest) as error:
            return Lockout(
                f"cannot be checked against the exempt roles, so it might deny them everything: the SCP simulator "
                f"cannot decide it exactly ({error}; README, 'Simulating a request')",
                certain=False,
            )
        if denied_everything:
            return Lockout(
                f"would deny the exempt role {role!r} everything (no exemption for it in a Deny of every action): "
                "nobody below the management account could repair the guardrails",
                certain=True,
            )
    return None


def settings_warnings(settings: StackSettings, *, policy_dir: Path | None = None) -> list[str]:
    """What may be legitimate but deserves a look; ``docustack plan`` and ``pulumi preview`` show each line."""
    organization = settings.organization
    if organization is None:
        return _cost_allocation_warnings(settings)
    warnings = _cost_allocation_warnings(settings) + _budget_warnings(organization)
    variables = settings.policy_variables()
    for index, scp in enumerate(organization.policies):
        if scp.type != "SERVICE_CONTROL_POLICY":
            continue
        try:
            rendered = policies.render_file(scp.file, variables, policy_dir=policy_dir)
        except policies.PolicyError:
            continue  # a problem of its own, reported by the checks
        locked_out = _exempt_roles_locked_out(settings, scp.name, rendered)
        if locked_out is not None and not locked_out.certain:
            warnings.append(f"{CONFIG_KEY}.organization.policies[{index}].file: {locked_out.reason}")
    roles = {organization.log_archive_account: "the Log Archive account"}
    if organization.audit_services is not None:
        roles[organization.audit_services.audit_account] = "the Audit account"
    for index, account in enumerate(organization.accounts):
        if account.name in roles and account.ou.split("/")[0] != SECURITY_OU:
            warnings.append(
                f"{CONFIG_KEY}.organization.accounts[{index}].ou: {account.name!r} ({roles[account.name]}) is in "
                f"OU {account.ou!r}, not in the {SECURITY_OU!r} OU where the strategy document puts it: the "
                "policies attached to that OU bind it, and those meant for the Security OU do not"
            )
    return warnings


def cross_stack_problems(stack: str, settings: StackSettings, siblings: Mapping[str, Any]) -> list[SettingsProblem]:
    """Problems between one stack's settings and the other stack files' (``siblings``: stack name to its raw
    ``docustack:settings``). A sibling whose settings do not parse is skipped: it reports its own problems.

    - Two stack files for one account would deploy the same state bucket, baseline and CI roles twice, each
      stack overwriting the other's.
    - An account stack's CI role must not carry a name the management stack exempts from the guardrails.
    """
    problems: list[SettingsProblem] = []
    parsed: dict[str, StackSettings] = {}
    for name, raw in siblings.items():
        if name == stack:
            continue
        try:
            parsed[name] = StackSettings.model_validate(raw)
        except ValidationError:
            continue
    account_id = settings.account.id
    if not is_placeholder(account_id):
        for name, other in parsed.items():
            if other.account.id == account_id:
                problems.append(
                    SettingsProblem(
                        f"{CONFIG_KEY}.account.id",
                        f"{account_id} is also the account of Pulumi.{name}.yaml: one stack per account, or the "
                        "two overwrite each other's state bucket, baseline and CI roles",
                    )
                )
    if settings.organization is None:
        for name, other in parsed.items():
            if other.organization is None:
                continue
            exempt = {role.casefold(): role for role in other.organization.guardrail_exempt_roles}
            for path, role in (
                ("ci.previewRoleName", settings.preview_role_name),
                ("ci.deployRoleName", settings.deploy_role_name),
            ):
                if role.casefold() in exempt:
                    problems.append(
                        SettingsProblem(
                            f"{CONFIG_KEY}.{path}",
                            f"{role!r} is the name of the exempt role {exempt[role.casefold()]!r} in "
                            f"Pulumi.{name}.yaml (organization.guardrailExemptRoles): CI would escape every guardrail",
                        )
                    )
    return problems


def _audit_service_errors(
    settings: StackSettings, organization: OrganizationSettings, audit: AuditServicesSettings
) -> list[SettingsProblem]:
    problems: list[SettingsProblem] = []
    add = lambda path, message: problems.append(SettingsProblem(f"{CONFIG_KEY}.{path}", message))  # noqa: E731
    field = "organization.auditServices"
    accounts = {account.name: account for account in organization.accounts}

    missing = [p for p in AUDIT_SERVICE_PRINCIPALS if p not in organization.service_access_principals]
    for principal in missing:
        add(
            "organization.serviceAccessPrincipals",
            f"must include {principal!r} for {AUDIT_SERVICE_PRINCIPALS[principal]} (auditServices is set)",
        )
    if audit.audit_account not in accounts:
        add(f"{field}.auditAccount", f"no account named {audit.audit_account!r} in organization.accounts")
    elif audit.audit_account == organization.log_archive_account:
        add(f"{field}.auditAccount", "must not be the log archive account: who reads the logs must not own them")
    # The management stack reaches into these accounts through their access role; the log bucket policy
    # refuses every principal but the exempt roles, so without the role there the stack locks itself out.
    for name in (organization.log_archive_account, audit.audit_account):
        account = accounts.get(name)
        if account is not None and account.role_name not in organization.guardrail_exempt_roles:
            index = organization.accounts.index(account)
            add(
                f"organization.accounts[{index}].roleName",
                f"{account.role_name!r} deploys the audit services into {name!r} and must be listed in "
                "organization.guardrailExemptRoles",
            )

    archive = audit.log_archive
    if archive.expiration_days < archive.retention_days:
        add(
            f"{field}.logArchive.expirationDays",
            f"{archive.expiration_days} is shorter than retentionDays ({archive.retention_days}): "
            "lifecycle must not try to expire logs that Object Lock still retains",
        )
    if archive.transition_days >= archive.expiration_days:
        add(
            f"{field}.logArchive.transitionDays",
            f"{archive.transition_days} must be earlier than expirationDays ({archive.expiration_days})",
        )
    longest = settings.log_archive_bucket_name("0" * 12, "config")
    if len(longest) > MAX_BUCKET_NAME:
        add("prefix", f"makes the log bucket name {longest!r} longer than {MAX_BUCKET_NAME} characters")
    for index, _ in _duplicates(archive.log_reader_role_arns):
        add(f"{field}.logArchive.logReaderRoleArns[{index}]", "is listed twice")
    # Config and flow-log delivery list every account in aws:SourceAccount: refuse an organization whose Log
    # Archive policies would exceed AWS's size limits, before anything is registered.
    from components.log_archive import PolicyTooLargeError, log_archive_policies  # here: components import settings

    try:
        log_archive_policies(settings, [f"{index:012d}" for index in range(len(organization.accounts))])
    except PolicyTooLargeError as error:
        add("organization.accounts", f"{len(organization.accounts)} accounts are too many for one Log Archive: {error}")
    return problems


def _identity_center_errors(
    settings: StackSettings, organization: OrganizationSettings, policy_dir: Path | None
) -> list[SettingsProblem]:
    """Human access (issue 13): the refusals of docustack.access, and what they need of the organization.

    An exempt role's name never starts with ``AWSReservedSSO_``: the guardrails exempt a role by name at any path,
    so such a name could hand the exemption to every holder of a permission set (the emergency set included)."""
    problems = [
        SettingsProblem(
            f"{CONFIG_KEY}.organization.guardrailExemptRoles[{index}]",
            f"{role!r} is the name of a role IAM Identity Center makes for a permission set: its holders would "
            "escape every guardrail",
        )
        for index, role in enumerate(organization.guardrail_exempt_roles)
        if role.casefold().startswith("awsreservedsso_")
    ]
    identity_center = organization.identity_center
    if identity_center is None:
        return problems
    # Assignments need Identity Center's trusted access; the provider manages the list whole, so an undeclared
    # principal would be switched off by the first `up` (https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-sso.html).
    if "sso.amazonaws.com" not in organization.service_access_principals:
        problems.append(
            SettingsProblem(
                f"{CONFIG_KEY}.organization.serviceAccessPrincipals",
                "must include 'sso.amazonaws.com' for IAM Identity Center (identityCenter is set)",
            )
        )
    from docustack.access import identity_center_problems  # here: docustack.access imports these models

    field = f"{CONFIG_KEY}.organization.identityCenter"
    problems += [
        SettingsProblem(f"{field}{path}", message)
        for path, message in identity_center_problems(settings, policy_dir=policy_dir)
    ]
    return problems


def _state_backend_errors(settings: StackSettings) -> list[SettingsProblem]:
    backend = settings.state_backend
    path = f"{CONFIG_KEY}.stateBackend"
    if backend.adopt and backend.key_id is None:
        return [
            SettingsProblem(
                f"{path}.keyId",
                "is required to adopt the key `docustack bootstrap` created (it prints the ID); "
                "write <state-key-id> until then, or set adopt: false",
            )
        ]
    if not backend.adopt and backend.key_id is not None:
        return [SettingsProblem(f"{path}.keyId", "is only used with adopt: true")]
    return []


def _ci_errors(settings: StackSettings) -> list[SettingsProblem]:
    ci = settings.ci
    path = f"{CONFIG_KEY}.ci"
    problems = []
    if ci.deploy_environment is None and ci.deploy_branch is None:
        problems.append(
            SettingsProblem(path, "needs deployEnvironment or deployBranch: nothing else may assume the deploy role")
        )
    if settings.preview_role_name == settings.deploy_role_name:
        problems.append(
            SettingsProblem(f"{path}.deployRoleName", f"{settings.deploy_role_name!r} is also the preview role's name")
        )
    return problems


def _duplicates(values: list[str]) -> Iterator[tuple[int, str]]:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            yield index, value
        seen.add(value)


def _config_recording_errors(settings: StackSettings) -> list[SettingsProblem]:
    """``configRecording`` was an account stack's own Config recorder; the organization baseline owns it now."""
    if settings.config_recording is None:
        return []
    return [
        SettingsProblem(
            f"{CONFIG_KEY}.configRecording",
            "is no longer used: the management stack's organization baseline (organization.baseline, a "
            "service-managed StackSet) records AWS Config in every member account. Remove it; the next `up` of "
            "this stack deletes the account's own recorder and delivery channel, and the history recorded so far "
            "stays in the Log Archive's Config bucket (README, 'The organization baseline')",
        )
    ]


def baseline_ou_paths(organization: OrganizationSettings) -> list[str]:
    """Every OU the baseline's StackSet targets: the declared baseline OUs and every OU nested in them."""
    if organization.baseline is None:
        return []
    roots = organization.baseline.organizational_units
    return [
        node.path
        for node in iter_ous(organization)
        if any(node.path == root or node.path.startswith(f"{root}/") for root in roots)
    ]


def _baseline_errors(settings: StackSettings, organization: OrganizationSettings) -> list[SettingsProblem]:
    """The baseline's OUs exist, and every member account is in one: an account outside them records nothing."""
    baseline = organization.baseline
    if baseline is None:
        return []
    problems: list[SettingsProblem] = []
    field = f"{CONFIG_KEY}.organization.baseline"
    declared = {node.path for node in iter_ous(organization)}
    for index, path in enumerate(baseline.organizational_units):
        if path not in declared:
            problems.append(SettingsProblem(f"{field}.organizationalUnits[{index}]", f"OU {path!r} is not declared"))
    for index, path in _duplicates(baseline.organizational_units):
        problems.append(SettingsProblem(f"{field}.organizationalUnits[{index}]", f"OU {path!r} is listed twice"))
    covered = set(baseline_ou_paths(organization))
    for index, account in enumerate(organization.accounts):
        if account.ou in declared and account.ou not in covered:
            problems.append(
                SettingsProblem(
                    f"{CONFIG_KEY}.organization.accounts[{index}].ou",
                    f"{account.name!r} is in OU {account.ou!r}, which organization.baseline.organizationalUnits "
                    "does not reach: the account would record nothing in AWS Config",
                )
            )
    if organization.audit_services is None:
        problems.append(
            SettingsProblem(
                field, "needs organization.auditServices: the baseline delivers to the Log Archive's Config bucket"
            )
        )
    principal = STACKSETS_PRINCIPAL
    if principal not in organization.service_access_principals:
        problems.append(
            SettingsProblem(
                f"{CONFIG_KEY}.organization.serviceAccessPrincipals",
                f"must include {principal!r}: service-managed StackSets need trusted access (organization.baseline)",
            )
        )
    return problems


def resolved_budget(
    organization: OrganizationSettings, account: MemberAccountSettings
) -> tuple[float, list[BudgetNotificationSettings]]:
    """An account's monthly limit and notifications: its own, else its nearest OU's, else the default."""
    budgets = organization.budgets
    assert budgets is not None
    layers = [account.budget] if account.budget is not None else []
    parts = account.ou.split("/")
    for depth in range(len(parts), 0, -1):
        layer = budgets.organizational_units.get("/".join(parts[:depth]))
        if layer is not None:
            layers.append(layer)
    layers.append(budgets.default)
    limit = next((layer.monthly_limit_usd for layer in layers if layer.monthly_limit_usd is not None), None)
    notifications = next((layer.notifications for layer in layers if layer.notifications is not None), None)
    assert limit is not None and notifications is not None, "budgets.default has both (checked by _budget_errors)"
    return limit, notifications


def _budget_errors(organization: OrganizationSettings) -> list[SettingsProblem]:
    """AWS Budgets quotas and what a budget needs, each problem at the field that declares it."""
    budgets = organization.budgets
    if budgets is None:
        return []
    problems: list[SettingsProblem] = []
    add = lambda path, message: problems.append(SettingsProblem(f"{CONFIG_KEY}.{path}", message))  # noqa: E731
    layers: list[tuple[str, BudgetSettings]] = [("organization.budgets.default", budgets.default)]
    layers += [
        (f"organization.budgets.organizationalUnits.{path}", layer)
        for path, layer in budgets.organizational_units.items()
    ]
    layers += [
        (f"organization.accounts[{index}].budget", account.budget)
        for index, account in enumerate(organization.accounts)
        if account.budget is not None
    ]
    if budgets.default.monthly_limit_usd is None:
        add("organization.budgets.default.monthlyLimitUsd", "is required: it is the limit of every other budget")
    if budgets.default.notifications is None:
        add("organization.budgets.default.notifications", "is required: it is the alerts of every other budget")
    declared = {node.path for node in iter_ous(organization)}
    for path in budgets.organizational_units:
        if path not in declared:
            add(f"organization.budgets.organizationalUnits.{path}", f"OU {path!r} is not declared")
    for field, layer in layers:
        if layer.monthly_limit_usd is not None and not layer.monthly_limit_usd > 0:
            add(f"{field}.monthlyLimitUsd", f"{layer.monthly_limit_usd:g} is not a limit: it must be above zero")
        notifications = layer.notifications or []
        if len(notifications) > MAX_BUDGET_NOTIFICATIONS:
            add(
                f"{field}.notifications",
                f"has {len(notifications)} notifications; AWS Budgets allows at most {MAX_BUDGET_NOTIFICATIONS} "
                "per budget",
            )
        seen: set[tuple[str, float]] = set()
        for index, notification in enumerate(notifications):
            here = f"{field}.notifications[{index}]"
            if len(notification.emails) > MAX_EMAIL_SUBSCRIBERS:
                add(
                    f"{here}.emails",
                    f"has {len(notification.emails)} addresses; a notification takes at most "
                    f"{MAX_EMAIL_SUBSCRIBERS} e-mail subscribers",
                )
            if len(notification.sns_topic_arns) > MAX_SNS_SUBSCRIBERS:
                add(
                    f"{here}.snsTopicArns",
                    f"has {len(notification.sns_topic_arns)} topics; a notification takes at most "
                    f"{MAX_SNS_SUBSCRIBERS} SNS subscriber",
                )
            if not notification.emails and not notification.sns_topic_arns:
                add(here, "has no recipient: give emails, snsTopicArns or both")
            key = (notification.type, notification.threshold_percent)
            if key in seen:
                add(here, f"repeats the {notification.type} alert at {notification.threshold_percent:g} %")
            seen.add(key)
    return problems


def _budget_name_errors(settings: StackSettings, organization: OrganizationSettings) -> list[SettingsProblem]:
    """A budget name the prefix and an account's name make longer than Budgets allows fails only at ``up``."""
    if organization.budgets is None:
        return []
    return [
        SettingsProblem(
            f"{CONFIG_KEY}.organization.accounts[{index}].name",
            f"makes the budget name {settings.budget_name(account.name)!r} longer than the {MAX_BUDGET_NAME} "
            "characters AWS Budgets allows: shorten the name or the prefix",
        )
        for index, account in enumerate(organization.accounts)
        if len(settings.budget_name(account.name)) > MAX_BUDGET_NAME
    ]


def _tag_value_allowed(value: str, allowed: list[str]) -> bool:
    """A tag policy value matches exactly (tag values are case-sensitive) or through its one ``*`` wildcard
    (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_example-tag-policies.html)."""
    patterns = ("^" + ".*".join(re.escape(part) for part in entry.split("*")) + "$" for entry in allowed)
    return any(re.fullmatch(pattern, value) for pattern in patterns)


def _cost_center_errors(
    settings: StackSettings, organization: OrganizationSettings, policy_dir: Path | None
) -> list[SettingsProblem]:
    """The ``cost-center`` value of every provider's default tags must be one the tag policies over that account
    allow: where a tag policy is enforced (``enforced_for``) a noncompliant value makes creating the resource fail
    (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_tag-policies-enforcement.html),
    everywhere else it is reported noncompliant."""
    allowed_by: list[tuple[str, set[str], list[str]]] = []  # (policy name, its targets, its allowed values)
    variables = settings.policy_variables()
    for policy in organization.policies:
        if policy.type != "TAG_POLICY":
            continue
        try:
            document = json.loads(
                policies.render_file(policy.file, variables, policy_type=policy.type, policy_dir=policy_dir)
            )
        except (policies.PolicyError, ValueError):
            continue  # reported at organization.policies[i].file
        # A tag policy's keys name tags without regard to case (README, "The other organization policies").
        entry = next((v for k, v in (document.get("tags") or {}).items() if k.lower() == COST_CENTER_TAG), None)
        values = ((entry or {}).get("tag_value") or {}).get("@@assign")
        if isinstance(values, list):
            allowed_by.append((policy.name, set(policy.targets), [str(v) for v in values]))
    if not allowed_by:
        return []

    def targets_of(account: MemberAccountSettings | None) -> set[str]:
        if account is None:  # the management account: only the root's policies reach it
            return {ROOT_TARGET}
        parts = account.ou.split("/")
        return {ROOT_TARGET, f"account:{account.name}"} | {
            f"ou:{'/'.join(parts[:d])}" for d in range(1, len(parts) + 1)
        }

    problems: list[SettingsProblem] = []
    # (field, account, how the value got there): an account without its own costAllocation carries the stack's.
    checked: list[tuple[str, MemberAccountSettings | None, str]] = [("costAllocation.costCenter", None, "")]
    for index, account in enumerate(organization.accounts):
        if account.cost_allocation is not None:
            checked.append((f"organization.accounts[{index}].costAllocation.costCenter", account, ""))
        else:
            inherited = " (the stack's, which the account carries without a costAllocation of its own)"
            checked.append((f"organization.accounts[{index}].costAllocation", account, inherited))
    for field, account, how in checked:
        value = settings.cost_allocation_tags(account)[COST_CENTER_TAG]
        for name, targets, values in allowed_by:
            if how and ROOT_TARGET in targets:
                continue  # the stack's value against a root policy: reported once, at costAllocation.costCenter
            if targets & targets_of(account) and not _tag_value_allowed(value, values):
                problems.append(
                    SettingsProblem(
                        f"{CONFIG_KEY}.{field}",
                        f"{value!r}{how} is not a {COST_CENTER_TAG} value the tag policy {name!r} allows "
                        f"({', '.join(values)}; case-sensitive): creating tables and secrets with it would fail",
                    )
                )
    return problems


def _budget_warnings(organization: OrganizationSettings) -> list[str]:
    """Alerts that are all FORECASTED stay silent while Cost Explorer cannot forecast: "This is common for
    accounts that have less than one full billing cycle"
    (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/ce-forecast.html)."""
    budgets = organization.budgets
    if budgets is None:
        return []
    layers = [("organization.budgets.default", budgets.default)]
    layers += [(f"organization.budgets.organizationalUnits.{p}", b) for p, b in budgets.organizational_units.items()]
    layers += [
        (f"organization.accounts[{i}].budget", a.budget) for i, a in enumerate(organization.accounts) if a.budget
    ]
    return [
        f"{CONFIG_KEY}.{field}.notifications: every alert is FORECASTED, and AWS often makes no forecast for an account "
        "with less than one full billing cycle of history: a new account gets no alert in its first month; add an "
        "ACTUAL alert"
        for field, layer in layers
        if layer.notifications and all(n.type == "FORECASTED" for n in layer.notifications)
    ]


def _cost_allocation_warnings(settings: StackSettings) -> list[str]:
    if settings.cost_allocation is not None:
        return []
    return [
        f"{CONFIG_KEY}.costAllocation is not set: what this stack creates is tagged "
        f"{COST_CENTER_TAG}={UNASSIGNED_COST_CENTER} (README, 'Cost attribution')"
    ]
