"""``docustack adopt-check --stack NAME``: before a stack's first ``pulumi up``, what would it write over what exists?

The first ``up`` adopts existing resources through the ``import`` resource option. Pulumi no longer refuses an
import whose inputs differ from the real resource: it imports, then updates the resource to what the program
declares (pulumi/pulumi#16397; the import guide's "Mismatched state", rewritten in pulumi/docs#18198). So every
difference between the settings and the live resources is something the first ``up`` writes: an account's name,
a key policy, and the organization's trusted service access and enabled policy types, which the provider
manages as complete lists (a trusted service on now and not declared, IAM Identity Center say, would lose its
trusted access).

This command reads the live resources (read-only, through verify's guarded sessions: docustack/verify/aws.py)
and names every such difference:

- management stack: the organization (which one is adopted, feature set, trusted service principals, the
  root's enabled policy types), every declared account (adopted: name, email, parent OU; created: no account
  of that email exists already), and that the management stack can still reach every adopted account through
  its access role (the first ``up`` attaches protect-guardrails, after which nobody in a member account can
  create that role);
- every stack: its state bucket, key and alias against what the ``StateBackend`` component declares (the same
  look ``docustack bootstrap`` takes, with writes refused).

A live trusted service principal or policy type that the settings neither declare nor list in
``organization.disableServiceAccessPrincipals`` / ``disablePolicyTypes`` is an *undecided* difference: the
first ``up`` must not run until a person has decided to keep it (declare it) or remove it (list it).

Exit codes: 0 no differences; 1 differences (listed); 2 something could not be read, or the command refused to
run (even when differences were found elsewhere: the picture is incomplete, never "no differences").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from docustack.bootstrap import Bootstrapper, trust_problems
from docustack.settings import CONFIG_KEY, MemberAccountSettings, StackSettings, is_placeholder
from docustack.state_backend_spec import StateBackendSpec
from docustack.verify.aws import read_only_session
from docustack.verify.framework import AWS_ERRORS, CheckContext, describe_error, signed_in_read_only
from docustack.verify.organization_checks import LiveOrganization

EXIT_NO_DIFFERENCES, EXIT_DIFFERENCES, EXIT_NOT_READ = 0, 1, 2
ORGANIZATION = f"{CONFIG_KEY}.organization"
# Policy types whose status on the root counts as "on": one being enabled is already on its way.
ON = ("ENABLED", "PENDING_ENABLE")


class AdoptionRefused(Exception):
    """The comparison would mean nothing (credentials for another account, contradictory settings)."""


@dataclass(frozen=True)
class Difference:
    """One thing the first ``up`` would write over what exists."""

    resource: str  # "organization", "account:dev", "state backend"
    setting: str  # the settings field it comes from
    declared: str
    live: str
    consequence: str  # what the first `up` does about it
    undecided: bool = False  # a removal nobody has decided on: do not run the first `up`

    def as_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "setting": self.setting,
            "declared": self.declared,
            "live": self.live,
            "consequence": self.consequence,
            "undecided": self.undecided,
        }


@dataclass(frozen=True)
class NotRead:
    resource: str
    reason: str


@dataclass
class Comparison:
    stack: str
    account_id: str
    caller_arn: str
    compared: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    not_read: list[NotRead] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.not_read:
            return EXIT_NOT_READ
        return EXIT_DIFFERENCES if self.differences else EXIT_NO_DIFFERENCES

    @property
    def result(self) -> str:
        undecided = sum(d.undecided for d in self.differences)
        parts = [f"{len(self.differences)} difference(s)" + (f", {undecided} undecided" if undecided else "")]
        if self.not_read:
            parts.append(f"{len(self.not_read)} thing(s) NOT READ: the comparison is incomplete")
        elif not self.differences:
            parts = ["no differences: the first `pulumi up` adopts these resources as they are"]
        return "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "accountId": self.account_id,
            "caller": self.caller_arn,
            "compared": self.compared,
            "differences": [d.as_json() for d in self.differences],
            "notRead": [{"resource": n.resource, "reason": n.reason} for n in self.not_read],
            "result": self.result,
            "exitCode": self.exit_code,
        }

    def render_text(self) -> str:
        lines = [
            f"Adoption check of stack {self.stack} (account {self.account_id}, as {self.caller_arn}): what the "
            "first `pulumi up` would write over what exists",
            f"Compared: {', '.join(self.compared) or 'nothing'}",
        ]
        for d in self.differences:
            flag = "UNDECIDED" if d.undecided else "DIFFERS"
            lines += [
                f"  {flag} {d.resource}: {d.setting}",
                f"      declared: {d.declared}",
                f"      live:     {d.live}",
                f"      {d.consequence}",
            ]
        lines += [f"  NOT READ {n.resource}: {n.reason}" for n in self.not_read]
        lines.append(f"Result: {self.result}")
        return "\n".join(lines) + "\n"


def compare(
    settings: StackSettings,
    stack: str,
    session: boto3.Session,
    *,
    management: StackSettings | None = None,
) -> Comparison:
    """Read the live resources ``settings`` adopts and list what the first ``up`` would change.

    ``session`` gets verify's read-only guard: every client made from it refuses anything but reads."""
    refuse_contradictions(settings)
    caller = signed_in_read_only(session, settings, stack, AdoptionRefused)
    comparison = Comparison(stack=stack, account_id=settings.account.id, caller_arn=caller.arn)
    context = CheckContext(settings, session, caller, member_role=settings.member_read_only_role_name, stack=stack)
    if settings.organization is not None:
        live = LiveOrganization(context)
        _read(comparison, "organization", lambda: _compare_organization(comparison, settings, live))
        for account in settings.organization.accounts:
            _read(
                comparison,
                f"account:{account.name}",
                lambda account=account: _compare_account(comparison, account, live, context),
            )
    _read(
        comparison,
        "state backend",
        lambda: _compare_state_backend(comparison, settings, stack, session, management),
    )
    return comparison


def refuse_contradictions(settings: StackSettings) -> None:
    """A principal or policy type both declared and listed for removal is no decision at all."""
    organization = settings.organization
    if organization is None:
        return
    problems = [
        f"{ORGANIZATION}.{listed}: {', '.join(sorted(both))} also in {ORGANIZATION}.{declared}"
        for declared, listed, both in (
            (
                "serviceAccessPrincipals",
                "disableServiceAccessPrincipals",
                set(organization.service_access_principals) & set(organization.disable_service_access_principals),
            ),
            (
                "enabledPolicyTypes",
                "disablePolicyTypes",
                set(organization.enabled_policy_types) & set(organization.disable_policy_types),
            ),
        )
        if both
    ]
    if problems:
        raise AdoptionRefused("the settings both keep and remove the same thing: " + "; ".join(problems))


def _read(comparison: Comparison, resource: str, read: Callable[[], None]) -> None:
    """Compare one resource; an AWS error makes it NOT READ, never "no differences". So does any other error (an
    answer of a shape the comparison cannot read, ``WriteRefused``, a bug): the comparison did not finish, as in
    verify's ``run_check``."""
    comparison.compared.append(resource)
    try:
        read()
    except Exception as error:
        comparison.not_read.append(NotRead(resource, describe_error(error)))


# ---- the organization


def _compare_organization(comparison: Comparison, settings: StackSettings, live: LiveOrganization) -> None:
    declared = settings.organization
    assert declared is not None
    add = comparison.differences.append
    organization = live.description
    if organization["MasterAccountId"] != settings.account.id:
        comparison.not_read.append(
            NotRead(
                "organization",
                f"account {settings.account.id} is a member of organization {organization['Id']}, whose management "
                f"account is {organization['MasterAccountId']}: only the management account can adopt it (and read "
                "its trusted services)",
            )
        )
        return
    if declared.import_id is None or is_placeholder(declared.import_id):
        add(
            Difference(
                "organization",
                f"{ORGANIZATION}.importId",
                declared.import_id or "(none: create an organization)",
                organization["Id"],
                f"without the ID the first `up` tries to create an organization, and fails: this account already "
                f"manages {organization['Id']}. Set importId to adopt it",
            )
        )
    elif declared.import_id != organization["Id"]:
        add(
            Difference(
                "organization",
                f"{ORGANIZATION}.importId",
                declared.import_id,
                organization["Id"],
                "the import fails: this account's organization has another ID",
            )
        )
    if organization.get("FeatureSet") != declared.feature_set:
        add(
            Difference(
                "organization",
                f"{ORGANIZATION}.featureSet",
                declared.feature_set,
                str(organization.get("FeatureSet")),
                "the first `up` starts enabling all features, which every invited account must approve "
                "(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_org_support-all-features.html)",
            )
        )
    # Trusted access can be listed only from the management account (or a delegated administrator):
    # https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAWSServiceAccessForOrganization.html
    principals = {
        entry["ServicePrincipal"]
        for entry in live.read_all("list_aws_service_access_for_organization", "EnabledServicePrincipals")
    }
    _compare_complete_list(
        comparison,
        "serviceAccessPrincipals",
        "disableServiceAccessPrincipals",
        declared=set(declared.service_access_principals),
        removals=set(declared.disable_service_access_principals),
        live=principals,
        what="trusted access for",
    )
    # The root's PolicyTypes carry each type's status on the root
    # (https://docs.aws.amazon.com/organizations/latest/APIReference/API_PolicyTypeSummary.html).
    types = {entry["Type"] for entry in live.root.get("PolicyTypes", []) if entry.get("Status") in ON}
    _compare_complete_list(
        comparison,
        "enabledPolicyTypes",
        "disablePolicyTypes",
        declared=set(declared.enabled_policy_types),
        removals=set(declared.disable_policy_types),
        live=types,
        what="the policy type",
    )


def _compare_complete_list(
    comparison: Comparison,
    setting: str,
    removal_setting: str,
    *,
    declared: set[str],
    removals: set[str],
    live: set[str],
    what: str,
) -> None:
    """The provider sets the whole list: what is declared and off gets enabled, what is on and not declared
    gets disabled. pulumi-aws bridges Terraform's ``aws_organizations_organization``, whose update disables
    every principal and policy type of the old list missing from the new one and enables the reverse
    (hashicorp/terraform-provider-aws, ``internal/service/organizations/organization.go``); after an import
    the old list is the live one."""
    add = comparison.differences.append
    for name in sorted(declared - live):
        add(
            Difference(
                "organization",
                f"{ORGANIZATION}.{setting}",
                f"{name} on",
                "off",
                f"the first `up` enables {what} {name}",
            )
        )
    for name in sorted(live - declared):
        if name in removals:
            add(
                Difference(
                    "organization",
                    f"{ORGANIZATION}.{removal_setting}",
                    f"{name} off",
                    "on",
                    f"the first `up` disables {what} {name}, as {removal_setting} says",
                )
            )
        else:
            add(
                Difference(
                    "organization",
                    f"{ORGANIZATION}.{setting}",
                    "(not declared)",
                    f"{name} on",
                    f"the first `up` would disable {what} {name}: add it to {setting} to keep it, or to "
                    f"{removal_setting} to have it disabled; do not run the first `up` before deciding",
                    undecided=True,
                )
            )


# ---- the accounts


def _compare_account(
    comparison: Comparison, declared: MemberAccountSettings, live: LiveOrganization, context: CheckContext
) -> None:
    resource = f"account:{declared.name}"
    add = comparison.differences.append
    prefix = f"{ORGANIZATION}.accounts[{declared.name}]"
    if declared.id is None:
        existing = live.find_account(declared)
        if existing is not None:
            add(
                Difference(
                    resource,
                    f"{prefix}.id",
                    "(none: create the account)",
                    f"{existing['Id']} ({existing['Name']}, {existing['Email']})",
                    "the first `up` would try to create a second account like it and fail (account emails are "
                    "unique): give its id to adopt it, or use a new email",
                )
            )
        return
    account = next((a for a in live.accounts if a["Id"] == declared.id), None)
    if account is None:
        add(
            Difference(
                resource,
                f"{prefix}.id",
                declared.id,
                "not a member of this organization",
                "the import fails: invite the account and have it accept first",
            )
        )
        return
    for setting, wanted, actual in (
        ("accountName", declared.aws_name, account["Name"]),
        ("email", declared.email, account["Email"]),
    ):
        if wanted != actual:
            add(
                Difference(
                    resource,
                    f"{prefix}.{setting}",
                    wanted,
                    actual,
                    # Whether the provider changes each in place or by a replacement (which protect=True
                    # refuses, stopping the `up`) is UNVERIFIED; either way the `up` tries to write it.
                    f"the first `up` would write the declared {setting} over the live one"
                    + (" (the placeholder must be filled in)" if is_placeholder(wanted) else ""),
                )
            )
    parent = live.parent_label(declared.id)
    if parent != f"ou:{declared.ou}":
        add(
            Difference(
                resource,
                f"{prefix}.ou",
                f"ou:{declared.ou}",
                parent,
                f"the first `up` moves the account into {declared.ou}, under that OU's SCPs",
            )
        )
    _compare_access_role(comparison, declared, context)


def _compare_access_role(comparison: Comparison, declared: MemberAccountSettings, context: CheckContext) -> None:
    """The management stack must be able to reach an adopted account through its access role before the first
    ``up`` attaches protect-guardrails: an invited account has no such role, and afterwards nobody in it can make
    one (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_create-cross-account-role.html)."""
    assert declared.id is not None
    resource = f"account:{declared.name}"
    try:
        member = read_only_session(
            context.session, context.caller, declared.id, declared.role_name, region=context.region
        )
        role = member.client("iam").get_role(RoleName=declared.role_name)["Role"]
    except AWS_ERRORS as error:
        comparison.not_read.append(
            NotRead(
                resource,
                f"cannot assume {declared.role_name} in {declared.id} ({describe_error(error)}). An invited account "
                f"has no such role: run `docustack bootstrap` of that account's stack, with its credentials, before "
                "the first `up`, which attaches protect-guardrails (after that nobody in the account can create it)",
            )
        )
        return
    document = role["AssumeRolePolicyDocument"]
    problems = trust_problems(document if isinstance(document, dict) else json.loads(document), context.caller.account)
    for problem in problems:
        comparison.differences.append(
            Difference(
                resource,
                f"{ORGANIZATION}.accounts[{declared.name}].roleName",
                f"{declared.role_name} trusted by {context.caller.account} alone",
                problem,
                "the first `up` does not change this role, but it is exempt from every guardrail: fix its trust "
                "policy by hand",
            )
        )


# ---- the state backend


def _compare_state_backend(
    comparison: Comparison,
    settings: StackSettings,
    stack: str,
    session: boto3.Session,
    management: StackSettings | None,
) -> None:
    """The bucket, key and alias the ``StateBackend`` component adopts: bootstrap's own look, writes refused.

    Whatever bootstrap would change or refuse is a difference: the key, alias and bucket are imported and then
    updated to the declaration, and the bucket's settings (policy, lifecycle, encryption, ...) are written."""
    resource = "state backend"
    spec = StateBackendSpec.from_settings(settings, stack)
    backend = settings.state_backend
    bootstrapper = Bootstrapper(settings, stack, session, management)
    review = bootstrapper.review()
    add = comparison.differences.append
    if not backend.adopt:
        add(
            Difference(
                resource,
                f"{CONFIG_KEY}.stateBackend.adopt",
                "false: the first `up` creates the bucket and key",
                "see below" if review.changes or review.conflicts else f"{spec.bucket_name} exists",
                "creating a bucket that exists fails; adopt it instead",
            )
        )
    for change in review.changes:
        add(
            Difference(
                resource,
                f"{CONFIG_KEY}.stateBackend",
                "as docs/state-backends.md declares",
                f"not yet: would {change.description}",
                f"`docustack bootstrap --stack {stack}` makes it; otherwise the first `up` would",
            )
        )
    for conflict in review.conflicts:
        add(
            Difference(
                resource,
                f"{CONFIG_KEY}.stateBackend",
                "as docs/state-backends.md declares",
                conflict,
                "the first `up` would adopt it and write the declaration over it: sort it out first",
            )
        )
    key_id = backend.key_id
    if backend.adopt and (key_id is None or is_placeholder(key_id)):
        found = bootstrapper.key.key_id if bootstrapper.key is not None else "(no state key yet)"
        add(
            Difference(
                resource,
                f"{CONFIG_KEY}.stateBackend.keyId",
                str(key_id),
                found,
                "the first `up` refuses to run while it is a placeholder: fill in the key bootstrap printed",
            )
        )
