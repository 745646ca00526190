"""What every account stack lays down in its own account: S3 Block Public Access, the state backend, CI roles."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.github_ci_roles import GithubCiRoles, GithubCiRolesArgs
from components.state_backend import StateBackend, StateBackendArgs
from docustack.state_backend_spec import PUBLIC_ACCESS_BLOCK


@dataclass(frozen=True)
class AccountBaselineArgs:
    state_backend: StateBackendArgs
    # The state bucket and key ARNs are filled in from the baseline's own backend.
    ci: GithubCiRolesArgs


class AccountBaseline(pulumi.ComponentResource):
    """The account's baseline.

    Account-level S3 Block Public Access, all four flags: the Deny Public S3 SCP cannot inspect a bucket's own
    settings, so the account-wide block is what keeps buckets private
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html). Then the state backend and
    the GitHub CI roles, whose preview role may read that backend's state and decrypt with its key.
    """

    state_backend: StateBackend
    ci_roles: GithubCiRoles

    def __init__(self, name: str, args: AccountBaselineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:baseline:AccountBaseline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        aws.s3.AccountPublicAccessBlock(
            f"{name}-account-public-access-block",
            block_public_acls=PUBLIC_ACCESS_BLOCK["BlockPublicAcls"],
            ignore_public_acls=PUBLIC_ACCESS_BLOCK["IgnorePublicAcls"],
            block_public_policy=PUBLIC_ACCESS_BLOCK["BlockPublicPolicy"],
            restrict_public_buckets=PUBLIC_ACCESS_BLOCK["RestrictPublicBuckets"],
            opts=child,
        )
        self.state_backend = StateBackend(f"{name}-state", args.state_backend, opts=child)
        self.ci_roles = GithubCiRoles(
            f"{name}-ci",
            dataclasses.replace(
                args.ci, state_bucket_arn=self.state_backend.bucket_arn, state_key_arn=self.state_backend.key_arn
            ),
            opts=child,
        )
        self.register_outputs(
            {
                "state_bucket": self.state_backend.bucket_name,
                "login_url": self.state_backend.login_url,
                "secrets_provider": self.state_backend.secrets_provider,
                "preview_role_arn": self.ci_roles.preview_role_arn,
                "deploy_role_arn": self.ci_roles.deploy_role_arn,
            }
        )
