"""Human access through IAM Identity Center: the settings expanded to who gets which permission set where.

``organization.identityCenter`` (docustack.settings) names groups, permission sets and assignments by OU or by
account. This module is everything that is not a resource:

- :func:`expand` turns the assignments into grants, one per (group, account, permission set): an ``ou:<path>``
  target reaches every declared account in that OU and its child OUs, so an account added to an OU gets the
  OU's access with no other change;
- :func:`inline_policy` renders a permission set's inline policy (the configuration reads of
  ``components/ci_read_permissions.py`` for a metadata-only set, plus an optional template under
  ``policies/permission-sets/``), the exact text the component sends and verify compares;
- :func:`identity_center_problems` holds the refusals: a developer group with anything but a read-only set in a
  production account, a ``production`` list that is empty or leaves out an account named as production (the word
  ``prod`` or ``production`` in its name), a developer group in the management account, a session longer than the project allows
  (8 hours) or AWS allows (12), a reference to an unknown group, permission set, OU or account;
- :func:`access_matrix` and the renderers give ``docustack plan`` its group x account table;
- :func:`reserved_role_arn` is the role Identity Center makes in an account for a permission set, for
  ``docustack simulate``.

"Read-only" is judged, never taken on trust: a set is read-only only when it is declared so (``readOnly``) and
its documents pass :func:`read_only_problems`: no managed policy (every AWS managed read policy reads data:
``ReadOnlyAccess``, ``ViewOnlyAccess`` and ``SecurityAudit`` read DynamoDB items, Lambda environment variables,
log events; README "Previews only read"), and every action an ``Allow`` statement names is one of the
configuration reads the project has reviewed for its read-only CI roles, named exactly (no wildcard, no
``NotAction``, no ``NotResource``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import policies
from components.ci_read_permissions import ROLE_TYPES, role_read_actions
from docustack.settings import (
    IdentityCenterSettings,
    OrganizationSettings,
    PermissionSetSettings,
    StackSettings,
    iter_ous,
)
from docustack.text_files import UnreadableText, read_utf8

PERMISSION_SET_FOLDER = "permission-sets"
# "The minimum session duration is 1 hour, and can be set to a maximum of 12 hours"
# (https://docs.aws.amazon.com/singlesignon/latest/userguide/howtosessionduration.html).
AWS_MIN_SESSION_MINUTES = 60
AWS_MAX_SESSION_MINUTES = 12 * 60
# The project's own limit (issue 13): no human session longer than a working day.
MAX_SESSION_MINUTES = 8 * 60
DEFAULT_SESSION = "PT1H"
# "Maximum size of non-whitespace characters in the inline policy per permission set is 10,240 bytes"; "Number of
# AWS managed and customer managed policies per permission set: 20" (the provisioned role also needs IAM's quota of
# managed policies per role raised above its default of 10), https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html.
MAX_INLINE_POLICY_CHARACTERS = 10_240
MAX_MANAGED_POLICIES = 20
# An account whose name carries one of these words is production whatever `production` says (see
# named_production_accounts).
PRODUCTION_WORDS = frozenset({"prod", "production"})
NOT_PRODUCTION_PREFIXES = frozenset({"pre", "non"})
# The emergency permission set is the one whose name carries this mark (compared without case).
EMERGENCY_MARK = "breakglass"
METADATA_SID = "ReadConfigurationMetadata"
READ_VERB = re.compile(r"^[a-z0-9-]+:(Describe|Get|List)[A-Za-z0-9]*$")
# Identity Center's roles: "AWSReservedSSO_permission-set-name_unique-suffix" at
# "role/aws-reserved/sso.amazonaws.com/aws-region/..."
# (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html). That the region is
# left out for an instance in us-east-1 is said by AWS's containers blog ("If you configure SSO in a Region other
# than us-east-1, add the Region after sso.amazonaws.com",
# https://aws.amazon.com/blogs/containers/a-quick-path-to-amazon-eks-single-sign-on-using-aws-sso/), not by that
# page: UNVERIFIED against docs.aws.amazon.com, and doubtful: that page writes the path with aws-region always,
# and role ARNs of us-east-1 instances quoted in public repositories carry "/sso.amazonaws.com/us-east-1/" (the
# omission may hold only for instances made before the region was added). No guardrail matches a role by this
# path (policies/ never names aws-reserved), so `docustack simulate` decides the same either way; only the
# principal ARN it prints depends on it.
# These are ordinary roles of the member account: SCPs bind every IAM user and role of a member account except
# service-linked roles (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html),
# and Identity Center's service-linked role is another one, AWSServiceRoleForSSO
# (https://docs.aws.amazon.com/singlesignon/latest/userguide/slrconcept.html). So the guardrails bind every
# permission set, the emergency set included, unless a guardrail exempts the role by name: see the refusal of an
# exempt role named AWSReservedSSO_... in docustack.settings.
RESERVED_ROLE_PREFIX = "AWSReservedSSO_"
# What stands for the suffix of such a role in `docustack simulate --as-permission-set`: the real one is known only
# once the role exists, and the guardrails match roles by name or path, never by this suffix.
SIMULATED_ROLE_SUFFIX = "0000000000000000"
RESERVED_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"
UNREGIONED_ROLE_PATH_REGION = "us-east-1"


@dataclass(frozen=True, order=True)
class Grant:
    """One group given one permission set in one account (accounts by their settings name)."""

    group: str
    account: str
    permission_set: str


def session_minutes(duration: str) -> int:
    """``PT1H30M`` -> 90; the settings pattern admits only hours and minutes."""
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?", duration)
    if not match or duration == "PT":
        raise ValueError(f"{duration!r} is not an ISO-8601 duration of hours and minutes")
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def session_duration(permission_set: PermissionSetSettings) -> str:
    return permission_set.session_duration or DEFAULT_SESSION


def is_emergency(permission_set_name: str) -> bool:
    return EMERGENCY_MARK in permission_set_name.casefold()


def management_target(settings: StackSettings) -> str:
    return f"account:{settings.account.name}"


def all_account_names(settings: StackSettings) -> list[str]:
    """The management account first, then the member accounts, as the settings name them."""
    assert settings.organization is not None
    return [settings.account.name, *(account.name for account in settings.organization.accounts)]


def target_accounts(target: str, settings: StackSettings) -> list[str] | None:
    """The accounts ``target`` reaches (``ou:<path>`` with its child OUs, ``account:<name>``); None if unknown."""
    organization = settings.organization
    assert organization is not None
    kind, _, name = target.partition(":")
    if kind == "account":
        return [name] if name in all_account_names(settings) else None
    if kind == "ou" and name in {node.path for node in iter_ous(organization)}:
        return [a.name for a in organization.accounts if a.ou == name or a.ou.startswith(f"{name}/")]
    return None


def expand(settings: StackSettings) -> list[Grant]:
    """Every grant the assignments make, sorted, each once; unknown references are left to the checks."""
    identity_center = _identity_center(settings)
    if identity_center is None:
        return []
    grants: set[Grant] = set()
    for assignment in identity_center.assignments:
        for target in assignment.targets:
            for account in target_accounts(target, settings) or []:
                grants.add(Grant(assignment.group, account, assignment.permission_set))
    return sorted(grants)


def named_production_accounts(settings: StackSettings) -> list[str]:
    """Member accounts whose settings name or AWS account name has the word ``prod`` or ``production`` in it
    (``prod``, ``prod-eu``, "DocuStack Production"; not ``product-analytics``, ``preprod`` or ``non-prod``): these
    must be production."""
    organization = settings.organization
    assert organization is not None
    return [
        account.name
        for account in organization.accounts
        if _says_production(account.name) or _says_production(account.account_name or "")
    ]


def _says_production(name: str) -> bool:
    """``prod`` or ``production`` as a word, not preceded by ``pre`` or ``non`` (``pre-prod``, ``non-prod``)."""
    words = [word for word in re.split(r"[^a-z0-9]+", name.casefold()) if word]
    return any(
        word in PRODUCTION_WORDS and (index == 0 or words[index - 1] not in NOT_PRODUCTION_PREFIXES)
        for index, word in enumerate(words)
    )


def assignment_resource_name(grant: Grant) -> str:
    """The name (after the component's own) components/identity_center.py registers a grant's assignment under."""
    return f"{grant.group}-{grant.account}-{grant.permission_set}"


def production_accounts(settings: StackSettings) -> set[str]:
    identity_center = _identity_center(settings)
    if identity_center is None:
        return set()
    return {account for target in identity_center.production for account in target_accounts(target, settings) or []}


def access_matrix(settings: StackSettings) -> dict[str, dict[str, list[str]]]:
    """Account -> group -> the permission sets that group holds there (every account, even one nobody reaches)."""
    if _identity_center(settings) is None:
        return {}
    matrix: dict[str, dict[str, list[str]]] = {account: {} for account in all_account_names(settings)}
    for grant in expand(settings):
        matrix.setdefault(grant.account, {}).setdefault(grant.group, []).append(grant.permission_set)
    return matrix


# --------------------------------------------------------------------------------------------------------
# Permission set documents


def metadata_read_actions() -> list[str]:
    """The configuration reads the project has reviewed for its read-only CI roles (every role kind): what the
    provider reads for each resource type the foundation manages, and what ``docustack verify`` reads."""
    return sorted({action for role in ROLE_TYPES for action in role_read_actions(role)})


def permission_set_dir(policy_dir: Path | None = None) -> Path:
    return (policy_dir or policies.POLICY_DIR) / PERMISSION_SET_FOLDER


def load_template(file: str, *, policy_dir: Path | None = None) -> dict[str, Any]:
    """An inline policy template under ``policies/permission-sets/``; :class:`policies.PolicyError` naming the file
    and the reason when it cannot be read as an IAM identity policy."""
    directory = permission_set_dir(policy_dir)
    where = f"policies/{PERMISSION_SET_FOLDER}/"
    try:
        path = (directory / file).resolve()
    except (OSError, RuntimeError) as error:
        raise policies.PolicyError(f"{file!r} in {where} cannot be resolved: {error}") from None
    if path.parent != directory.resolve() or path.suffix != ".json":
        raise policies.PolicyError(f"{file!r} must be the name of a .json file in {where}")
    if not path.is_file():
        raise policies.PolicyError(f"{file!r} is not a file in {where}")
    try:
        text = read_utf8(path, policies.MAX_POLICY_FILE_BYTES, "a policy template")
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except UnreadableText as error:
        raise policies.PolicyError(f"{file!r} in {where} {error}") from None
    except (ValueError, RecursionError) as error:
        raise policies.PolicyError(f"{file!r} in {where} is not JSON: {error}") from None
    problems = identity_policy_problems(document)
    if problems:
        raise policies.PolicyError(f"{file!r} in {where} is not an IAM policy: " + "; ".join(problems))
    return document


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"the key {key!r} is repeated in one object")
        document[key] = value
    return document


def identity_policy_problems(document: Any) -> list[str]:
    """The IAM identity-policy grammar this project relies on (Sids unique; ``Allow`` may carry conditions)."""
    if not isinstance(document, dict):
        return ["the document must be a JSON object"]
    problems = []
    if document.get("Version") != "2012-10-17":
        problems.append('"Version" must be "2012-10-17"')
    if set(document) - {"Version", "Statement"}:
        problems.append(f"unexpected top-level keys {sorted(set(document) - {'Version', 'Statement'})}")
    statements = document.get("Statement")
    if not isinstance(statements, list) or not statements:
        return [*problems, '"Statement" must be a non-empty list']
    sids: set[str] = set()
    for index, statement in enumerate(statements):
        where = f"Statement[{index}]"
        if not isinstance(statement, dict):
            problems.append(f"{where} must be an object")
            continue
        if set(statement) - policies.STATEMENT_KEYS:
            problems.append(f"{where} has unknown keys {sorted(set(statement) - policies.STATEMENT_KEYS)}")
        sid = statement.get("Sid")
        if not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9]+", sid) or sid == METADATA_SID:
            problems.append(f"{where} needs an alphanumeric Sid other than {METADATA_SID!r}")
        elif sid in sids:
            problems.append(f"{where} repeats Sid {sid!r}")
        else:
            sids.add(sid)
        if statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f'{where}.Effect must be "Allow" or "Deny"')
        if ("Action" in statement) == ("NotAction" in statement):
            problems.append(f"{where} needs exactly one of Action and NotAction")
        if ("Resource" in statement) == ("NotResource" in statement):
            problems.append(f"{where} needs exactly one of Resource and NotResource")
    return problems


def inline_policy(
    permission_set: PermissionSetSettings, *, policy_dir: Path | None = None, variables: Mapping[str, Any] = {}
) -> dict[str, Any] | None:
    """The set's inline policy document, or None when it has none; raises :class:`policies.PolicyError`."""
    statements: list[Any] = []
    if permission_set.metadata_reads:
        statements.append({"Sid": METADATA_SID, "Effect": "Allow", "Action": metadata_read_actions(), "Resource": "*"})
    if permission_set.inline_policy_file:
        template = load_template(permission_set.inline_policy_file, policy_dir=policy_dir)
        statements += policies.render(template, dict(variables))["Statement"]
    if not statements:
        return None
    return {"Version": "2012-10-17", "Statement": statements}


def read_only_problems(permission_set: PermissionSetSettings, document: Mapping[str, Any] | None) -> list[str]:
    """Why a set declared read-only is not; empty when it passes."""
    problems = [
        f"has the managed policy {arn!r}: a read-only set carries none (AWS's read-only policies read data)"
        for arn in permission_set.managed_policy_arns
    ]
    allowed = set(metadata_read_actions())
    for index, statement in enumerate((document or {}).get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"Statement[{index}] allows with NotAction or NotResource: everything else is allowed")
            continue
        actions = statement.get("Action")
        for action in actions if isinstance(actions, list) else [actions]:
            if not isinstance(action, str) or action not in allowed:
                problems.append(
                    f"Statement[{index}] allows {action!r}, which is not one of the configuration reads reviewed in "
                    "components/ci_read_permissions.py (named exactly, no wildcard)"
                )
    return problems


def is_read_only(
    permission_set: PermissionSetSettings, *, policy_dir: Path | None = None, variables: Mapping[str, Any] = {}
) -> bool:
    """Declared read-only and passing :func:`read_only_problems`."""
    if not permission_set.read_only:
        return False
    try:
        document = inline_policy(permission_set, policy_dir=policy_dir, variables=variables)
    except policies.PolicyError:
        return False
    return not read_only_problems(permission_set, document)


# --------------------------------------------------------------------------------------------------------
# The refusals


def identity_center_problems(settings: StackSettings, *, policy_dir: Path | None = None) -> list[tuple[str, str]]:
    """(path under ``organization.identityCenter``, message) for every problem; none stops the others."""
    identity_center = _identity_center(settings)
    if identity_center is None:
        return []
    problems: list[tuple[str, str]] = []
    add = lambda path, message: problems.append((path, message))  # noqa: E731

    groups = {}
    display_names: dict[str, int] = {}
    for index, group in enumerate(identity_center.groups):
        if group.name in groups:
            add(f".groups[{index}].name", f"{group.name!r} is declared twice")
        groups.setdefault(group.name, group)
        # Display names are unique in an identity store, regardless of case for lookups (UNVERIFIED); refuse both.
        folded = group.display_name.casefold()
        if folded in display_names:
            add(f".groups[{index}].displayName", f"{group.display_name!r} is also groups[{display_names[folded]}]")
        display_names.setdefault(folded, index)

    sets: dict[str, PermissionSetSettings] = {}
    folded_sets: dict[str, str] = {}
    read_only: set[str] = set()
    for index, permission_set in enumerate(identity_center.permission_sets):
        field = f".permissionSets[{index}]"
        if permission_set.name.casefold() in folded_sets:
            add(f"{field}.name", f"{permission_set.name!r} is also {folded_sets[permission_set.name.casefold()]!r}")
        folded_sets.setdefault(permission_set.name.casefold(), permission_set.name)
        sets.setdefault(permission_set.name, permission_set)
        minutes = session_minutes(session_duration(permission_set))
        if minutes < AWS_MIN_SESSION_MINUTES:
            add(f"{field}.sessionDuration", f"{session_duration(permission_set)} is shorter than AWS's minimum, PT1H")
        elif minutes > AWS_MAX_SESSION_MINUTES:
            add(
                f"{field}.sessionDuration",
                f"{session_duration(permission_set)} is longer than AWS allows for a permission set (PT12H)",
            )
        elif minutes > MAX_SESSION_MINUTES:
            add(
                f"{field}.sessionDuration",
                f"{session_duration(permission_set)} is longer than this project allows a human session (PT8H): a "
                "stolen session stays useful no longer than a working day",
            )
        for policy_index, arn in _repeated(permission_set.managed_policy_arns):
            add(f"{field}.managedPolicyArns[{policy_index}]", f"{arn!r} is listed twice")
        # Each attachment is registered under the policy's name (components/identity_center.py), and Pulumi
        # refuses two resources of one name: two ARNs with one name (another path) cannot both be attached.
        policy_names: dict[str, str] = {}
        for policy_index, arn in enumerate(permission_set.managed_policy_arns):
            short = arn.rsplit("/", 1)[-1]
            if short in policy_names and policy_names[short] != arn:
                add(
                    f"{field}.managedPolicyArns[{policy_index}]",
                    f"{arn!r} has the name of {policy_names[short]!r}: one set cannot attach both",
                )
            policy_names.setdefault(short, arn)
        if len(permission_set.managed_policy_arns) > MAX_MANAGED_POLICIES:
            add(
                f"{field}.managedPolicyArns",
                f"lists {len(permission_set.managed_policy_arns)} policies; a permission set takes at most "
                f"{MAX_MANAGED_POLICIES}",
            )
        try:
            document = inline_policy(permission_set, policy_dir=policy_dir, variables=settings.policy_variables())
        except policies.PolicyError as error:
            add(f"{field}.inlinePolicyFile", str(error))
            continue
        size = len(policies.minify(document)) if document is not None else 0
        if size > MAX_INLINE_POLICY_CHARACTERS:
            add(
                f"{field}.inlinePolicyFile" if permission_set.inline_policy_file else field,
                f"the inline policy renders to {size} characters; a permission set's may have at most "
                f"{MAX_INLINE_POLICY_CHARACTERS}",
            )
        if permission_set.read_only:
            failures = read_only_problems(permission_set, document)
            for failure in failures:
                add(f"{field}.readOnly", f"{permission_set.name!r} is declared read-only but {failure}")
            if not failures:
                read_only.add(permission_set.name)
        if document is None and not permission_set.managed_policy_arns:
            add(field, f"{permission_set.name!r} grants nothing: give managedPolicyArns, an inline policy, or both")

    for index, target in enumerate(identity_center.production):
        if target_accounts(target, settings) is None:
            add(f".production[{index}]", _unknown_target(target))
    production = production_accounts(settings)
    if not identity_center.production:
        add(
            ".production", "is empty: no account would be production, and a developer group could hold any set anywhere"
        )
    # `production` is itself a setting: dropping an account from it would make every set "allowed" there. An
    # account the settings call production by name must stay in it (an edit that narrows it is also shown by
    # `docustack plan --base`, docustack.access_diff).
    unlisted = [name for name in named_production_accounts(settings) if name not in production]
    if unlisted:
        add(
            ".production",
            f"does not reach {', '.join(repr(name) for name in unlisted)}, named as production (the word 'prod' or "
            "'production' in its name or account name): a developer group could be given write access there",
        )
    management = settings.account.name
    # An assignment is registered as <group>-<account>-<set> (components/identity_center.py); names made of dashed
    # parts can meet ("dev" in "ops-lab", "dev-ops" in "lab"), and Pulumi refuses two resources of one name.
    resource_names: dict[str, Grant] = {}
    for index, assignment in enumerate(identity_center.assignments):
        for target in assignment.targets:
            for account in target_accounts(target, settings) or []:
                grant = Grant(assignment.group, account, assignment.permission_set)
                other = resource_names.setdefault(assignment_resource_name(grant), grant)
                if other != grant:
                    add(
                        f".assignments[{index}]",
                        f"{grant.group} in {grant.account} ({grant.permission_set}) and {other.group} in "
                        f"{other.account} ({other.permission_set}) would be registered under one resource name, "
                        f"{assignment_resource_name(grant)!r}: rename a group or an account",
                    )
    for index, assignment in enumerate(identity_center.assignments):
        field = f".assignments[{index}]"
        group = groups.get(assignment.group)
        if group is None:
            add(f"{field}.group", f"no group named {assignment.group!r} in identityCenter.groups")
        if assignment.permission_set not in sets:
            add(
                f"{field}.permissionSet",
                f"no permission set named {assignment.permission_set!r} in identityCenter.permissionSets",
            )
        accounts: list[str] = []
        for target_index, target in enumerate(assignment.targets):
            reached = target_accounts(target, settings)
            if reached is None:
                add(f"{field}.targets[{target_index}]", _unknown_target(target))
            else:
                accounts += reached
        if group is None or assignment.permission_set not in sets:
            continue
        name = assignment.permission_set
        if is_emergency(name) and group.kind != "emergency":
            add(
                f"{field}.group",
                f"{name!r} is the emergency set; only a group of kind 'emergency' may hold it, not "
                f"{group.name!r} ({group.kind})",
            )
        if group.kind != "developer":
            continue
        if management in accounts:
            add(
                f"{field}.targets",
                f"gives the developer group {group.name!r} access to the management account {management!r}: only "
                "platform and emergency groups reach it",
            )
        in_production = sorted(set(accounts) & production - {management})
        if in_production and name not in read_only:
            add(
                f"{field}.permissionSet",
                f"{name!r} is not read-only (declared readOnly and passing the read-only check), and it would give "
                f"the developer group {group.name!r} write access in production ({', '.join(in_production)})",
            )
    return problems


def _unknown_target(target: str) -> str:
    return f"{target!r} does not name a declared OU ('ou:<path>') or account ('account:<name>')"


def _repeated(values: Iterable[str]) -> list[tuple[int, str]]:
    seen: set[str] = set()
    repeated = []
    for index, value in enumerate(values):
        if value in seen:
            repeated.append((index, value))
        seen.add(value)
    return repeated


def _identity_center(settings: StackSettings) -> IdentityCenterSettings | None:
    organization: OrganizationSettings | None = settings.organization
    return organization.identity_center if organization is not None else None


# --------------------------------------------------------------------------------------------------------
# The roles Identity Center makes


def instance_region(settings: StackSettings) -> str:
    identity_center = _identity_center(settings)
    return (identity_center.region if identity_center else None) or settings.account.region


def reserved_role_path(region: str) -> str:
    """The path of the roles Identity Center makes (see :data:`RESERVED_ROLE_PATH` for the sources)."""
    if region == UNREGIONED_ROLE_PATH_REGION:
        return RESERVED_ROLE_PATH
    return f"{RESERVED_ROLE_PATH}{region}/"


def reserved_role_arn(account_id: str, permission_set: str, region: str, suffix: str) -> str:
    """``arn:aws:iam::<account>:role/aws-reserved/sso.amazonaws.com[/<region>]/AWSReservedSSO_<set>_<suffix>``."""
    if not re.fullmatch(r"[0-9a-f]{16}", suffix):
        raise ValueError(f"{suffix!r} is not the 16 hexadecimal digits Identity Center appends to a role name")
    return f"arn:aws:iam::{account_id}:role{reserved_role_path(region)}{RESERVED_ROLE_PREFIX}{permission_set}_{suffix}"


# --------------------------------------------------------------------------------------------------------
# The matrix, for docustack plan


def matrix_text(settings: StackSettings) -> list[str]:
    matrix = access_matrix(settings)
    if not matrix:
        return []
    lines = ["Human access (IAM Identity Center; group -> permission sets, per account):"]
    for account, groups in matrix.items():
        held = "; ".join(f"{group}: {', '.join(sets)}" for group, sets in sorted(groups.items()))
        lines.append(f"  {account}: {held or 'nobody'}")
    return lines


def matrix_markdown(settings: StackSettings) -> list[str]:
    matrix = access_matrix(settings)
    if not matrix:
        return []
    identity_center = _identity_center(settings)
    assert identity_center is not None
    groups = [group.name for group in identity_center.groups]
    lines = ["### Human access (IAM Identity Center)", "", "| account | " + " | ".join(groups) + " |"]
    lines.append("|---|" + "---|" * len(groups))
    for account, held in matrix.items():
        cells = [", ".join(f"`{name}`" for name in held.get(group, [])) or "-" for group in groups]
        lines.append(f"| {account} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def matrix_json(settings: StackSettings) -> dict[str, Any] | None:
    identity_center = _identity_center(settings)
    if identity_center is None:
        return None
    return {
        "matrix": access_matrix(settings),
        "grants": [vars(grant) for grant in expand(settings)],
        "permissionSets": {
            permission_set.name: {
                "sessionDuration": session_duration(permission_set),
                "managedPolicyArns": sorted(permission_set.managed_policy_arns),
                "readOnly": permission_set.read_only,
            }
            for permission_set in identity_center.permission_sets
        },
    }
