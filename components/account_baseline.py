"""What every account stack lays down in its own account: the state backend and the CI roles."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi

from components.github_ci_roles import GithubCiRoles, GithubCiRolesArgs
from components.state_backend import StateBackend, StateBackendArgs


@dataclass(frozen=True)
class AccountBaselineArgs:
    state_backend: StateBackendArgs
    # The state bucket and key ARNs are filled in from the baseline's own backend.
    ci: GithubCiRolesArgs


class AccountBaseline(pulumi.ComponentResource):
    """The account's baseline: the state backend and the GitHub CI roles, whose preview role may read that
    backend's state and decrypt with its key.

    Account-level S3 Block Public Access is no longer made here: the management stack's S3 policy
    (``s3-block-public-access``, type ``S3_POLICY``, attached at the root) turns on all four flags in every account,
    new ones included, and once it applies S3 refuses an account-level ``PutPublicAccessBlock`` (403)
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PutPublicAccessBlock.html;
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_s3.html). A stack deployed
    before that change still has the resource in its state: README, "The organization baseline", says how to let
    it go without a call to AWS.
    """

    state_backend: StateBackend
    ci_roles: GithubCiRoles

    def __init__(self, name: str, args: AccountBaselineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:baseline:AccountBaseline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
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
