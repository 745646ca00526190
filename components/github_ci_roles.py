"""GitHub Actions OIDC: the account's identity provider, a preview role for pull requests, a deploy role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.ci_read_permissions import role_read_actions
from policies import minify

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
# Data-plane reads that neither a preview nor docustack verify needs, denied outright: the allow-list grants none
# of them, and the deny keeps them closed should a broader policy ever be attached to the role by hand.
DATA_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PartiQLSelect",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "secretsmanager:GetSecretValue",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "logs:GetQueryResults",
    "sqs:ReceiveMessage",
    "kinesis:GetRecords",
    "athena:GetQueryResults",
    "glacier:GetJobOutput",
    "ec2:GetConsoleOutput",
    "ec2:GetConsoleScreenshot",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "apigateway:GET",
    "rds:DownloadDBLogFilePortion",
    "healthlake:*",
    "xray:BatchGetTraces",
    "xray:GetTraceSummaries",
)
# Everything the DIY backend keeps in the state bucket is under this prefix (state, history, locks, meta.yaml).
STATE_PREFIX = ".pulumi/"


def pull_request_subject(subject_prefix: str) -> str:
    return f"{subject_prefix}:pull_request"


def read_only_subjects(subject_prefix: str, verify_branch: str | None) -> list[str]:
    """Who may assume the read-only role: the repository's pull requests (previews) and, when set, workflows
    on ``verify_branch`` (the scheduled ``docustack verify``). ``subject_prefix`` is what every ``sub`` of the
    repository begins with (``repo:owner/name``, or with immutable subject claims the prefix GitHub reports)."""
    subjects = [pull_request_subject(subject_prefix)]
    if verify_branch is not None:
        subjects.append(f"{subject_prefix}:ref:refs/heads/{verify_branch}")
    return subjects


# The role's account must be in the caller's organization: without it, ``arn:aws:iam::*:role/<name>`` would reach a
# role of that name in any AWS account. aws:ResourceOrgID is the organization of the account that owns the resource
# (here the role being assumed), aws:PrincipalOrgID the caller's; policy variables may name request context keys
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html). That STS puts
# aws:ResourceOrgID in the context of sts:AssumeRole is read from the key's description, not from a list of the
# actions that carry it (UNVERIFIED): if it did not, StringEquals on a missing key fails and the step is refused,
# so the policy fails closed (verify reports the account as not checked), never open.
SAME_ORGANIZATION = {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}


def assume_member_read_only_policy(role_arn_pattern: str) -> dict[str, Any]:
    """The management account's read-only role may step into the member accounts' read-only roles, of this
    organization only: the management stack's previews read the Log Archive and Audit accounts through them, and
    ``docustack verify`` every member account (the role is in every member account: the management stack makes
    it in the Log Archive and Audit accounts, the member read-only StackSet in every other one)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AssumeMemberReadOnly",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": role_arn_pattern,
                "Condition": SAME_ORGANIZATION,
            }
        ],
    }


def deploy_subjects(subject_prefix: str, environment: str | None, branch: str | None) -> list[str]:
    """A job with ``environment:`` gets the environment subject, one without it the branch's ref subject
    (https://docs.github.com/en/actions/reference/security/oidc, "Example subject claims")."""
    subjects: list[str] = []
    if environment is not None:
        subjects.append(f"{subject_prefix}:environment:{environment}")
    if branch is not None:
        subjects.append(f"{subject_prefix}:ref:refs/heads/{branch}")
    return subjects


def trust_policy(provider_arn: str, subjects: list[str], sid: str) -> dict[str, Any]:
    """Web identity trust for exactly these subjects and the STS audience: StringEquals, no wildcards, so no
    fork, other repository, branch or event matches. The ``aud`` and ``sub`` condition keys of GitHub's provider:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html ("Configuring a role for
    GitHub OIDC identity provider"); the subject formats: https://docs.github.com/en/actions/reference/security/oidc."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subjects[0] if len(subjects) == 1 else subjects,
                    }
                },
            }
        ],
    }


def github_oidc_provider_arn(account_id: str) -> str:
    """IAM names an OIDC provider by its host: one per URL and account."""
    return f"arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}"


def preview_trust_policy(provider_arn: str, subject_prefix: str, verify_branch: str | None = None) -> dict[str, Any]:
    """The read-only (preview) role: pull requests of the repository, and workflows on ``verify_branch``."""
    return trust_policy(provider_arn, read_only_subjects(subject_prefix, verify_branch), "GitHubReadOnly")


def deploy_trust_policy(
    provider_arn: str, subject_prefix: str, environment: str | None, branch: str | None
) -> dict[str, Any]:
    """The deploy role: jobs of the repository in the deploy environment and/or on the deploy branch (the
    settings require at least one)."""
    return trust_policy(provider_arn, deploy_subjects(subject_prefix, environment, branch), "GitHubDeploys")


def read_only_policy(
    read_actions: list[str],
    bucket_arns: list[str],
    state_bucket_arn: str | None = None,
    state_key_arn: str | None = None,
) -> dict[str, Any]:
    """A read-only role's whole policy: an allow-list, not ``ReadOnlyAccess`` (components/ci_read_permissions.py).

    ``read_actions`` read configuration (Describe/Get/List of the stack's resource types and of verify's checks);
    ``s3:ListBucket`` (HeadBucket, and listing the state) only on ``bucket_arns``. With a state bucket and key:
    read the objects under ``.pulumi/`` and ``kms:Decrypt``, which reads the SSE-KMS state objects and unwraps
    the stack's data key for the awskms secrets provider. No write and no Encrypt: a preview takes no lock and
    saves nothing (read from Pulumi's source, ``pkg/backend/diy``; its documentation does not say). The denies
    keep objects and data closed even if a broader policy is ever attached by hand: an explicit deny wins over
    any allow (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)."""
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadConfiguration", "Effect": "Allow", "Action": sorted(read_actions), "Resource": "*"}
    ]
    if bucket_arns:
        statements.append(
            {"Sid": "ListOwnBuckets", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": sorted(bucket_arns)}
        )
    state_objects = None
    if state_bucket_arn is not None:
        state_objects = f"{state_bucket_arn}/{STATE_PREFIX}*"
        statements.append({"Sid": "ReadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": state_objects})
    if state_key_arn is not None:
        statements.append(
            {"Sid": "DecryptStateAndSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": state_key_arn}
        )
    other_objects: dict[str, Any] = {"NotResource": state_objects} if state_objects else {"Resource": "*"}
    statements += [
        {"Sid": "DenyReadingOtherObjects", "Effect": "Deny", "Action": ["s3:GetObject", "s3:GetObjectVersion"]}
        | other_objects,
        {"Sid": "DenyReadingData", "Effect": "Deny", "Action": list(DATA_READ_ACTIONS), "Resource": "*"},
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def preview_read_only_policy(stack_kind: str, bucket_arn: str, key_arn: str) -> dict[str, Any]:
    """The stack's own read-only (preview and verify) role: its account's reads, its state bucket and key."""
    return read_only_policy(role_read_actions(stack_kind), [bucket_arn], bucket_arn, key_arn)


@dataclass(frozen=True)
class GithubCiRolesArgs:
    repository: str  # "owner/name"
    preview_role_name: str
    deploy_role_name: str
    # What the preview role may read and decrypt with (the account's state backend); both are required.
    state_bucket_arn: pulumi.Input[str] | None = None
    state_key_arn: pulumi.Input[str] | None = None
    deploy_environment: str | None = None
    deploy_branch: str | None = None
    verify_branch: str | None = None
    # Management account only: ARN pattern of the member accounts' read-only roles the preview role may assume.
    member_read_only_role_arns: str | None = None
    # The ARN of the account's existing GitHub provider to adopt (IAM allows one per URL); None creates it.
    adopt_oidc_provider_arn: str | None = None
    # A deploy creates and changes anything the stack declares, IAM roles included: documented as admin,
    # bounded by who may assume it (docs/state-backends.md, "CI roles").
    deploy_policy_arns: tuple[str, ...] = (ADMINISTRATOR_ACCESS,)
    # What every OIDC sub of the repository begins with: "repo:owner/name", or with immutable subject claims the
    # prefix GitHub reports (CiSettings.oidc_subject_prefix); None means the name form of ``repository``.
    subject_prefix: str | None = None
    # Which read-only allow-list the preview role gets (components/ci_read_permissions.py).
    stack_kind: Literal["account", "management"] = "account"


class GithubCiRoles(pulumi.ComponentResource):
    """The OIDC provider and two roles; trust pinned to the repository's pull requests, and to its deploy
    environment or branch."""

    oidc_provider_arn: pulumi.Output[str]
    preview_role_arn: pulumi.Output[str]
    deploy_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: GithubCiRolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:ci:GithubCiRoles", name, None, opts)
        prefix = args.subject_prefix or f"repo:{args.repository}"
        deploy = deploy_subjects(prefix, args.deploy_environment, args.deploy_branch)
        if not deploy:
            raise ValueError("the deploy role needs a deploy environment or branch")
        if args.state_bucket_arn is None or args.state_key_arn is None:
            raise ValueError("the preview role needs the state bucket's and key's ARNs")
        child = pulumi.ResourceOptions(parent=self)
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-github-oidc",
            url=GITHUB_OIDC_URL,
            client_id_lists=[STS_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self, import_=args.adopt_oidc_provider_arn),
        )
        preview = aws.iam.Role(
            f"{name}-preview",
            name=args.preview_role_name,
            description=f"pulumi preview and docustack verify (read-only) for {args.repository}",
            assume_role_policy=provider.arn.apply(
                lambda arn: minify(preview_trust_policy(arn, prefix, args.verify_branch))
            ),
            max_session_duration=3600,
            opts=child,
        )
        # No managed policy: ReadOnlyAccess, ViewOnlyAccess and SecurityAudit all read data. The allow-list
        # replaces the earlier ReadOnlyAccess attachment (the next `up` detaches it) and its deny list.
        aws.iam.RolePolicy(
            f"{name}-preview-state",
            name="read-only",
            role=preview.name,
            policy=pulumi.Output.all(args.state_bucket_arn, args.state_key_arn).apply(
                lambda arns: minify(preview_read_only_policy(args.stack_kind, arns[0], arns[1]))
            ),
            opts=child,
        )
        if args.member_read_only_role_arns is not None:
            aws.iam.RolePolicy(
                f"{name}-preview-member-read-only",
                name="assume-member-read-only",
                role=preview.name,
                policy=minify(assume_member_read_only_policy(args.member_read_only_role_arns)),
                opts=child,
            )
        deployer = aws.iam.Role(
            f"{name}-deploy",
            name=args.deploy_role_name,
            description=f"pulumi up from {args.repository} ({', '.join(deploy)})",
            assume_role_policy=provider.arn.apply(
                lambda arn: minify(deploy_trust_policy(arn, prefix, args.deploy_environment, args.deploy_branch))
            ),
            max_session_duration=3600,
            opts=child,
        )
        for policy_arn in args.deploy_policy_arns:
            policy_name = policy_arn.rsplit("/", 1)[-1].lower()
            aws.iam.RolePolicyAttachment(
                f"{name}-deploy-{policy_name}", role=deployer.name, policy_arn=policy_arn, opts=child
            )
        self.oidc_provider_arn = provider.arn
        self.preview_role_arn = preview.arn
        self.deploy_role_arn = deployer.arn
        self.register_outputs(
            {
                "oidc_provider_arn": self.oidc_provider_arn,
                "preview_role_arn": self.preview_role_arn,
                "deploy_role_arn": self.deploy_role_arn,
            }
        )
