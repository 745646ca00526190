"""What each stack is made of: the composition ``__main__.py`` runs, from typed settings to components.

The management stack (the one whose settings have ``organization``) owns the organization, its OUs, the
member accounts and the service control policies. Every stack, the management one too, lays down its own
account's baseline: S3 Block Public Access, its state backend and its CI roles. Every stack gets an AWS provider pinned to its own account
and region; default providers are disabled in the stack files, so no resource can land elsewhere by accident.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

import policies
from components import (
    AccountBaseline,
    AccountBaselineArgs,
    GithubCiRolesArgs,
    MemberAccount,
    MemberAccountArgs,
    Organization,
    OrganizationalUnits,
    OrganizationalUnitsArgs,
    OrganizationalUnitSpec,
    OrganizationArgs,
    ServiceControlPolicy,
    ServiceControlPolicyArgs,
    StateBackendArgs,
)
from components.github_ci_roles import GITHUB_OIDC_HOST
from docustack.settings import CONFIG_KEY, ROOT_TARGET, SettingsError, StackSettings, iter_ous, parse_settings
from docustack.state_backend_spec import StateBackendSpec, provider_default_tags


def load_settings() -> StackSettings:
    """The stack's ``docustack:settings``, checked; bad config stops the program with every problem listed."""
    stack = pulumi.get_stack()
    raw = pulumi.Config("docustack").get_object("settings")
    try:
        return parse_settings(raw, source=f"Pulumi.{stack}.yaml")
    except SettingsError as error:
        # RunError is reported by the Pulumi CLI as a message, without a traceback.
        raise pulumi.RunError(str(error)) from None


def refuse_placeholders_on_update(settings: StackSettings) -> None:
    """Placeholders are fine for a preview (with a warning); an update must not deploy them."""
    placeholders = settings.placeholders()
    if not placeholders:
        return
    listing = ", ".join(path.removeprefix(f"{CONFIG_KEY}.") for path in placeholders)
    if pulumi.runtime.is_dry_run():
        pulumi.log.warn(
            f"{CONFIG_KEY} still has placeholders to fill in before `pulumi up`: {listing}. "
            "See README, 'Filling in the placeholders'."
        )
        return
    raise pulumi.RunError(
        f"refusing to deploy: {CONFIG_KEY} still has placeholders ({listing}). "
        "Fill them in with the real values (README, 'Filling in the placeholders') and run again."
    )


def account_provider(settings: StackSettings) -> aws.Provider:
    """The provider for the stack's own account, pinned to its ID and region."""
    return aws.Provider(
        f"{settings.account.name}-account",
        region=settings.account.region,
        allowed_account_ids=[settings.account.id],
        default_tags=aws.ProviderDefaultTagsArgs(tags=provider_default_tags(settings.prefix, pulumi.get_stack())),
    )


def compose(settings: StackSettings) -> dict[str, Any]:
    """Build the stack; returns the outputs to export."""
    provider = account_provider(settings)
    outputs: dict[str, Any] = {"accountId": settings.account.id, "region": settings.account.region}
    outputs.update(compose_account_baseline(settings, provider))
    if settings.organization is not None:
        outputs.update(compose_organization(settings, provider))
    return outputs


def compose_account_baseline(settings: StackSettings, provider: aws.Provider) -> dict[str, Any]:
    """The stack's own account: Block Public Access, the state backend bootstrap made, the CI roles."""
    account = settings.account
    backend = settings.state_backend
    ci = settings.ci
    baseline = AccountBaseline(
        account.name,
        AccountBaselineArgs(
            state_backend=StateBackendArgs(
                spec=StateBackendSpec.from_settings(settings, pulumi.get_stack()),
                adopt_key_id=backend.key_id if backend.adopt else None,
                terraform_lock_table=backend.terraform_lock_table,
            ),
            ci=GithubCiRolesArgs(
                repository=ci.repository,
                preview_role_name=settings.preview_role_name,
                deploy_role_name=settings.deploy_role_name,
                deploy_environment=ci.deploy_environment,
                deploy_branch=ci.deploy_branch,
                adopt_oidc_provider_arn=(
                    f"arn:aws:iam::{account.id}:oidc-provider/{GITHUB_OIDC_HOST}" if ci.adopt_oidc_provider else None
                ),
            ),
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    return {
        "stateBucket": baseline.state_backend.bucket_name,
        "stateLoginUrl": baseline.state_backend.login_url,
        "secretsProvider": baseline.state_backend.secrets_provider,
        "ciPreviewRoleArn": baseline.ci_roles.preview_role_arn,
        "ciDeployRoleArn": baseline.ci_roles.deploy_role_arn,
    }


def compose_organization(settings: StackSettings, provider: aws.Provider) -> dict[str, Any]:
    """The organization, its OUs and accounts, and the SCPs attached where the settings say."""
    organization_settings = settings.organization
    assert organization_settings is not None
    opts = pulumi.ResourceOptions(provider=provider)
    organization = Organization(
        settings.prefix,
        OrganizationArgs(
            feature_set=organization_settings.feature_set,
            enabled_policy_types=tuple(organization_settings.enabled_policy_types),
            service_access_principals=tuple(organization_settings.service_access_principals),
            import_id=organization_settings.import_id,
        ),
        opts=opts,
    )
    units = OrganizationalUnits(
        "ou",
        OrganizationalUnitsArgs(
            root_id=organization.root_id,
            units=tuple(
                OrganizationalUnitSpec(node.path, node.name, node.parent_path)
                for node in iter_ous(organization_settings)
            ),
        ),
        opts=opts,
    )
    accounts = {
        account.name: MemberAccount(
            account.name,
            MemberAccountArgs(
                account_name=account.aws_name,
                email=account.email,
                parent_id=units.ids[account.ou],
                existing_account_id=account.id,
                role_name=account.role_name,
            ),
            opts=opts,
        )
        for account in organization_settings.accounts
    }
    target_ids: dict[str, pulumi.Input[str]] = {ROOT_TARGET: organization.root_id}
    target_ids.update({f"ou:{path}": ou_id for path, ou_id in units.ids.items()})
    target_ids.update({f"account:{name}": account.account_id for name, account in accounts.items()})

    variables = settings.policy_variables()
    scp_ids = {}
    for scp in organization_settings.service_control_policies:
        component = ServiceControlPolicy(
            scp.name,
            ServiceControlPolicyArgs(
                description=scp.description,
                content=policies.render_file(scp.file, variables),
                targets={target: target_ids[target] for target in scp.targets},
                attach_after=(organization,),
            ),
            opts=opts,
        )
        scp_ids[scp.name] = component.policy_id
    return {
        "organizationId": organization.id,
        "rootId": organization.root_id,
        "organizationalUnitIds": units.ids,
        "accountIds": {name: account.account_id for name, account in accounts.items()},
        "serviceControlPolicyIds": scp_ids,
    }
