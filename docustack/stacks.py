"""What each stack is made of: the composition ``__main__.py`` runs, from typed settings to components.

The management stack (the one whose settings have ``organization``) owns the organization, its OUs, the
member accounts and the service control policies, and with ``organization.auditServices`` the audit services:
the Log Archive, the organization trail, AWS Config in every account it reaches, the Config aggregator,
GuardDuty and Security Hub. Every stack, the management one too, lays down its own account's baseline: S3 Block
Public Access, its state backend and its CI roles. Every stack gets an AWS provider pinned to its own account and
region; default providers are disabled in the stack files, so no resource can land elsewhere by accident.
Resources in the Log Archive and Audit accounts go through providers that assume the account's access role in an
update and its read-only role (``<prefix>-readonly``) in a preview, pinned the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

import policies
from components import (
    AccountBaseline,
    AccountBaselineArgs,
    ConfigAggregator,
    ConfigAggregatorArgs,
    ConfigRecorder,
    ConfigRecorderArgs,
    DelegatedAdministrators,
    DelegatedAdministratorsArgs,
    GithubCiRolesArgs,
    GuardDutyOrganization,
    LogArchive,
    LogArchiveArgs,
    MemberAccount,
    MemberAccountArgs,
    MemberReadOnlyRole,
    MemberReadOnlyRoleArgs,
    Organization,
    OrganizationAdminArgs,
    OrganizationalUnits,
    OrganizationalUnitsArgs,
    OrganizationalUnitSpec,
    OrganizationArgs,
    OrganizationPolicy,
    OrganizationPolicyArgs,
    OrganizationTrail,
    OrganizationTrailArgs,
    SecurityHubOrganization,
    StateBackendArgs,
)
from components.config_aggregator import DELEGATED_SERVICES
from components.github_ci_roles import github_oidc_provider_arn
from components.log_archive import delivery_account_ids
from docustack.settings import (
    CONFIG_KEY,
    ROOT_TARGET,
    SettingsError,
    StackSettings,
    iter_ous,
    parse_settings,
    settings_warnings,
)
from docustack.state_backend_spec import StateBackendSpec, provider_default_tags
from policies import perimeter

# The Log Archive component's name, which also names its key's alias (components.log_archive.key_alias).
LOG_ARCHIVE = "log-archive"


def load_settings(policy_dir: Path | None = None) -> StackSettings:
    """The stack's ``docustack:settings``, checked; bad config stops the program with every problem listed.

    ``policy_dir``: the project's ``policies/`` (``__main__.py`` passes its own folder's), so the program reads
    the policy files of the project it belongs to; by default the installed package's.
    """
    stack = pulumi.get_stack()
    raw = pulumi.Config("docustack").get_object("settings")
    try:
        settings = parse_settings(raw, source=f"Pulumi.{stack}.yaml", policy_dir=policy_dir)
    except SettingsError as error:
        # RunError is reported by the Pulumi CLI as a message, without a traceback.
        raise pulumi.RunError(str(error)) from None
    for warning in settings_warnings(settings, policy_dir=policy_dir):
        pulumi.log.warn(warning)
    return settings


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
    return pinned_provider(f"{settings.account.name}-account", settings, settings.account.id, settings.account.region)


def pinned_provider(
    name: str,
    settings: StackSettings,
    account_id: pulumi.Input[str],
    region: str,
    role_name: str | None = None,
) -> aws.Provider:
    """A provider that can only act in ``account_id`` and ``region``; with ``role_name``, through that role."""
    assume_roles = None
    if role_name is not None:
        role_arn = pulumi.Output.concat("arn:aws:iam::", account_id, ":role/", role_name)
        assume_roles = [aws.ProviderAssumeRoleArgs(role_arn=role_arn)]
    return aws.Provider(
        name,
        region=region,
        allowed_account_ids=[account_id],
        assume_roles=assume_roles,
        default_tags=aws.ProviderDefaultTagsArgs(tags=provider_default_tags(settings.prefix, pulumi.get_stack())),
    )


def compose(settings: StackSettings, policy_dir: Path | None = None) -> dict[str, Any]:
    """Build the stack; returns the outputs to export."""
    provider = account_provider(settings)
    outputs: dict[str, Any] = {"accountId": settings.account.id, "region": settings.account.region}
    outputs.update(compose_account_baseline(settings, provider))
    if settings.organization is not None:
        outputs.update(compose_organization(settings, provider, policy_dir))
    else:
        compose_config_recording(settings, provider)
    return outputs


def compose_config_recording(settings: StackSettings, provider: aws.Provider) -> list[ConfigRecorder]:
    """An account stack's AWS Config recorders, one per allowed region, delivering to the Log Archive.

    The home region's recorder makes the IAM role and records the global resource types; the others reuse
    the role, so IAM is recorded once (components/config_recorder.py).
    """
    recording = settings.config_recording
    assert recording is not None
    account, home = settings.account, settings.account.region
    bucket = settings.log_archive_bucket_name(recording.log_archive_account_id, "config")
    recorders: list[ConfigRecorder] = []
    for region in [home, *(r for r in settings.allowed_regions if r != home)]:
        regional = (
            provider if region == home else pinned_provider(f"{account.name}-{region}", settings, account.id, region)
        )
        recorders.append(
            ConfigRecorder(
                f"config-{account.name}-{region}",
                ConfigRecorderArgs(
                    bucket_name=bucket,
                    kms_key_arn=recording.log_archive_key_arn,
                    role_arn=recorders[0].role_arn if recorders else None,
                    include_global_resource_types=region == home,
                ),
                opts=pulumi.ResourceOptions(provider=regional),
            )
        )
    return recorders


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
                subject_prefix=ci.oidc_subject_prefix(),
                stack_kind="management" if settings.is_management else "account",
                preview_role_name=settings.preview_role_name,
                deploy_role_name=settings.deploy_role_name,
                deploy_environment=ci.deploy_environment,
                deploy_branch=ci.deploy_branch,
                verify_branch=ci.verify_branch,
                member_read_only_role_arns=(
                    f"arn:aws:iam::*:role/{settings.member_read_only_role_name}" if settings.is_management else None
                ),
                adopt_oidc_provider_arn=(github_oidc_provider_arn(account.id) if ci.adopt_oidc_provider else None),
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


def compose_organization(
    settings: StackSettings, provider: aws.Provider, policy_dir: Path | None = None
) -> dict[str, Any]:
    """The organization, its OUs and accounts, and the organization policies attached where the settings say."""
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
    policy_ids: dict[str, dict[str, pulumi.Output[str]]] = {}
    for policy in organization_settings.policies:
        component = OrganizationPolicy(
            policy.name,
            OrganizationPolicyArgs(
                policy_type=policy.type,
                description=policy.description,
                content=_policy_content(policy.file, policy.type, variables, organization, units, policy_dir),
                targets={target: target_ids[target] for target in policy.targets},
                attach_after=(organization,),
            ),
            opts=opts,
        )
        policy_ids.setdefault(policy.type, {})[policy.name] = component.policy_id
    return {
        "organizationId": organization.id,
        "rootId": organization.root_id,
        "organizationalUnitIds": units.ids,
        "accountIds": {name: account.account_id for name, account in accounts.items()},
        "policyIds": policy_ids,  # policy type -> name -> ID
        **compose_audit_services(settings, provider, organization, accounts),
    }


def _policy_content(
    file: str,
    policy_type: str,
    variables: policies.Variables,
    organization: Organization,
    units: OrganizationalUnits,
    policy_dir: Path | None,
) -> pulumi.Input[str]:
    """The rendered document. A template that names the organization's IDs (the perimeter's) is filled from the
    organization's and OUs' outputs once they exist; the settings checked it with stand-ins of the greatest length
    (policies/perimeter.py), so the real IDs cannot make it longer."""
    text = policies.render_file(file, variables, policy_type=policy_type, policy_dir=policy_dir)
    if not perimeter.uses_organization_ids(policies.load(file, policy_type, policy_dir=policy_dir)):
        return text
    paths = list(units.ids)

    def fill(ids: list[str]) -> str:
        real = perimeter.organization_variables(ids[0], ids[1], dict(zip(paths, ids[2:], strict=True)))
        return policies.render_file(file, {**variables, **real}, policy_type=policy_type, policy_dir=policy_dir)

    return pulumi.Output.all(organization.id, organization.root_id, *(units.ids[path] for path in paths)).apply(fill)


def compose_audit_services(
    settings: StackSettings,
    provider: aws.Provider,
    organization: Organization,
    accounts: dict[str, MemberAccount],
) -> dict[str, Any]:
    """Log Archive, organization trail, Config everywhere and the aggregator, GuardDuty and Security Hub.

    The order AWS needs is carried by explicit dependencies: the trail and every Config delivery channel wait
    for the bucket and key policies; the aggregator waits for the delegated-administrator registrations; the
    GuardDuty and Security Hub organization settings wait for the admin designation (docs/audit-services.md).
    """
    organization_settings = settings.organization
    assert organization_settings is not None
    audit = organization_settings.audit_services
    if audit is None:
        return {}
    home = settings.account.region
    log_archive_account = accounts[organization_settings.log_archive_account]
    audit_account = accounts[audit.audit_account]
    member_settings = {account.name: account for account in organization_settings.accounts}

    def member_providers(name: str, account: MemberAccount) -> dict[str, aws.Provider]:
        # A preview only reads, so it goes through the member's read-only role: pull requests run previews with
        # the read-only CI role, which may assume nothing else in member accounts (README, "Previews").
        role = settings.member_read_only_role_name if pulumi.runtime.is_dry_run() else member_settings[name].role_name
        providers = {
            region: pinned_provider(f"{name}-{region}", settings, account.account_id, region, role)
            for region in settings.allowed_regions
        }
        MemberReadOnlyRole(
            f"{name}-readonly",
            MemberReadOnlyRoleArgs(
                settings.member_read_only_role_name,
                settings.account.id,
                bucket_arns=settings.member_read_only_bucket_arns(),
            ),
            opts=pulumi.ResourceOptions(provider=providers[home]),
        )
        return providers

    management = {
        region: provider
        if region == home
        else pinned_provider(f"{settings.account.name}-{region}", settings, settings.account.id, region)
        for region in settings.allowed_regions
    }
    log_archive = member_providers(organization_settings.log_archive_account, log_archive_account)
    audit_providers = member_providers(audit.audit_account, audit_account)
    enabled_access = (organization.resource,)  # the trusted service access every service below relies on

    archive_settings = audit.log_archive
    archive = LogArchive(
        LOG_ARCHIVE,
        LogArchiveArgs(
            bucket_name=log_archive_account.account_id.apply(settings.log_archive_bucket_name),
            config_bucket_name=log_archive_account.account_id.apply(
                lambda account_id: settings.log_archive_bucket_name(account_id, "config")
            ),
            account_id=log_archive_account.account_id,
            management_account_id=settings.account.id,
            organization_id=organization.id,
            trail_arn=settings.trail_arn(),
            exempt_role_arns=log_archive_account.account_id.apply(settings.exempt_role_arns),
            # Config recorders and flow logs deliver from every account of the organization.
            source_account_ids=pulumi.Output.all(*(account.account_id for account in accounts.values())).apply(
                lambda member_ids: delivery_account_ids(settings.account.id, member_ids)
            ),
            object_lock_mode=archive_settings.object_lock_mode,
            retention_days=archive_settings.retention_days,
            transition_days=archive_settings.transition_days,
            transition_storage_class=archive_settings.transition_storage_class,
            expiration_days=archive_settings.expiration_days,
            reader_role_arns=tuple(archive_settings.log_reader_role_arns),
        ),
        opts=pulumi.ResourceOptions(provider=log_archive[home]),
    )
    trail = OrganizationTrail(
        "organization-trail",
        OrganizationTrailArgs(
            trail_name=audit.trail_name,
            bucket_name=archive.bucket_name,
            kms_key_arn=archive.key_arn,
            after=(archive.bucket_policy, archive.key_policy, *enabled_access),
            cloud_watch_logs_retention_days=audit.cloud_watch_logs.retention_days
            if audit.cloud_watch_logs.enabled
            else None,
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )

    for label, providers in (
        (settings.account.name, management),
        (organization_settings.log_archive_account, log_archive),
        (audit.audit_account, audit_providers),
    ):
        recorder = None
        for region in [home, *(r for r in settings.allowed_regions if r != home)]:
            recorder = ConfigRecorder(
                f"config-{label}-{region}",
                ConfigRecorderArgs(
                    bucket_name=archive.config_bucket_name,
                    kms_key_arn=archive.key_arn,
                    role_arn=recorder.role_arn if recorder else None,
                    include_global_resource_types=region == home,
                    after=(archive.config_bucket_policy, archive.key_policy),
                ),
                opts=pulumi.ResourceOptions(provider=providers[region]),
            )

    delegations = DelegatedAdministrators(
        f"{audit.audit_account}-delegated-admin",
        DelegatedAdministratorsArgs(
            account_id=audit_account.account_id,
            service_principals=DELEGATED_SERVICES,
            after=enabled_access,
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    aggregator = ConfigAggregator(
        "config-aggregator",
        ConfigAggregatorArgs(aggregator_name=settings.config_aggregator_name(), after=tuple(delegations.registrations)),
        opts=pulumi.ResourceOptions(provider=audit_providers[home]),
    )
    for region in settings.allowed_regions:
        admin = OrganizationAdminArgs(
            admin_account_id=audit_account.account_id,
            management_provider=management[region],
            admin_provider=audit_providers[region],
            after=enabled_access,
        )
        GuardDutyOrganization(f"guardduty-{region}", admin)
        SecurityHubOrganization(f"securityhub-{region}", admin)
    return {
        "logArchiveBucket": archive.bucket_name,
        "logArchiveConfigBucket": archive.config_bucket_name,
        "logArchiveKeyArn": archive.key_arn,
        "organizationTrailArn": trail.arn,
        "configAggregatorArn": aggregator.arn,
    }
