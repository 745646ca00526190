"""GitHub Actions OIDC: the account's identity provider, a preview role for pull requests, a deploy role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from policies import minify

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
# Data-plane reads that ReadOnlyAccess grants and neither a preview nor docustack verify needs.
DATA_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
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
    "rds:DownloadDBLogFilePortion",
)


def pull_request_subject(repository: str) -> str:
    return f"repo:{repository}:pull_request"


def read_only_subjects(repository: str, verify_branch: str | None) -> list[str]:
    """Who may assume the read-only role: the repository's pull requests (previews) and, when set, workflows
    on ``verify_branch`` (the scheduled ``docustack verify``)."""
    subjects = [pull_request_subject(repository)]
    if verify_branch is not None:
        subjects.append(f"repo:{repository}:ref:refs/heads/{verify_branch}")
    return subjects


def assume_member_read_only_policy(role_arn_pattern: str) -> dict[str, Any]:
    """The management account's read-only role may step into the member accounts' read-only roles (the
    management stack's previews and verification read the Log Archive and Audit accounts through them)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AssumeMemberReadOnly", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn_pattern}
        ],
    }


def deploy_subjects(repository: str, environment: str | None, branch: str | None) -> list[str]:
    """A job with ``environment:`` gets the environment subject, one without it the branch's ref subject
    (docs.github.com, "OpenID Connect reference", subject claims)."""
    subjects = []
    if environment is not None:
        subjects.append(f"repo:{repository}:environment:{environment}")
    if branch is not None:
        subjects.append(f"repo:{repository}:ref:refs/heads/{branch}")
    return subjects


def trust_policy(provider_arn: str, subjects: list[str], sid: str) -> dict[str, Any]:
    """Web identity trust for exactly these subjects and the STS audience: StringEquals, no wildcards, so no
    fork, other repository, branch or event matches (reference/aws-facts.md, items 41-42)."""
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


def preview_trust_policy(provider_arn: str, repository: str, verify_branch: str | None = None) -> dict[str, Any]:
    """The read-only (preview) role: pull requests of ``repository``, and workflows on ``verify_branch``."""
    return trust_policy(provider_arn, read_only_subjects(repository, verify_branch), "GitHubReadOnly")


def deploy_trust_policy(
    provider_arn: str, repository: str, environment: str | None, branch: str | None
) -> dict[str, Any]:
    """The deploy role: jobs of ``repository`` in the deploy environment and/or on the deploy branch (the
    settings require at least one)."""
    return trust_policy(provider_arn, deploy_subjects(repository, environment, branch), "GitHubDeploys")


def preview_state_policy(bucket_arn: str, key_arn: str) -> dict[str, Any]:
    """What ``pulumi preview`` needs beyond ReadOnlyAccess: list and read the state (a preview takes no lock and
    saves nothing: reference/aws-facts.md, item 27), and kms:Decrypt, which reads the SSE-KMS state objects and
    unwraps the stack's data key for the awskms secrets provider. No Encrypt: a preview encrypts no new key.

    ReadOnlyAccess would also let any pull request read every object in the account, and the data of its
    tables, parameters, queues, streams and logs. A preview reads configuration, not data: the rest is denied
    (this is an account that may hold PHI, and a pull request's code runs with this role)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ListState", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
            {"Sid": "ReadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/*"},
            {"Sid": "DecryptStateAndSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn},
            {
                "Sid": "DenyReadingOtherObjects",
                "Effect": "Deny",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "NotResource": f"{bucket_arn}/*",
            },
            {"Sid": "DenyReadingData", "Effect": "Deny", "Action": list(DATA_READ_ACTIONS), "Resource": "*"},
        ],
    }


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


class GithubCiRoles(pulumi.ComponentResource):
    """The OIDC provider and two roles; trust pinned to the repository's pull requests, and to its deploy
    environment or branch."""

    oidc_provider_arn: pulumi.Output[str]
    preview_role_arn: pulumi.Output[str]
    deploy_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: GithubCiRolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:ci:GithubCiRoles", name, None, opts)
        deploy = deploy_subjects(args.repository, args.deploy_environment, args.deploy_branch)
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
                lambda arn: minify(preview_trust_policy(arn, args.repository, args.verify_branch))
            ),
            max_session_duration=3600,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-preview-read-only", role=preview.name, policy_arn=READ_ONLY_ACCESS, opts=child
        )
        aws.iam.RolePolicy(
            f"{name}-preview-state",
            name="pulumi-preview-state",
            role=preview.name,
            policy=pulumi.Output.all(args.state_bucket_arn, args.state_key_arn).apply(
                lambda arns: minify(preview_state_policy(arns[0], arns[1]))
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
                lambda arn: minify(
                    deploy_trust_policy(arn, args.repository, args.deploy_environment, args.deploy_branch)
                )
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
