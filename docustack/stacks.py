"""What each stack is made of: the composition ``__main__.py`` runs, from typed settings to components.

The management stack (the one whose settings have ``organization``) owns the organization, its OUs, the
member accounts and the organization policies of every type, and with ``organization.auditServices`` the audit
services: the Log Archive, the organization trail, AWS Config in the management account, the Config aggregator,
GuardDuty and Security Hub; with ``organization.baseline`` the organization baseline (a service-managed StackSet
recording AWS Config in every member account), with ``organization.budgets`` a budget per member account, and
the cost-allocation tag activations. Every stack, the management one too, lays down its own account's
baseline: its state backend and its CI roles (account-level S3 Block Public Access is the S3 policy's). Every stack gets an AWS provider pinned to its own account and
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
from components.account_budget import AccountBudgets, AccountBudgetsArgs, AccountBudgetSpec, BudgetAlert
from components.config_aggregator import DELEGATED_SERVICES
from components.cost_allocation_tags import CostAllocationTags, CostAllocationTagsArgs
from components.github_ci_roles import github_oidc_provider_arn
from components.identity_center import (
    AssignmentSpec,
    GroupSpec,
    IdentityCenterAccess,
    IdentityCenterAccessArgs,
    PermissionSetSpec,
)
from components.log_archive import delivery_account_ids
from components.member_read_only_stack_set import (
    MemberReadOnlyStackSet,
    MemberReadOnlyStackSetArgs,
)
from components.member_read_only_stack_set import stack_set_name as member_read_only_stack_set_name
from components.member_read_only_stack_set import template_text as member_read_only_template
from components.organization_baseline import OrganizationBaseline, OrganizationBaselineArgs, template_text
from docustack import access
from docustack.settings import (
    CONFIG_KEY,
    COST_CENTER_TAG,
    ENVIRONMENT_TAG,
    ROOT_TARGET,
    MemberAccountSettings,
    SettingsError,
    StackSettings,
    baseline_ou_paths,
    is_placeholder,
    iter_ous,
    parse_settings,
    resolved_budget,
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
    member: MemberAccountSettings | None = None,
) -> aws.Provider:
    """A provider that can only act in ``account_id`` and ``region``; with ``role_name``, through that role.

    Its default tags go on every resource it creates: the project's, and the cost-allocation tags
    (``cost-center``, ``environment``) of the stack's account or, for ``member``, of that member account.
    """
    assume_roles = None
    if role_name is not None:
        role_arn = pulumi.Output.concat("arn:aws:iam::", account_id, ":role/", role_name)
        assume_roles = [aws.ProviderAssumeRoleArgs(role_arn=role_arn)]
    return aws.Provider(
        name,
        region=region,
        allowed_account_ids=[account_id],
        assume_roles=assume_roles,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={**provider_default_tags(settings.prefix, pulumi.get_stack()), **settings.cost_allocation_tags(member)}
        ),
    )


def compose(settings: StackSettings, policy_dir: Path | None = None) -> dict[str, Any]:
    """Build the stack; returns the outputs to export."""
    provider = account_provider(settings)
    outputs: dict[str, Any] = {"accountId": settings.account.id, "region": settings.account.region}
    outputs.update(compose_account_baseline(settings, provider))
    if settings.organization is not None:
        outputs.update(compose_organization(settings, provider, policy_dir))
    # An account stack records nothing itself: the management stack's organization baseline records AWS Config
    # in every member account (compose_organization_baseline).
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
        **compose_audit_services(settings, provider, organization, accounts, units.ids, policy_dir),
        **compose_identity_center(settings, provider, accounts, policy_dir),
        **compose_budgets(settings, provider, accounts),
        **compose_cost_allocation_tags(settings, provider),
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
    unit_ids: dict[str, pulumi.Output[str]] | None = None,
    policy_dir: Path | None = None,
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
            region: pinned_provider(
                f"{name}-{region}", settings, account.account_id, region, role, member=member_settings[name]
            )
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

    # The management account records through this stack: service-managed StackSets never deploy to it. Every
    # member account, the Log Archive and Audit accounts included, records through the organization baseline, so
    # each account and region has exactly one customer managed recorder.
    recorder = None
    for region in [home, *(r for r in settings.allowed_regions if r != home)]:
        recorder = ConfigRecorder(
            f"config-{settings.account.name}-{region}",
            ConfigRecorderArgs(
                bucket_name=archive.config_bucket_name,
                kms_key_arn=archive.key_arn,
                role_arn=recorder.role_arn if recorder else None,
                include_global_resource_types=region == home,
                after=(archive.config_bucket_policy, archive.key_policy),
            ),
            opts=pulumi.ResourceOptions(provider=management[region]),
        )
    baseline_outputs = compose_organization_baseline(
        settings,
        provider,
        unit_ids or {},
        archive,
        (archive.config_bucket_policy, archive.key_policy, *enabled_access),
        policy_dir,
        read_only_elsewhere=(log_archive_account.account_id, audit_account.account_id),
        trusted_access=enabled_access,
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
        **baseline_outputs,
    }


def compose_identity_center(
    settings: StackSettings,
    provider: aws.Provider,
    accounts: dict[str, MemberAccount],
    policy_dir: Path | None = None,
) -> dict[str, Any]:
    """Human access (``organization.identityCenter``): permission sets and one assignment per (group, account, set)
    that the settings expand to (docustack/access.py), in the management account and the instance's region."""
    organization_settings = settings.organization
    assert organization_settings is not None
    identity_center = organization_settings.identity_center
    if identity_center is None:
        return {}
    region = access.instance_region(settings)
    if region != settings.account.region:
        provider = pinned_provider(f"{settings.account.name}-{region}", settings, settings.account.id, region)
    account_ids: dict[str, pulumi.Input[str]] = {settings.account.name: settings.account.id}
    account_ids.update({name: account.account_id for name, account in accounts.items()})
    variables = settings.policy_variables()
    permission_sets: list[PermissionSetSpec] = []
    for permission_set in identity_center.permission_sets:
        document = access.inline_policy(permission_set, policy_dir=policy_dir, variables=variables)
        permission_sets.append(
            PermissionSetSpec(
                name=permission_set.name,
                description=permission_set.description,
                session_duration=access.session_duration(permission_set),
                managed_policy_arns=tuple(permission_set.managed_policy_arns),
                inline_policy=policies.minify(document) if document is not None else None,
            )
        )
    component = IdentityCenterAccess(
        "access",
        IdentityCenterAccessArgs(
            instance_arn=identity_center.instance_arn,
            identity_store_id=identity_center.identity_store_id,
            groups=tuple(GroupSpec(g.name, g.display_name, g.create) for g in identity_center.groups),
            permission_sets=tuple(permission_sets),
            assignments=tuple(
                AssignmentSpec(grant.group, grant.account, grant.permission_set, account_ids[grant.account])
                for grant in access.expand(settings)
            ),
            look_up_groups=not is_placeholder(identity_center.identity_store_id),
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    return {"permissionSetArns": component.permission_set_arns}


def compose_organization_baseline(
    settings: StackSettings,
    provider: aws.Provider,
    unit_ids: dict[str, pulumi.Output[str]],
    archive: LogArchive,
    after: tuple[pulumi.Resource, ...],
    policy_dir: Path | None = None,
    *,
    read_only_elsewhere: tuple[pulumi.Input[str], ...] = (),
    trusted_access: tuple[pulumi.Resource, ...] = (),
) -> dict[str, Any]:
    """The baseline StackSet over the baseline's OUs and the OUs nested in them, in every allowed region.

    It waits for trusted access (the organization's service access) and for the Config bucket's and the key's
    policies: a recorder's delivery channel is checked against the bucket when it is created.

    With ``read_only_elsewhere`` (the Log Archive and Audit accounts, where this stack makes ``<prefix>-readonly``
    itself), the member read-only StackSet makes that role in every other account of the same OUs, in the home
    region (components/member_read_only_stack_set.py); it waits for trusted access only.
    """
    organization_settings = settings.organization
    assert organization_settings is not None
    baseline = organization_settings.baseline
    if baseline is None:
        return {}
    component = OrganizationBaseline(
        "organization-baseline",
        OrganizationBaselineArgs(
            stack_set_name=baseline.stack_set_name or settings.baseline_stack_set_name(),
            template_body=template_text(policy_dir),
            home_region=settings.account.region,
            regions=tuple(settings.allowed_regions),
            organizational_unit_ids=[unit_ids[path] for path in baseline_ou_paths(organization_settings)],
            config_bucket_name=archive.config_bucket_name,
            config_key_arn=archive.key_arn,
            after=after,
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    outputs: dict[str, Any] = {"baselineStackSetName": component.stack_set_name}
    if read_only_elsewhere:
        read_only = MemberReadOnlyStackSet(
            "member-read-only",
            MemberReadOnlyStackSetArgs(
                stack_set_name=member_read_only_stack_set_name(settings.prefix),
                template_body=member_read_only_template(
                    settings.member_read_only_role_name, settings.account.id, policy_dir
                ),
                home_region=settings.account.region,
                organizational_unit_ids=[unit_ids[path] for path in baseline_ou_paths(organization_settings)],
                excluded_account_ids=list(read_only_elsewhere),
                after=trusted_access,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        outputs["memberReadOnlyStackSetName"] = read_only.stack_set_name
    return outputs


def compose_budgets(
    settings: StackSettings, provider: aws.Provider, accounts: dict[str, MemberAccount]
) -> dict[str, Any]:
    """A monthly cost budget per member account, in the management account, filtered on that account."""
    organization_settings = settings.organization
    assert organization_settings is not None
    if organization_settings.budgets is None:
        return {}
    specs: list[AccountBudgetSpec] = []
    for account in organization_settings.accounts:
        limit, notifications = resolved_budget(organization_settings, account)
        specs.append(
            AccountBudgetSpec(
                account_name=account.name,
                budget_name=settings.budget_name(account.name),
                account_id=accounts[account.name].account_id,
                monthly_limit_usd=limit,
                alerts=tuple(
                    BudgetAlert(n.type, n.threshold_percent, tuple(n.emails), tuple(n.sns_topic_arns))
                    for n in notifications
                ),
            )
        )
    budgets = AccountBudgets(
        "budget", AccountBudgetsArgs(budgets=tuple(specs)), opts=pulumi.ResourceOptions(provider=provider)
    )
    names = budgets.budget_names
    return {"budgetNames": names}


def compose_cost_allocation_tags(settings: StackSettings, provider: aws.Provider) -> dict[str, Any]:
    """The management account activates the cost-allocation tags every provider puts on what it creates."""
    keys = (COST_CENTER_TAG, ENVIRONMENT_TAG)
    CostAllocationTags(
        "cost-allocation-tags", CostAllocationTagsArgs(tag_keys=keys), opts=pulumi.ResourceOptions(provider=provider)
    )
    return {"costAllocationTagKeys": list(keys)}
