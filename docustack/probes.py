"""The probe table: requests whose SCP decision the guardrails exist to fix, with the decision expected.

The tests run every probe against the management stack's settings; a guardrail change that flips one fails
them, and the probe's ``why`` says what is at stake; ``docustack plan --base`` reports the probes a change
flips. Account names are those of ``Pulumi.management.yaml``; an account the probes need that the settings do
not have yet (``sandbox``) is added to the model by :func:`with_probe_accounts`, in its OU.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from docustack.simulator import AccountNode, OrganizationModel, Request

US_EAST_1 = "us-east-1"
DEV_ID = "216482851263"
MANAGEMENT_ID = "348665872333"
DEVELOPER = f"arn:aws:iam::{DEV_ID}:role/developer"
EXEMPT = f"arn:aws:iam::{DEV_ID}:role/docustack-break-glass"
ORG_ACCESS = "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole"
LOG_READER = "arn:aws:iam::111122223333:role/log-reader"
LOG_BUCKET = "docustack-log-archive-111122223333"
CI_DEPLOY = f"arn:aws:iam::{DEV_ID}:role/docustack-github-deploy"
AUDIT_ANALYST = "arn:aws:iam::111122223333:role/security-analyst"
CONFIG_SERVICE_LINKED = f"arn:aws:iam::{DEV_ID}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
# The execution role service-managed StackSets creates and acts as in each member account (the organization baseline).
STACKSETS_EXEC = f"arn:aws:iam::{DEV_ID}:role/stacksets-exec-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SSE = "s3:x-amz-server-side-encryption"
LOG_KEY = "arn:aws:kms:us-east-1:111122223333:key/k"
# The data perimeter (README, "The data perimeter"). Stand-in IDs for accounts the settings give none yet.
SANDBOX_ID = "777788889999"
PROD_ID = "333344445555"
OUTSIDE_ID = "999988887777"
SANDBOX_DEVELOPER = f"arn:aws:iam::{SANDBOX_ID}:role/developer"
OUTSIDER = f"arn:aws:iam::{OUTSIDE_ID}:role/attacker"
OUTSIDE_ORGANIZATION = {"aws:PrincipalOrgID": "o-attackerorg1", "aws:PrincipalOrgPaths": "o-attackerorg1/r-atk1/"}
PROD_KEY = f"arn:aws:kms:us-east-1:{PROD_ID}:key/phi"
PROD_RECORD = "arn:aws:s3:::prod-phi-records/patient/1.json"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT_ID}:trail/organization-trail"
GITHUB_OIDC = "token.actions.githubusercontent.com"
# The OIDC subject prefix of the management stack's ci settings (its repository is still a placeholder);
# tests/test_perimeter.py holds this to the settings, so filling in the repository means changing it here too.
CI_SUBJECT_PREFIX = "repo:<github-repository>"
ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'
AUTHENTICATED_USERS = 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"'


# Accounts the probes name that an organization may not have yet: name -> OU path.
PROBE_ACCOUNTS = {"sandbox": "Sandbox"}


def with_probe_accounts(model: OrganizationModel) -> OrganizationModel:
    """``model`` plus each probe account it lacks, placed in its OU when that OU exists."""
    for name, ou in PROBE_ACCOUNTS.items():
        if name not in model.accounts and ou in model.ou_parents:
            model.accounts[name] = AccountNode(name, None, ou)
    return model


@dataclass(frozen=True)
class Probe:
    name: str
    request: Request
    allowed: bool
    why: str
    denied_by: tuple[str, ...] = field(default=())  # policy names expected to deny, when denied


def _req(
    action: str,
    account: str,
    *,
    region: str = US_EAST_1,
    principal: str = DEVELOPER,
    resource: str = "*",
    context: dict[str, str] | None = None,
    resource_account: str | None = None,
) -> Request:
    return Request(action, account, region, principal, resource, context or {}, resource_account=resource_account)


def _put(account: str, bucket: str, **context: str) -> Request:
    """An upload into a bucket of the same account; ``sse`` and ``acl`` become the S3 condition keys of the same
    name. An S3 ARN names no account, and the SCPs on Workloads depend on which account holds the bucket
    (workloads-no-reach-into-sandbox), so the probe says it."""
    keys = {"sse": SSE, "acl": "s3:x-amz-acl"}
    return _req(
        "s3:PutObject",
        account,
        resource=f"arn:aws:s3:::{bucket}/key",
        context={keys[k]: v for k, v in context.items()},
        resource_account=account,
    )


PROBES: tuple[Probe, ...] = (
    # Require S3 Encryption (Workloads OU)
    Probe(
        "dev upload without encryption header",
        _put("dev", "app-data"),
        False,
        "uploads must carry SSE",
        ("require-s3-encryption",),
    ),
    Probe("dev upload with SSE-KMS header", _put("dev", "app-data", sse="aws:kms"), True, "encrypted uploads pass"),
    Probe("dev upload with SSE-S3 header", _put("dev", "app-data", sse="AES256"), True, "AES256 is encryption too"),
    Probe(
        "pulumi state write with the login URL's ssetype",
        _put("dev", f"docustack-pulumi-state-{DEV_ID}", sse="aws:kms"),
        True,
        "pulumi login 's3://…&ssetype=aws:kms&kmskeyid=…' sends the header, so the state backend works under the SCP",
    ),
    Probe(
        "pulumi state write with a plain login URL",
        _put("dev", f"docustack-pulumi-state-{DEV_ID}"),
        False,
        "a login URL without ssetype sends no header and is denied (pulumi/pulumi#9341)",
        ("require-s3-encryption",),
    ),
    Probe(
        "staging upload without header",
        _put("staging", "app-data"),
        False,
        "Workloads OU binds staging",
        ("require-s3-encryption",),
    ),
    Probe(
        "prod upload without header",
        _put("prod", "app-data"),
        False,
        "Workloads OU binds prod",
        ("require-s3-encryption",),
    ),
    Probe(
        "sandbox upload without header",
        replace(_put("sandbox", "scratch"), resource_account="sandbox"),
        True,
        "Sandbox is not under the Workloads policies",
    ),
    Probe(
        "audit upload without header",
        _put("audit", "findings"),
        True,
        "Security OU is not under the Workloads policies",
    ),
    Probe(
        "management upload without header",
        _put("management", "anything"),
        True,
        "SCPs never bind the management account",
    ),
    Probe(
        "multipart upload part in dev",
        _put("dev", "app-data"),  # UploadPart is authorized as s3:PutObject and never carries the SSE header
        False,
        "known consequence of the strategy document's statement: multipart uploads fail in Workloads (README)",
        ("require-s3-encryption",),
    ),
    Probe(
        "dev GetObject unaffected",
        _req("s3:GetObject", "dev", resource="arn:aws:s3:::app-data/key", resource_account="dev"),
        True,
        "reads need no header",
    ),
    # Region Deny (root)
    Probe(
        "EC2 in us-west-2 from dev",
        _req("ec2:RunInstances", "dev", region="us-west-2"),
        False,
        "only us-east-1",
        ("region-deny",),
    ),
    Probe("EC2 in us-east-1 from dev", _req("ec2:RunInstances", "dev"), True, "the allowed region"),
    Probe(
        "EC2 in eu-west-1 from sandbox",
        _req("ec2:RunInstances", "sandbox", region="eu-west-1"),
        False,
        "root policy binds every OU",
        ("region-deny",),
    ),
    Probe(
        "RDS in ap-southeast-2 from prod",
        _req("rds:CreateDBInstance", "prod", region="ap-southeast-2"),
        False,
        "PHI stays in us-east-1",
        ("region-deny",),
    ),
    Probe("IAM from us-west-2", _req("iam:CreateRole", "dev", region="us-west-2"), True, "IAM is global"),
    Probe(
        "STS from eu-west-1",
        _req("sts:AssumeRole", "prod", region="eu-west-1"),
        True,
        "regional STS endpoints must keep working",
    ),
    Probe(
        "Organizations from us-west-2",
        _req("organizations:DescribeOrganization", "audit", region="us-west-2"),
        True,
        "global",
    ),
    Probe(
        "Route 53 from us-west-2", _req("route53:ChangeResourceRecordSets", "prod", region="us-west-2"), True, "global"
    ),
    Probe(
        "CloudFront from eu-central-1",
        _req("cloudfront:CreateDistribution", "dev", region="eu-central-1"),
        True,
        "global",
    ),
    Probe("Support from us-west-2", _req("support:CreateCase", "staging", region="us-west-2"), True, "global"),
    Probe(
        "S3 ListAllMyBuckets from us-west-2",
        _req("s3:ListAllMyBuckets", "dev", region="us-west-2"),
        True,
        "global S3 call in the exemption list",
    ),
    Probe(
        "S3 CreateBucket in us-west-2",
        _req("s3:CreateBucket", "dev", region="us-west-2"),
        False,
        "regional S3 is denied",
        ("region-deny",),
    ),
    Probe(
        "exempt role in us-west-2",
        _req("ec2:RunInstances", "dev", region="us-west-2", principal=EXEMPT),
        True,
        "break-glass is exempt",
    ),
    Probe(
        "OrganizationAccountAccessRole in us-west-2",
        _req("ec2:DescribeInstances", "audit", region="us-west-2", principal=ORG_ACCESS),
        True,
        "the deploy role is exempt",
    ),
    Probe(
        "management in us-west-2",
        _req("ec2:RunInstances", "management", region="us-west-2"),
        True,
        "management account is not bound",
    ),
    Probe(
        "service-linked role in us-west-2",
        _req(
            "ec2:RunInstances",
            "dev",
            region="us-west-2",
            principal=f"arn:aws:iam::{DEV_ID}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX",
        ),
        True,
        "SCPs never bind service-linked roles",
    ),
    # Protect CloudTrail (root)
    Probe(
        "stop trail in dev", _req("cloudtrail:StopLogging", "dev"), False, "no stopping trails", ("protect-cloudtrail",)
    ),
    Probe(
        "delete trail in sandbox",
        _req("cloudtrail:DeleteTrail", "sandbox"),
        False,
        "no deleting trails",
        ("protect-cloudtrail",),
    ),
    Probe(
        "narrow event selectors in prod",
        _req("cloudtrail:PutEventSelectors", "prod"),
        False,
        "no weakening",
        ("protect-cloudtrail",),
    ),
    Probe(
        "update trail in staging",
        _req("cloudtrail:UpdateTrail", "staging"),
        False,
        "no redirecting trails",
        ("protect-cloudtrail",),
    ),
    Probe("LookupEvents in dev", _req("cloudtrail:LookupEvents", "dev"), True, "reading the trail is fine"),
    Probe(
        "exempt role stops trail",
        _req("cloudtrail:StopLogging", "dev", principal=EXEMPT),
        True,
        "break-glass is exempt",
    ),
    Probe(
        "stop trail in us-west-2",
        _req("cloudtrail:StopLogging", "dev", region="us-west-2"),
        False,
        "denied twice over",
        ("region-deny", "protect-cloudtrail"),
    ),
    # Protect Log Archive (Log Archive account)
    Probe(
        "delete a log object",
        _req(
            "s3:DeleteObject",
            "log-archive",
            principal=LOG_READER,
            resource=f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/o-x/CloudTrail/log.json.gz",
        ),
        False,
        "logs are immutable",
        ("protect-log-archive",),
    ),
    Probe(
        "delete a log object version",
        _req(
            "s3:DeleteObjectVersion",
            "log-archive",
            principal=LOG_READER,
            resource=f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/x",
        ),
        False,
        "versions are the history",
        ("protect-log-archive",),
    ),
    Probe(
        "bypass governance retention",
        _req(
            "s3:BypassGovernanceRetention",
            "log-archive",
            principal=LOG_READER,
            resource=f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/x",
        ),
        False,
        "no way round the lock",
        ("protect-log-archive",),
    ),
    Probe(
        "delete the log bucket",
        _req("s3:DeleteBucket", "log-archive", principal=LOG_READER, resource=f"arn:aws:s3:::{LOG_BUCKET}"),
        False,
        "no deleting the bucket",
        ("protect-log-archive",),
    ),
    Probe(
        "replace the bucket policy",
        _req("s3:PutBucketPolicy", "log-archive", principal=LOG_READER, resource=f"arn:aws:s3:::{LOG_BUCKET}"),
        False,
        "no weakening the policy",
        ("protect-log-archive",),
    ),
    Probe(
        "expire logs by lifecycle",
        _req(
            "s3:PutLifecycleConfiguration", "log-archive", principal=LOG_READER, resource=f"arn:aws:s3:::{LOG_BUCKET}"
        ),
        False,
        "no deleting by lifecycle",
        ("protect-log-archive",),
    ),
    Probe(
        "suspend versioning",
        _req("s3:PutBucketVersioning", "log-archive", principal=LOG_READER, resource=f"arn:aws:s3:::{LOG_BUCKET}"),
        False,
        "no suspending versioning",
        ("protect-log-archive",),
    ),
    Probe(
        "change object lock",
        _req(
            "s3:PutBucketObjectLockConfiguration",
            "log-archive",
            principal=LOG_READER,
            resource=f"arn:aws:s3:::{LOG_BUCKET}",
        ),
        False,
        "no weakening the lock",
        ("protect-log-archive",),
    ),
    Probe(
        "stop trail in log archive",
        _req("cloudtrail:StopLogging", "log-archive", principal=LOG_READER),
        False,
        "no stopping trails",
        ("protect-log-archive", "protect-cloudtrail"),
    ),
    Probe(
        "read a log object",
        _req("s3:GetObject", "log-archive", principal=LOG_READER, resource=f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/x"),
        True,
        "reading logs is allowed",
    ),
    Probe(
        "delete an object elsewhere in log archive",
        _req("s3:DeleteObject", "log-archive", principal=LOG_READER, resource="arn:aws:s3:::scratch/x"),
        True,
        "only the log buckets are protected",
    ),
    Probe(
        "delete a dev object",
        _req("s3:DeleteObject", "dev", resource=f"arn:aws:s3:::{LOG_BUCKET}/x", resource_account="log-archive"),
        True,
        "the Log Archive policy binds only that account",
    ),
    Probe(
        "exempt role changes the log bucket policy",
        _req("s3:PutBucketPolicy", "log-archive", principal=ORG_ACCESS, resource=f"arn:aws:s3:::{LOG_BUCKET}"),
        True,
        "the deploying role must be able to manage the bucket",
    ),
    Probe(
        "schedule deletion of a log key",
        _req(
            "kms:ScheduleKeyDeletion",
            "log-archive",
            principal=LOG_READER,
            resource="arn:aws:kms:us-east-1:111122223333:key/k",
        ),
        False,
        "a deleted key leaves the locked logs unreadable for good",
        ("protect-log-archive",),
    ),
    Probe(
        "disable a log key",
        _req(
            "kms:DisableKey", "log-archive", principal=LOG_READER, resource="arn:aws:kms:us-east-1:111122223333:key/k"
        ),
        False,
        "CloudTrail cannot deliver with a disabled key",
        ("protect-log-archive",),
    ),
    Probe("disable a key in dev", _req("kms:DisableKey", "dev"), True, "only the Log Archive's keys are guarded"),
    # Protect Exempt Roles (root): the exemptions above must not be claimable
    Probe(
        "create a role named like the break-glass role",
        _req("iam:CreateRole", "dev", resource="arn:aws:iam::216482851263:role/docustack-break-glass"),
        False,
        "a role with an exempt name would escape every guardrail",
        ("protect-guardrails",),
    ),
    Probe(
        "re-trust OrganizationAccountAccessRole",
        _req(
            "iam:UpdateAssumeRolePolicy",
            "prod",
            resource="arn:aws:iam::111122223333:role/OrganizationAccountAccessRole",
        ),
        False,
        "whoever can assume it escapes every guardrail",
        ("protect-guardrails",),
    ),
    Probe(
        "attach a policy to OrganizationAccountAccessRole in log archive",
        _req(
            "iam:AttachRolePolicy",
            "log-archive",
            principal=LOG_READER,
            resource="arn:aws:iam::111122223333:role/OrganizationAccountAccessRole",
        ),
        False,
        "the exempt roles stay as the organization made them",
        ("protect-guardrails",),
    ),
    Probe(
        "create an ordinary role",
        _req("iam:CreateRole", "dev", resource="arn:aws:iam::216482851263:role/app"),
        True,
        "other roles are the account's business",
    ),
    Probe(
        "exempt role repairs its sibling",
        _req(
            "iam:UpdateAssumeRolePolicy",
            "dev",
            principal=ORG_ACCESS,
            resource="arn:aws:iam::216482851263:role/docustack-break-glass",
        ),
        True,
        "the exempt roles may manage each other",
    ),
    Probe(
        "stop Config recording in dev",
        _req("config:StopConfigurationRecorder", "dev"),
        False,
        "the aggregator would go blind",
        ("protect-guardrails",),
    ),
    Probe(
        "leave the GuardDuty administrator in prod",
        _req("guardduty:DisassociateFromAdministratorAccount", "prod"),
        False,
        "findings must keep reaching the Audit account",
        ("protect-guardrails",),
    ),
    Probe(
        "disable Security Hub in sandbox",
        _req("securityhub:DisableSecurityHub", "sandbox"),
        False,
        "every account reports",
        ("protect-guardrails",),
    ),
    Probe(
        "audit's access role manages GuardDuty members",
        _req("guardduty:DeleteMembers", "audit", principal=ORG_ACCESS),
        True,
        "the administrator's deploy role is exempt",
    ),
    Probe("read Config in dev", _req("config:DescribeConfigurationRecorders", "dev"), True, "reading is fine"),
    # protect-guardrails: narrowing or redirecting the detective controls is as quiet as stopping them
    Probe(
        "narrow the Config recorder in dev",
        _req("config:PutConfigurationRecorder", "dev"),
        False,
        "a recorder that records nothing is off without saying so (Control Tower's GRCONFIGENABLED)",
        ("protect-guardrails",),
    ),
    Probe(
        "redirect the Config delivery channel in staging",
        _req("config:PutDeliveryChannel", "staging"),
        False,
        "history delivered elsewhere never reaches the Log Archive",
        ("protect-guardrails",),
    ),
    Probe(
        "shorten Config retention in prod",
        _req("config:PutRetentionConfiguration", "prod"),
        False,
        "the history must outlive an incident",
        ("protect-guardrails",),
    ),
    Probe(
        "drop resource types from recording in sandbox",
        _req("config:DisassociateResourceTypes", "sandbox"),
        False,
        "narrowing by resource type is narrowing",
        ("protect-guardrails",),
    ),
    Probe(
        "CI deploy role changes the Config recorder",
        _req("config:PutConfigurationRecorder", "dev", principal=CI_DEPLOY),
        False,
        "the deploy role is an account admin, not exempt: Config changes go through an exempt role (README)",
        ("protect-guardrails",),
    ),
    Probe(
        "exempt role sets up Config recording",
        _req("config:PutDeliveryChannel", "dev", principal=EXEMPT),
        True,
        "an account stack's first up runs as an exempt role and makes the recorder and channel",
    ),
    Probe(
        "Config's service-linked role is not bound",
        _req("config:PutConfigurationRecorder", "dev", principal=CONFIG_SERVICE_LINKED),
        True,
        "SCPs never bind service-linked roles",
    ),
    Probe(
        "the organization baseline sets up Config recording in dev",
        _req("config:PutConfigurationRecorder", "dev", principal=STACKSETS_EXEC),
        True,
        "the baseline StackSet makes the recorder as stacksets-exec-* (README, 'The organization baseline')",
    ),
    Probe(
        "a developer takes the StackSets execution role's name",
        _req("iam:CreateRole", "dev", resource=f"arn:aws:iam::{DEV_ID}:role/stacksets-exec-mine"),
        False,
        "a role of that name would pass the Config statement's exemption",
        ("protect-guardrails",),
    ),
    Probe(
        "a dev admin widens the member read-only role",
        _req("iam:PutRolePolicy", "dev", resource=f"arn:aws:iam::{DEV_ID}:role/docustack-readonly"),
        False,
        "pull-request code reads member accounts through it: only its makers may change it",
        ("protect-guardrails",),
    ),
    Probe(
        "a dev admin claims the member read-only role's name at another path",
        _req("iam:CreateRole", "dev", resource=f"arn:aws:iam::{DEV_ID}:role/mine/docustack-readonly"),
        False,
        "role names are unique whatever the path: the StackSet could not make the real one",
        ("protect-guardrails",),
    ),
    Probe(
        "the member read-only StackSet makes the read-only role in dev",
        _req(
            "iam:CreateRole", "dev", principal=STACKSETS_EXEC, resource=f"arn:aws:iam::{DEV_ID}:role/docustack-readonly"
        ),
        True,
        "stacksets-exec-* is the role's maker (README, 'The organization baseline')",
    ),
    Probe(
        "the StackSets execution role outside the allowed regions",
        _req("ec2:RunInstances", "dev", region="us-west-2", principal=STACKSETS_EXEC),
        False,
        "only the Config statement exempts it",
        ("region-deny",),
    ),
    Probe(
        "turn off GuardDuty auto-enable from audit",
        _req("guardduty:UpdateOrganizationConfiguration", "audit", principal=AUDIT_ANALYST),
        False,
        "new accounts would join unwatched",
        ("protect-guardrails",),
    ),
    Probe(
        "delete the GuardDuty publishing destination in audit",
        _req("guardduty:DeletePublishingDestination", "audit", principal=AUDIT_ANALYST),
        False,
        "findings would stop reaching the archive",
        ("protect-guardrails",),
    ),
    Probe(
        "create an auto-archive filter in prod",
        _req("guardduty:CreateFilter", "prod"),
        False,
        "a suppression rule archives findings before anyone sees them",
        ("protect-guardrails",),
    ),
    Probe(
        "trust an IP list in dev",
        _req("guardduty:CreateIPSet", "dev"),
        False,
        "GuardDuty raises no finding for a trusted IP",
        ("protect-guardrails",),
    ),
    Probe(
        "audit's access role sets GuardDuty auto-enable",
        _req("guardduty:UpdateOrganizationConfiguration", "audit", principal=ORG_ACCESS),
        True,
        "the management stack deploys the organization settings through the exempt role",
    ),
    Probe(
        "disable a Security Hub standard in dev",
        _req("securityhub:BatchDisableStandards", "dev"),
        False,
        "a disabled standard checks nothing",
        ("protect-guardrails",),
    ),
    Probe(
        "disable a Security Hub control in staging",
        _req("securityhub:UpdateStandardsControl", "staging"),
        False,
        "one control at a time is still off",
        ("protect-guardrails",),
    ),
    Probe(
        "stop importing GuardDuty findings into Security Hub",
        _req("securityhub:DisableImportFindingsForProduct", "prod"),
        False,
        "the integration that carries findings to the Audit account",
        ("protect-guardrails",),
    ),
    Probe(
        "create a Security Hub suppression rule in audit",
        _req("securityhub:CreateAutomationRule", "audit", principal=AUDIT_ANALYST),
        False,
        "automation rules can suppress findings as they arrive",
        ("protect-guardrails",),
    ),
    Probe(
        "exempt role changes Security Hub standards",
        _req("securityhub:BatchDisableStandards", "audit", principal=ORG_ACCESS),
        True,
        "the exempt roles keep the means to change the detective controls deliberately",
    ),
    Probe(
        "enable a Security Hub standard in dev", _req("securityhub:BatchEnableStandards", "dev"), True, "more is fine"
    ),
    # protect-guardrails: member principals may not assume the exempt roles
    Probe(
        "member admin assumes the break-glass role",
        _req("sts:AssumeRole", "dev", resource=EXEMPT),
        False,
        "a hand-made trust policy naming a member principal must not open the way round every guardrail",
        ("protect-guardrails",),
    ),
    Probe(
        "member admin assumes another account's OrganizationAccountAccessRole",
        _req("sts:AssumeRole", "prod", resource=ORG_ACCESS),
        False,
        "only the management account, which SCPs do not bind, reaches member accounts through it",
        ("protect-guardrails",),
    ),
    Probe(
        "CI deploy role tags a session into the break-glass role",
        _req("sts:TagSession", "dev", principal=CI_DEPLOY, resource=EXEMPT),
        False,
        "session tags are authorized against the role too",
        ("protect-guardrails",),
    ),
    Probe(
        "exempt role chains into the break-glass role",
        _req("sts:AssumeRole", "audit", principal=ORG_ACCESS, resource=EXEMPT),
        True,
        "exempt-to-exempt chaining stays open: the management stack's role may repair the break-glass role",
    ),
    Probe(
        "management account assumes OrganizationAccountAccessRole",
        _req(
            "sts:AssumeRole",
            "management",
            principal=f"arn:aws:iam::{MANAGEMENT_ID}:role/operator",
            resource=ORG_ACCESS,
        ),
        True,
        "SCPs never bind the management account: it keeps its way into every member",
    ),
    Probe(
        "member admin assumes an ordinary role",
        _req("sts:AssumeRole", "dev", resource=f"arn:aws:iam::{DEV_ID}:role/app"),
        True,
        "only the exempt roles are closed",
    ),
    # Deny Public S3 (Workloads OU)
    Probe(
        "turn off account public access block in dev",
        _req("s3:PutAccountPublicAccessBlock", "dev"),
        False,
        "account BPA is locked",
        ("deny-public-s3",),
    ),
    Probe(
        "turn off bucket public access block in prod",
        _req("s3:PutBucketPublicAccessBlock", "prod", resource="arn:aws:s3:::app-data"),
        False,
        "bucket BPA is locked",
        ("deny-public-s3",),
    ),
    Probe(
        "exempt role sets account public access block",
        _req("s3:PutAccountPublicAccessBlock", "dev", principal=EXEMPT),
        True,
        "the baseline is deployed by an exempt role",
    ),
    Probe(
        "public-read ACL on upload",
        _put("dev", "app-data", sse="aws:kms", acl="public-read"),
        False,
        "no public canned ACLs",
        ("deny-public-s3",),
    ),
    Probe(
        "private ACL on upload", _put("dev", "app-data", sse="aws:kms", acl="private"), True, "private ACLs are fine"
    ),
    # Not exempt: the data-protection statements bind the exempt roles too (README, "The guardrails")
    Probe(
        "exempt role uploads without encryption header",
        _req("s3:PutObject", "dev", principal=EXEMPT, resource="arn:aws:s3:::app-data/key"),
        False,
        "no repair needs an unencrypted upload; an exempt role can send the header",
        ("require-s3-encryption",),
    ),
    Probe(
        "exempt role sets a public-read ACL",
        _req(
            "s3:PutBucketAcl",
            "prod",
            principal=ORG_ACCESS,
            resource="arn:aws:s3:::app-data",
            context={"s3:x-amz-acl": "public-read"},
        ),
        False,
        "no repair needs a public bucket in an account that holds PHI",
        ("deny-public-s3",),
    ),
    Probe(
        "sandbox changes public access block",
        _req("s3:PutAccountPublicAccessBlock", "sandbox"),
        True,
        "Sandbox is not under the Workloads policies",
    ),
    # Escapes found by attacking the guardrails as a member-account administrator (each closed above, with the
    # neighbour that must stay open)
    Probe(
        "member admin leaves the organization",
        _req("organizations:LeaveOrganization", "dev"),
        False,
        "an account outside the organization is bound by no guardrail at all",
        ("protect-guardrails",),
    ),
    Probe(
        "exempt role leaves the organization",
        _req("organizations:LeaveOrganization", "audit", principal=ORG_ACCESS),
        False,
        "no repair needs it: the management account removes an account with RemoveAccountFromOrganization",
        ("protect-guardrails",),
    ),
    Probe(
        "management removes an account from the organization",
        _req(
            "organizations:RemoveAccountFromOrganization",
            "management",
            principal=f"arn:aws:iam::{MANAGEMENT_ID}:role/operator",
        ),
        True,
        "the deliberate way out stays with the management account",
    ),
    Probe(
        "create a role with an exempt name at another path",
        _req("iam:CreateRole", "staging", resource="arn:aws:iam::111122223333:role/ops/OrganizationAccountAccessRole"),
        False,
        "role names are unique whatever the path: it would take the name the management stack's way in needs",
        ("protect-guardrails",),
    ),
    Probe(
        "create an ordinary role at a path",
        _req("iam:CreateRole", "dev", resource=f"arn:aws:iam::{DEV_ID}:role/ops/app"),
        True,
        "paths stay usable for every other role",
    ),
    Probe(
        "a role at another path with an exempt name is not exempt",
        _req(
            "ec2:RunInstances",
            "dev",
            region="us-west-2",
            principal=f"arn:aws:iam::{DEV_ID}:role/ops/docustack-break-glass",
        ),
        False,
        "the exemption names the role at its own path only",
        ("region-deny",),
    ),
    Probe(
        "delete a log object version through an access point",
        _req(
            "s3:DeleteObjectVersion",
            "log-archive",
            principal=LOG_READER,
            resource="arn:aws:s3:us-east-1:111122223333:accesspoint/logs/object/AWSLogs/x",
        ),
        False,
        "an access point names its own object ARN, not the bucket's; the Config bucket has no Object Lock",
        ("protect-log-archive",),
    ),
    Probe(
        "read a log object through an access point",
        _req(
            "s3:GetObject",
            "log-archive",
            principal=LOG_READER,
            resource="arn:aws:s3:us-east-1:111122223333:accesspoint/logs/object/AWSLogs/x",
        ),
        True,
        "reading stays open",
    ),
    Probe(
        "delete through an access point in dev",
        _req("s3:DeleteObject", "dev", resource=f"arn:aws:s3:us-east-1:{DEV_ID}:accesspoint/app/object/key"),
        True,
        "the Log Archive policy binds only that account",
    ),
    Probe(
        "grant a reader on a log key",
        _req("kms:CreateGrant", "log-archive", principal=LOG_READER, resource=LOG_KEY),
        False,
        "a grant gives any principal the logs without a change to the key policy anyone reviews",
        ("protect-log-archive",),
    ),
    Probe(
        "exempt role creates a grant on a log key",
        _req("kms:CreateGrant", "log-archive", principal=ORG_ACCESS, resource=LOG_KEY),
        True,
        "the exempt roles keep every means of repair",
    ),
    Probe(
        "create a grant in dev",
        _req("kms:CreateGrant", "dev", resource=f"arn:aws:kms:us-east-1:{DEV_ID}:key/k"),
        True,
        "only the Log Archive's keys are guarded",
    ),
    Probe(
        "grant AllUsers read with a header on upload",
        _req(
            "s3:PutObject",
            "dev",
            resource="arn:aws:s3:::app-data/key",
            context={SSE: "aws:kms", "s3:x-amz-grant-read": ALL_USERS},
        ),
        False,
        "a grant header makes an object public as surely as a canned ACL",
        ("deny-public-s3",),
    ),
    Probe(
        "grant AuthenticatedUsers full control of a bucket",
        _req(
            "s3:PutBucketAcl",
            "prod",
            resource="arn:aws:s3:::app-data",
            context={"s3:x-amz-grant-full-control": AUTHENTICATED_USERS},
        ),
        False,
        "AuthenticatedUsers is every AWS account in the world",
        ("deny-public-s3",),
    ),
    Probe(
        "public-read ACL on an object version",
        _req(
            "s3:PutObjectVersionAcl",
            "staging",
            resource="arn:aws:s3:::app-data/key",
            context={"s3:x-amz-acl": "public-read"},
        ),
        False,
        "an ACL on one version is authorized as PutObjectVersionAcl, not PutObjectAcl",
        ("deny-public-s3",),
    ),
    Probe(
        "grant one account read with a header on upload",
        _req(
            "s3:PutObject",
            "dev",
            resource="arn:aws:s3:::app-data/key",
            context={
                SSE: "aws:kms",
                "s3:x-amz-grant-read": 'id="79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"',
            },
            resource_account="dev",
        ),
        True,
        "a grant to a named account is not public",
    ),
)

PERIMETER_PROBES: tuple[Probe, ...] = (
    # Sandbox: no reach into Workloads (sandbox-no-phi from the caller's side, the RCP from the resource's)
    Probe(
        "sandbox principal reads prod PHI",
        _req("s3:GetObject", "sandbox", principal=SANDBOX_DEVELOPER, resource=PROD_RECORD, resource_account="prod"),
        False,
        "no PHI in Sandbox: denied by the sandbox's SCP and by the RCP on Workloads",
        ("sandbox-no-phi", "rcp-deny-sandbox-principals"),
    ),
    Probe(
        "sandbox principal reads its own bucket",
        _req(
            "s3:GetObject",
            "sandbox",
            principal=SANDBOX_DEVELOPER,
            resource="arn:aws:s3:::scratch/x",
            resource_account="sandbox",
        ),
        True,
        "a sandbox is free inside itself",
    ),
    Probe(
        "sandbox principal decrypts with a prod key",
        _req("kms:Decrypt", "sandbox", principal=SANDBOX_DEVELOPER, resource=PROD_KEY, resource_account="prod"),
        False,
        "no decrypting Workloads data from a sandbox",
        ("sandbox-no-phi", "rcp-deny-sandbox-principals"),
    ),
    Probe(
        "sandbox principal assumes a prod role",
        _req(
            "sts:AssumeRole",
            "sandbox",
            principal=SANDBOX_DEVELOPER,
            resource=f"arn:aws:iam::{PROD_ID}:role/app",
            resource_account="prod",
        ),
        False,
        "a role in prod would carry the sandbox principal into the data",
        ("sandbox-no-phi", "rcp-deny-sandbox-principals"),
    ),
    # Workloads: PHI does not go into a sandbox either (workloads-no-reach-into-sandbox)
    Probe(
        "prod principal writes into a sandbox bucket",
        _req(
            "s3:PutObject",
            "prod",
            principal=f"arn:aws:iam::{PROD_ID}:role/app",
            resource="arn:aws:s3:::scratch/export.csv",
            resource_account="sandbox",
            context={SSE: "aws:kms"},
        ),
        False,
        "PHI would leave Workloads for an account with no PHI controls",
        ("workloads-no-reach-into-sandbox",),
    ),
    Probe(
        "prod principal writes into its own bucket",
        _req(
            "s3:PutObject",
            "prod",
            principal=f"arn:aws:iam::{PROD_ID}:role/app",
            resource="arn:aws:s3:::prod-records/x",
            resource_account="prod",
            context={SSE: "aws:kms"},
        ),
        True,
        "the Sandbox rule names only Sandbox resources",
    ),
    Probe(
        "sandbox principal reads the Log Archive",
        _req(
            "s3:GetObject",
            "sandbox",
            principal=SANDBOX_DEVELOPER,
            resource=f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/x",
            resource_account="log-archive",
        ),
        True,
        "the Sandbox exclusion is for Workloads; the log buckets' own policies decide who reads logs",
    ),
    # Outside the organization: the identity perimeter
    Probe(
        "outside account decrypts with a prod key",
        _req(
            "kms:Decrypt",
            OUTSIDE_ID,
            principal=OUTSIDER,
            resource=PROD_KEY,
            context=OUTSIDE_ORGANIZATION,
            resource_account="prod",
        ),
        False,
        "a generous key policy must not let another organization decrypt PHI (CT.KMS.PV.? family, RCP)",
        ("rcp-identity-perimeter",),
    ),
    Probe(
        "outside account reads prod PHI",
        _req(
            "s3:GetObject",
            OUTSIDE_ID,
            principal=OUTSIDER,
            resource=PROD_RECORD,
            context=OUTSIDE_ORGANIZATION,
            resource_account="prod",
        ),
        False,
        "a public or cross-account bucket policy must not expose PHI (CT.S3.PV.4)",
        ("rcp-identity-perimeter",),
    ),
    Probe(
        "dev principal decrypts with a prod key",
        _req("kms:Decrypt", "dev", resource=PROD_KEY, resource_account="prod"),
        True,
        "principals of the organization stay inside the perimeter (key policies decide the rest)",
    ),
    Probe(
        "management account reads prod PHI",
        _req(
            "s3:GetObject",
            "management",
            principal=f"arn:aws:iam::{MANAGEMENT_ID}:role/operator",
            resource=PROD_RECORD,
            resource_account="prod",
        ),
        True,
        "the management account's principals are in the organization",
    ),
    Probe(
        "outside account reads a management-account bucket",
        _req(
            "s3:GetObject",
            OUTSIDE_ID,
            principal=OUTSIDER,
            resource="arn:aws:s3:::management-bucket/x",
            context=OUTSIDE_ORGANIZATION,
            resource_account="management",
        ),
        True,
        "RCPs never bind the management account's resources: its bucket policies must (README table)",
    ),
    # AWS services delivering for the organization: the foundation's own delivery paths
    Probe(
        "CloudTrail delivers to the Log Archive",
        _req(
            "s3:PutObject",
            "log-archive",
            principal="cloudtrail.amazonaws.com",
            resource=f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/o-x/{MANAGEMENT_ID}/CloudTrail/log.json.gz",
            context={"aws:SourceAccount": MANAGEMENT_ID, "aws:SourceArn": TRAIL_ARN},
            resource_account="log-archive",
        ),
        True,
        "the organization trail writes as cloudtrail.amazonaws.com for the management account",
    ),
    Probe(
        "CloudTrail encrypts with the log key",
        _req(
            "kms:GenerateDataKey",
            "log-archive",
            principal="cloudtrail.amazonaws.com",
            resource=LOG_KEY,
            context={"aws:SourceAccount": MANAGEMENT_ID, "aws:SourceArn": TRAIL_ARN},
            resource_account="log-archive",
        ),
        True,
        "SSE-KMS delivery needs the key too",
    ),
    Probe(
        "AWS Config delivers to the Log Archive",
        _req(
            "s3:PutObject",
            "log-archive",
            principal="config.amazonaws.com",
            resource=f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/{DEV_ID}/Config/x",
            context={"aws:SourceAccount": DEV_ID},
            resource_account="log-archive",
        ),
        True,
        "every account's recorder delivers as config.amazonaws.com with its own aws:SourceAccount",
    ),
    Probe(
        "VPC Flow Logs deliver to the Log Archive",
        _req(
            "s3:PutObject",
            "log-archive",
            principal="delivery.logs.amazonaws.com",
            resource=f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/{DEV_ID}/vpcflowlogs/x",
            context={"aws:SourceAccount": DEV_ID, "aws:SourceArn": f"arn:aws:logs:us-east-1:{DEV_ID}:*"},
            resource_account="log-archive",
        ),
        True,
        "vended logs deliver as delivery.logs.amazonaws.com",
    ),
    Probe(
        "a service writing for another organization",
        _req(
            "s3:PutObject",
            "log-archive",
            principal="cloudtrail.amazonaws.com",
            resource=f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/x",
            context={"aws:SourceAccount": OUTSIDE_ID, "aws:SourceOrgID": "o-attackerorg1"},
            resource_account="log-archive",
        ),
        False,
        "the confused deputy: a trail of another organization pointed at our bucket",
        ("rcp-identity-perimeter",),
    ),
    # CI previews and deploys keep working inside the perimeter: the roles are principals of the organization
    Probe(
        "CI deploy role writes prod state",
        _req(
            "s3:PutObject",
            "prod",
            principal=f"arn:aws:iam::{PROD_ID}:role/docustack-github-deploy",
            resource=f"arn:aws:s3:::docustack-pulumi-state-{PROD_ID}/.pulumi/stacks/docustack/prod.json",
            context={SSE: "aws:kms"},
            resource_account="prod",
        ),
        True,
        "a deploy writes the stack's state with the login URL's ssetype",
    ),
    Probe(
        "CI preview role decrypts with the prod state key",
        _req(
            "kms:Decrypt",
            "prod",
            principal=f"arn:aws:iam::{PROD_ID}:role/docustack-github-preview",
            resource=f"arn:aws:kms:us-east-1:{PROD_ID}:key/state",
            resource_account="prod",
        ),
        True,
        "a preview reads state and secrets",
    ),
    # GitHub's OIDC federation into the CI roles
    Probe(
        "GitHub pull request assumes the dev preview role",
        _req(
            "sts:AssumeRoleWithWebIdentity",
            "dev",
            principal=f"arn:aws:iam::{DEV_ID}:oidc-provider/{GITHUB_OIDC}",
            resource=f"arn:aws:iam::{DEV_ID}:role/docustack-github-preview",
            context={f"{GITHUB_OIDC}:sub": f"{CI_SUBJECT_PREFIX}:pull_request"},
        ),
        True,
        "CI previews federate from the project's repository",
    ),
    Probe(
        "GitHub deploy job assumes the prod deploy role",
        _req(
            "sts:AssumeRoleWithWebIdentity",
            "prod",
            principal=f"arn:aws:iam::{PROD_ID}:oidc-provider/{GITHUB_OIDC}",
            resource=f"arn:aws:iam::{PROD_ID}:role/docustack-github-deploy",
            context={f"{GITHUB_OIDC}:sub": f"{CI_SUBJECT_PREFIX}:environment:prod"},
            resource_account="prod",
        ),
        True,
        "CI deploys federate from the project's repository",
    ),
    Probe(
        "another repository's workflow assumes a dev role",
        _req(
            "sts:AssumeRoleWithWebIdentity",
            "dev",
            principal=f"arn:aws:iam::{DEV_ID}:oidc-provider/{GITHUB_OIDC}",
            resource=f"arn:aws:iam::{DEV_ID}:role/docustack-github-preview",
            context={f"{GITHUB_OIDC}:sub": "repo:someone-else/fork:pull_request"},
        ),
        False,
        "GitHub is one OIDC provider for every repository in the world: only ours may federate",
        ("rcp-identity-perimeter",),
    ),
    Probe(
        "a web identity from another provider assumes a dev role",
        _req(
            "sts:AssumeRoleWithWebIdentity",
            "dev",
            principal=f"arn:aws:iam::{DEV_ID}:oidc-provider/accounts.google.com",
            resource=f"arn:aws:iam::{DEV_ID}:role/app",
            context={"accounts.google.com:sub": "1234567890"},
        ),
        False,
        "GitHub is the only web identity provider the perimeter trusts",
        ("rcp-identity-perimeter",),
    ),
    # PHI tags and health-data services in a sandbox
    Probe(
        "sandbox creates a table tagged PHI",
        _req(
            "dynamodb:CreateTable",
            "sandbox",
            principal=SANDBOX_DEVELOPER,
            resource=f"arn:aws:dynamodb:us-east-1:{SANDBOX_ID}:table/patients",
            context={"aws:RequestTag/data-classification": "PHI"},
            resource_account="sandbox",
        ),
        False,
        "no PHI in Sandbox: not even labelled as such, in any case",
        ("sandbox-no-phi",),
    ),
    Probe(
        "sandbox tags a bucket Phi",
        _req(
            "s3:PutBucketTagging",
            "sandbox",
            principal=SANDBOX_DEVELOPER,
            resource="arn:aws:s3:::scratch",
            context={"aws:RequestTag/Data-Classification": "Phi"},
            resource_account="sandbox",
        ),
        False,
        "tagging an existing resource is the same as creating it tagged",
        ("sandbox-no-phi",),
    ),
    Probe(
        "sandbox creates a table tagged internal",
        _req(
            "dynamodb:CreateTable",
            "sandbox",
            principal=SANDBOX_DEVELOPER,
            resource=f"arn:aws:dynamodb:us-east-1:{SANDBOX_ID}:table/scratch",
            context={"aws:RequestTag/data-classification": "internal"},
            resource_account="sandbox",
        ),
        True,
        "other classifications are fine in a sandbox",
    ),
    Probe(
        "dev creates a table tagged PHI",
        _req(
            "dynamodb:CreateTable",
            "dev",
            resource=f"arn:aws:dynamodb:us-east-1:{DEV_ID}:table/patients",
            context={"aws:RequestTag/data-classification": "phi"},
        ),
        True,
        "Workloads is where PHI belongs",
    ),
    Probe(
        "sandbox creates a HealthLake data store",
        _req("healthlake:CreateFHIRDatastore", "sandbox", principal=SANDBOX_DEVELOPER),
        False,
        "services built for health data stay out of Sandbox",
        ("sandbox-no-phi",),
    ),
    Probe(
        "sandbox starts a medical transcription",
        _req("transcribe:StartMedicalScribeJob", "sandbox", principal=SANDBOX_DEVELOPER),
        False,
        "AWS HealthScribe is Transcribe's medical side",
        ("sandbox-no-phi",),
    ),
    Probe(
        "sandbox starts an ordinary transcription",
        _req("transcribe:StartTranscriptionJob", "sandbox", principal=SANDBOX_DEVELOPER),
        True,
        "only the medical actions are closed",
    ),
    Probe(
        "dev creates a HealthLake data store",
        _req("healthlake:CreateFHIRDatastore", "dev"),
        True,
        "Workloads may use the health services",
    ),
)
PROBES = PROBES + PERIMETER_PROBES
