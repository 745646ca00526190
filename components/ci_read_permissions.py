"""What the read-only CI roles may call: an allow-list, never ``ReadOnlyAccess``.

A pull request's code runs with the read-only role, in accounts that may hold PHI. ``ReadOnlyAccess`` (and the
"metadata" policies ``ViewOnlyAccess`` and ``SecurityAudit``) read data: DynamoDB items through PartiQL, Lambda
environment variables, API keys, log events, traces, HealthLake. So each read-only role gets exactly:

- the reads of the resource types its stack registers in that account (:data:`READ_ACTIONS`, keyed by the
  Pulumi type token): what the AWS provider calls to read a resource, which a preview does for every resource
  it imports (``import_``) and a ``--refresh`` for every resource;
- the reads ``docustack verify`` makes in that account (:data:`VERIFY_ACTIONS`);
- for the stack's own read-only role, the state: list the state bucket, read the objects under ``.pulumi/``
  and decrypt with the state key. The DIY backend keeps everything under ``.pulumi/`` in the bucket
  (https://www.pulumi.com/docs/iac/operations/stack-management/using-a-diy-backend/); that a preview takes no
  lock and writes nothing is read from Pulumi's source (``pkg/backend/diy``), not from its documentation.

Which types each role covers is declared below (:data:`ACCOUNT_STACK_TYPES` and friends). The tests run every
stack's program under the mocks, group what it registers by the account its provider pins, and fail when a type
lands in an account whose role does not cover it, or when a covered type has no entry in :data:`READ_ACTIONS`.
A test also runs ``docustack verify`` against the moto foundation, records every AWS operation it calls and fails
when the relevant role's policy does not allow one. So a new resource type or a new check cannot slip past.

Action names are those of the Service Authorization Reference,
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
(one page per service: list_awsconfig.html, list_awscloudtrail.html, list_amazoncloudwatchlogs.html,
list_amazondynamodb.html, list_amazonguardduty.html, list_awsidentityandaccessmanagementiam.html,
list_awskeymanagementservice.html, list_awsorganizations.html, list_amazons3.html, list_awssecurityhub.html,
list_awssecuritytokenservice.html). Which calls the AWS provider's Read makes for a type follows the Terraform
AWS provider's resource read functions; where it reads an optional setting the list includes its Get call. That
part is written by hand and no test here can check it (the provider cannot run offline): a call it misses shows
as AccessDenied in a preview that imports or refreshes that type, and belongs in :data:`READ_ACTIONS` then. The
verify calls, by contrast, are recorded and checked by a test.
"""

from __future__ import annotations

from collections.abc import Iterable

# Pulumi type token -> the IAM actions that read a resource of that type (configuration, never data).
READ_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:cfg/configurationAggregator:ConfigurationAggregator": (
        "config:DescribeConfigurationAggregators",
        "config:ListTagsForResource",
    ),
    "aws:cfg/deliveryChannel:DeliveryChannel": ("config:DescribeDeliveryChannels",),
    "aws:cfg/recorder:Recorder": ("config:DescribeConfigurationRecorders",),
    "aws:cfg/recorderStatus:RecorderStatus": ("config:DescribeConfigurationRecorderStatus",),
    "aws:cloudtrail/trail:Trail": (
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrail",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetInsightSelectors",
        "cloudtrail:ListTags",
    ),
    # Log group settings only: logs:GetLogEvents, FilterLogEvents and StartQuery (the records) are not here.
    "aws:cloudwatch/logGroup:LogGroup": ("logs:DescribeLogGroups", "logs:ListTagsForResource"),
    # Table settings only: GetItem, Query, Scan, PartiQLSelect and ExportTableToPointInTime are not here.
    "aws:dynamodb/table:Table": (
        "dynamodb:DescribeTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:ListTagsOfResource",
    ),
    "aws:guardduty/detector:Detector": (
        "guardduty:GetDetector",
        "guardduty:ListDetectors",
        "guardduty:ListTagsForResource",
    ),
    "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount": (
        "guardduty:ListOrganizationAdminAccounts",
        "organizations:DescribeOrganization",
        "organizations:ListDelegatedAdministrators",
    ),
    "aws:guardduty/organizationConfiguration:OrganizationConfiguration": (
        "guardduty:DescribeOrganizationConfiguration",
    ),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ("iam:GetOpenIDConnectProvider",),
    "aws:iam/role:Role": (
        "iam:GetRole",
        "iam:ListRoleTags",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
    ),
    "aws:iam/rolePolicy:RolePolicy": ("iam:GetRolePolicy",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("iam:ListAttachedRolePolicies",),
    "aws:kms/alias:Alias": ("kms:ListAliases",),
    # Key settings only: kms:Decrypt is granted for the state key alone (the state and its secrets).
    "aws:kms/key:Key": (
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListResourceTags",
    ),
    "aws:kms/keyPolicy:KeyPolicy": ("kms:DescribeKey", "kms:GetKeyPolicy"),
    "aws:organizations/account:Account": (
        "organizations:DescribeAccount",
        "organizations:ListParents",
        "organizations:ListTagsForResource",
    ),
    "aws:organizations/delegatedAdministrator:DelegatedAdministrator": ("organizations:ListDelegatedAdministrators",),
    "aws:organizations/organization:Organization": (
        "organizations:DescribeOrganization",
        "organizations:ListAccounts",
        "organizations:ListRoots",
        "organizations:ListAWSServiceAccessForOrganization",
    ),
    "aws:organizations/organizationalUnit:OrganizationalUnit": (
        "organizations:DescribeOrganizationalUnit",
        "organizations:ListParents",
        "organizations:ListAccountsForParent",
        "organizations:ListTagsForResource",
    ),
    "aws:organizations/policy:Policy": ("organizations:DescribePolicy", "organizations:ListTagsForResource"),
    "aws:organizations/policyAttachment:PolicyAttachment": (
        "organizations:ListTargetsForPolicy",
        "organizations:ListPoliciesForTarget",
    ),
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": ("s3:GetAccountPublicAccessBlock",),
    # The organization baseline (issue 12): the StackSet and its instances, read from the management account.
    "aws:cloudformation/stackSet:StackSet": ("cloudformation:DescribeStackSet",),
    "aws:cloudformation/stackSetInstance:StackSetInstance": (
        "cloudformation:DescribeStackSet",
        "cloudformation:DescribeStackInstance",
        "cloudformation:ListStackInstances",
    ),
    # A budget and its notifications and subscribers are read with budgets:ViewBudget
    # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbudgetservice.html).
    "aws:budgets/budget:Budget": ("budgets:ViewBudget", "budgets:ListTagsForResource"),
    "aws:costexplorer/costAllocationTag:CostAllocationTag": ("ce:ListCostAllocationTags",),
    # Bucket settings only; HeadBucket needs s3:ListBucket, which is granted on the stack's own buckets alone
    # (BUCKET_LIST_ACTION), never on "*": object keys are not for a pull request to browse.
    "aws:s3/bucket:Bucket": (
        "s3:GetBucketLocation",
        "s3:GetBucketAcl",
        "s3:GetBucketCORS",
        "s3:GetBucketWebsite",
        "s3:GetBucketVersioning",
        "s3:GetAccelerateConfiguration",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketLogging",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketPolicy",
        "s3:GetBucketTagging",
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration",),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:GetBucketOwnershipControls",),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:GetBucketPolicy",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:GetBucketPublicAccessBlock",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:GetEncryptionConfiguration",
    ),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:GetBucketVersioning",),
    "aws:securityhub/account:Account": ("securityhub:DescribeHub",),
    "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount": (
        "securityhub:ListOrganizationAdminAccounts",
        "organizations:DescribeOrganization",
        "organizations:ListDelegatedAdministrators",
    ),
    "aws:securityhub/organizationConfiguration:OrganizationConfiguration": (
        "securityhub:DescribeOrganizationConfiguration",
    ),
    # IAM Identity Center (list_awsiamidentitycenter.html, list_awsidentitystore.html). The group lookup by
    # display name (aws.identitystore.get_group) reads the group's ID and description, never its members.
    "aws:identitystore/getGroup:getGroup": ("identitystore:GetGroupId", "identitystore:DescribeGroup"),
    "aws:identitystore/group:Group": ("identitystore:DescribeGroup",),
    "aws:ssoadmin/accountAssignment:AccountAssignment": ("sso:ListAccountAssignments",),
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": ("sso:ListManagedPoliciesInPermissionSet",),
    "aws:ssoadmin/permissionSet:PermissionSet": ("sso:DescribePermissionSet", "sso:ListTagsForResource"),
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": ("sso:GetInlinePolicyForPermissionSet",),
}
# HeadBucket and the listing of the state: allowed only on the buckets named in the role's arguments.
BUCKET_LIST_ACTION = "s3:ListBucket"

# The resource types each read-only role covers, by where the stack registers them.
# An account stack (dev, staging, prod) in its own account: state backend and CI roles. (Config recording and
# account-level S3 Block Public Access are the organization baseline's and the S3 policy's now.)
ACCOUNT_STACK_TYPES: tuple[str, ...] = (
    "aws:dynamodb/table:Table",  # the optional Terraform lock table (stateBackend.terraformLockTable)
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:kms/alias:Alias",
    "aws:kms/key:Key",
    "aws:kms/keyPolicy:KeyPolicy",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
)
# The management stack in the management account: the account baseline, the organization and its policies,
# the organization trail and its log group, the delegations of GuardDuty, Security Hub and Config.
MANAGEMENT_STACK_TYPES: tuple[str, ...] = (
    *ACCOUNT_STACK_TYPES,
    # the management account's own Config recorder (StackSets never deploy to the management account)
    "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws:cfg/recorder:Recorder",
    "aws:cfg/recorderStatus:RecorderStatus",
    "aws:cloudtrail/trail:Trail",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:guardduty/detector:Detector",
    "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount",
    "aws:organizations/account:Account",
    "aws:organizations/delegatedAdministrator:DelegatedAdministrator",
    "aws:organizations/organization:Organization",
    "aws:organizations/organizationalUnit:OrganizationalUnit",
    "aws:organizations/policy:Policy",
    "aws:organizations/policyAttachment:PolicyAttachment",
    "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount",
    # Human access (issue 13); the lookup is an invoke, not a resource, and runs in every preview.
    "aws:identitystore/getGroup:getGroup",
    "aws:identitystore/group:Group",
    "aws:ssoadmin/accountAssignment:AccountAssignment",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
    "aws:ssoadmin/permissionSet:PermissionSet",
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
    "aws:cloudformation/stackSet:StackSet",
    "aws:cloudformation/stackSetInstance:StackSetInstance",
    "aws:budgets/budget:Budget",
    "aws:costexplorer/costAllocationTag:CostAllocationTag",
)
# The management stack in the Log Archive and Audit accounts, through <prefix>-readonly (one role shape for
# both: the Log Archive's buckets and key, the Audit account's aggregator and organization settings, Config).
MEMBER_TYPES: tuple[str, ...] = (
    "aws:cfg/configurationAggregator:ConfigurationAggregator",
    "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws:cfg/recorder:Recorder",
    "aws:cfg/recorderStatus:RecorderStatus",
    "aws:guardduty/detector:Detector",
    "aws:guardduty/organizationConfiguration:OrganizationConfiguration",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:kms/alias:Alias",
    "aws:kms/key:Key",
    "aws:kms/keyPolicy:KeyPolicy",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:securityhub/account:Account",
    "aws:securityhub/organizationConfiguration:OrganizationConfiguration",
)

# What `docustack verify` calls beyond the resource reads above, per role. tests/test_ci_read_permissions.py
# records every call verify makes against the moto foundation and keeps this exact: nothing missing, nothing unused.
VERIFY_ACTIONS: dict[str, tuple[str, ...]] = {
    # ACCOUNT-PUBLIC-ACCESS-BLOCK reads what the organization's S3 policy turns on (no stack manages it any more)
    "account": ("s3:GetAccountPublicAccessBlock",),
    "management": (
        "organizations:ListOrganizationalUnitsForParent",  # an OU moved or renamed is found elsewhere
        "organizations:ListPolicies",  # the SCPs are found by name
        "sso:ListInstances",  # the Identity Center instance the settings name
        "sso:ListPermissionSets",  # permission sets are found by name, undeclared ones included
        "s3:GetAccountPublicAccessBlock",
        "sso:ListCustomerManagedPolicyReferencesInPermissionSet",  # one attached by hand is drift
    ),
    "member": (),
    # <prefix>-readonly in every other member account (components/member_read_only_stack_set.py): no stack
    # registers anything there, so this is all the role may do. BASELINE-RECORDERS reads the recorder;
    # ORG-MEMBER-ACCESS-ROLE reads the access role's trust; BASELINE-READONLY-ROLE reads this role itself (a
    # member account's admin who widened it would widen what the CI role can reach).
    "baseline-member": (
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
    ),
}

ROLE_TYPES: dict[str, tuple[str, ...]] = {
    "account": ACCOUNT_STACK_TYPES,
    "management": MANAGEMENT_STACK_TYPES,
    "member": MEMBER_TYPES,
    "baseline-member": (),
}


class MissingReadActions(KeyError):
    """A resource type without an entry in READ_ACTIONS: its read calls must be added before a role covers it."""


def read_actions_for(types: Iterable[str]) -> list[str]:
    """The sorted read actions of ``types``; refuses a type it does not know rather than grant nothing for it."""
    types = list(types)
    unknown = sorted({t for t in types if t not in READ_ACTIONS})
    if unknown:
        raise MissingReadActions(
            f"no read actions declared for {', '.join(unknown)} (components/ci_read_permissions.py)"
        )
    return sorted({action for t in types for action in READ_ACTIONS[t]})


def role_read_actions(role: str) -> list[str]:
    """Everything a read-only role of kind ``role`` (account, management, member, baseline-member) may call, ``s3:ListBucket``
    aside (it is granted on named buckets only)."""
    return sorted({*read_actions_for(ROLE_TYPES[role]), *VERIFY_ACTIONS[role]})
