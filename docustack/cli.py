"""``docustack``: the project's one command.

    docustack [--project-dir DIR] COMMAND ...
                                         DIR: the folder with Pulumi.yaml (default: found from here up)
    docustack plan [--stack NAME] [--format text|markdown|json] [--base REF]
                                         offline plan of one stack, or of every stack; with --base, what
                                         the change since git revision REF does to the guardrails and
                                         to human access (who holds which permission set where)
    docustack bootstrap --stack NAME [--profile P]
                                         before a stack's first `pulumi up`: make its state bucket and key
                                         in its own account (boto3, the current AWS credentials and region)
    docustack adopt-check --stack NAME [--format text|json] [--profile P]
                                         before a stack's first `pulumi up`: every difference between the
                                         live resources it adopts and the settings, which that `up` would
                                         write (docustack/adoption.py)
    docustack simulate [--stack NAME] --account NAME|ID --action ACTION [--region R] [--resource ARN]
                       [--resource-account NAME|ID] [--principal ARN|SERVICE] [--role-path PATH]
                       [--as-permission-set NAME] [--context KEY=VALUE ...] [--absent KEY ...] [--json]
                                         would the caller's SCPs or the resource account's RCPs deny this
                                         request, and by which policy, statement and target?
                                         (--as-permission-set: as the role of an Identity Center permission set)
    docustack ci-context --role read-only|verify|deploy (--stack NAME | --matrix)
                                         what a CI job needs for a stack (role ARN, login URL, secrets
                                         provider), or the stacks ready for such jobs
    docustack verify --stack NAME [--format text|json|markdown] [--output FILE] [--summary FILE]
                     [--member-role NAME] [--profile P]
                                         read-only checks of the live account against the stack's config
                                         (docs/verify.md)

Exit codes: 0 done (for ``simulate``: the request is allowed), 1 bad config, bootstrap refused or failed, a
``plan --base`` revision git does not know, or (``simulate``) the request is denied, 2 bad usage (a ``--base``
that begins with ``-`` included) (an option given twice with different values, an option that
contradicts another, an empty value; for ``simulate`` also: a request it cannot decide exactly, a value with a
control character; for every command: an error nobody foresaw, reported as "could not finish", never a
traceback), 130 interrupted (Ctrl-C).
``verify`` has its own: 0 compliant, 1 drift, 2 something could not be checked (an AWS error, missing
permission, a bad or unreadable stack file, or a refusal to run), even when drift was found elsewhere.
``adopt-check`` likewise: 0 no differences, 1 differences, 2 something could not be read (or it refused to run).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from docustack import access, access_diff, adoption, ci_context, guardrail_diff, simulator, verify
from docustack import plan as plan_module
from docustack.bootstrap import BootstrapError, bootstrap, next_steps
from docustack.project import ProjectError, find_project_dir, load_stack_settings, stack_names
from docustack.settings import REGION, SettingsError, StackSettings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
# Action names are case-insensitive (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
ACTION = re.compile(r"^[a-z0-9-]+:[a-z0-9]+$", re.IGNORECASE)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse's usage errors (2, message printed) and --help (0)
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        project_dir = args.project_dir.resolve() if args.project_dir else find_project_dir()
        if project_dir.exists() and not project_dir.is_dir():
            raise ProjectError(f"{project_dir} is a file, not the project folder (the folder with Pulumi.yaml)")
        if not (project_dir / "Pulumi.yaml").is_file():
            raise ProjectError(f"{project_dir} has no Pulumi.yaml: not the project folder")
        return args.handler(args, project_dir)
    except (SettingsError, ProjectError, BootstrapError) as error:
        print(f"error: {error}", file=sys.stderr)
        # verify's and adopt-check's exit 1 means drift or differences: a project they cannot read is "not
        # verified" / "not read"
        if args.handler is _verify:
            return verify.EXIT_NOT_VERIFIED
        return adoption.EXIT_NOT_READ if args.handler is _adopt_check else EXIT_FAILED
    except KeyboardInterrupt:
        print("error: interrupted; nothing after this point was done", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # a case no handler foresaw: say it could not finish, never "done" or a traceback
        print(f"error: {args.command} could not finish: unexpected {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_USAGE


class _Once(argparse.Action):
    """A single-valued option: given twice with different values it is a contradiction, not "the last one wins"."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        # Required options, --base and --region have their own checks, which name what the value must be.
        if values == "" and not self.required and self.dest not in ("base", "region"):
            parser.error(f"{option_string} needs a value; an empty one would silently mean the default")
        given: set[str] = namespace.__dict__.setdefault("_given_once", set())
        if self.dest in given and getattr(namespace, self.dest) != values:
            parser.error(
                f"{option_string} is given twice with different values "
                f"({getattr(namespace, self.dest)!s} and {values!s}); give it once"
            )
        given.add(self.dest)
        setattr(namespace, self.dest, values)


class _Parser(argparse.ArgumentParser):
    """Every option that takes one value takes it once (:class:`_Once`); subcommands' parsers are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _Once)
        self.register("action", "store", _Once)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="docustack", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--project-dir", type=Path, help="the folder with Pulumi.yaml (default: found from here)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND", dest="command")

    plan = commands.add_parser("plan", help="offline plan of the stacks (no AWS account needed)")
    plan.add_argument("--stack", help="one stack (default: all of them)")
    plan.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    plan.add_argument("--base", metavar="REF", help="compare the guardrails and human access with this git revision")
    plan.set_defaults(handler=_plan)

    boot = commands.add_parser("bootstrap", help="make a stack's state bucket and key before its first `pulumi up`")
    boot.add_argument("--stack", required=True, help="the stack whose account the credentials are for")
    boot.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    boot.set_defaults(handler=_bootstrap)

    adopt = commands.add_parser(
        "adopt-check", help="before the first `pulumi up`: what it would write over the resources it adopts"
    )
    adopt.add_argument("--stack", required=True, help="the stack whose account the credentials are for")
    adopt.add_argument("--format", choices=("text", "json"), default="text")
    adopt.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    adopt.set_defaults(handler=_adopt_check)

    simulate = commands.add_parser("simulate", help="evaluate a request against the SCPs and RCPs in effect")
    simulate.add_argument("--stack", default="management", help="the stack that owns the organization")
    simulate.add_argument(
        "--account",
        required=True,
        help="the caller's account: member account name or ID, the management account, or the ID of an account "
        "outside the organization (for a service principal or web identity: the account called)",
    )
    simulate.add_argument("--action", required=True, help="e.g. s3:PutObject")
    simulate.add_argument("--region", default="us-east-1")
    simulate.add_argument(
        "--resource",
        help="resource ARN, or * for an action that takes no resource (default: none; a statement that names "
        "resources then makes the decision refuse)",
    )
    simulate.add_argument(
        "--resource-account",
        metavar="NAME|ID",
        help="the account that holds the resource, whose RCPs apply (default: the ARN's account; for * the "
        "caller's; an ARN without one, such as S3's, is decided for every account it could be in)",
    )
    simulate.add_argument(
        "--principal",
        help="principal ARN: role, user, root, or a role session with --role-path; an AWS service principal "
        "(cloudtrail.amazonaws.com); or a web identity by its OIDC provider's ARN "
        "(default: arn:aws:iam::<account>:role/docustack-simulated-principal)",
    )
    simulate.add_argument(
        "--role-path", metavar="PATH", help="the role's path (e.g. / or /ops/) when --principal is a role session ARN"
    )
    simulate.add_argument(
        "--as-permission-set",
        metavar="NAME",
        help="the principal is the role IAM Identity Center makes in the account for this permission set "
        "(AWSReservedSSO_<NAME>_<suffix>); it must be assigned there",
    )
    simulate.add_argument(
        "--context", action="append", default=[], metavar="KEY=VALUE", help="a request context key; repeatable"
    )
    simulate.add_argument(
        "--absent", action="append", default=[], metavar="KEY", help="a context key the request does not carry"
    )
    simulate.add_argument("--json", action="store_true", help="print the decision as JSON")
    simulate.set_defaults(handler=_simulate)

    ci = commands.add_parser("ci-context", help="role, login URL and secrets provider of a stack, for CI jobs")
    ci.add_argument("--role", choices=("read-only", "verify", "deploy"), required=True)
    target = ci.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="print key=value lines for $GITHUB_OUTPUT")
    target.add_argument("--matrix", action="store_true", help="print stacks=[...] (JSON) of the ready stacks")
    ci.set_defaults(handler=_ci_context)

    check = commands.add_parser("verify", help="read-only checks of the live account against the stack's config")
    check.add_argument("--stack", required=True, help="the stack whose account to check")
    check.add_argument("--format", choices=sorted(verify.RENDERERS), default="text")
    check.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--summary", type=Path, metavar="FILE", help="also append the report as Markdown to FILE")
    check.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    check.add_argument(
        "--member-role",
        metavar="NAME",
        help="role assumed (with a ReadOnlyAccess session policy) to read member accounts "
        "(default: <prefix>-readonly, which the management stack and its member read-only StackSet make in them)",
    )
    check.set_defaults(handler=_verify)
    return parser


def _plan(args: argparse.Namespace, project_dir: Path) -> int:
    if args.base is not None:
        try:
            guardrail_diff.check_revision(args.base)
        except guardrail_diff.UnsafeRevision as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    stacks = [args.stack] if args.stack is not None else stack_names(project_dir)
    planned: list[plan_module.StackPlan] = []
    errors: dict[str, str] = {}
    for stack in stacks:
        try:
            planned.append(plan_module.plan_stack(project_dir, stack))
        except (SettingsError, ProjectError) as error:
            errors[stack] = str(error)
    try:
        diff = guardrail_diff.compare_with_revision(project_dir, args.base) if args.base else None
        access_changes = access_diff.compare_with_revision(project_dir, args.base) if args.base else None
    except (OSError, tarfile.TarError) as error:  # no git on PATH; a link in the base revision leaving the folder
        raise ProjectError(f"cannot read revision {args.base!r}: {error}") from None

    if args.format == "json":
        document = {
            "stacks": [plan_module.render_json(stack_plan) for stack_plan in planned],
            "errors": errors,
            "guardrails": diff.as_json() if diff else None,
            "access": access_changes.as_json() if access_changes else None,
        }
        print(json.dumps(document, indent=2, sort_keys=True))
    elif args.format == "markdown":
        parts = [plan_module.render_markdown(stack_plan) for stack_plan in planned]
        parts += [f"## Stack `{stack}`: not planned\n\n```\n{error}\n```\n" for stack, error in errors.items()]
        if diff:
            parts.append(guardrail_diff.render_markdown(diff))
        if access_changes:
            parts.append(access_diff.render_markdown(access_changes))
        print("\n".join(parts))
    else:
        parts = [plan_module.render_text(stack_plan) for stack_plan in planned]
        parts += [f"Stack {stack}: NOT PLANNED\nerror: {error}" for stack, error in errors.items()]
        if diff:
            parts.append(guardrail_diff.render_text(diff))
        if access_changes:
            parts.append(access_diff.render_text(access_changes))
        print("\n\n".join(parts))
    if errors:
        print(f"\n{len(errors)} of {len(stacks)} stack(s) have errors", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _bootstrap(args: argparse.Namespace, project_dir: Path) -> int:
    settings = load_stack_settings(project_dir, args.stack)
    try:
        session = boto3.Session(profile_name=args.profile)
    except BotoCoreError as error:
        raise BootstrapError(str(error)) from None
    result = bootstrap(settings, args.stack, session, management=_management_settings(project_dir))
    print(next_steps(settings, args.stack, result))
    return EXIT_OK


def _adopt_check(args: argparse.Namespace, project_dir: Path) -> int:
    try:
        settings = load_stack_settings(project_dir, args.stack)
        session = boto3.Session(profile_name=args.profile, region_name=settings.account.region)
        comparison = adoption.compare(settings, args.stack, session, management=_management_settings(project_dir))
    except (SettingsError, ProjectError, adoption.AdoptionRefused, BotoCoreError) as error:
        print(f"error: not compared: {error}", file=sys.stderr)
        return adoption.EXIT_NOT_READ
    rendered = json.dumps(comparison.as_json(), indent=2) + "\n" if args.format == "json" else comparison.render_text()
    print(rendered, end="")
    return comparison.exit_code


def _management_settings(project_dir: Path) -> StackSettings | None:
    """The settings of the stack that owns the organization, if one of the project's stacks does and they load."""
    for stack in stack_names(project_dir):
        try:
            candidate = load_stack_settings(project_dir, stack)
        except (SettingsError, ProjectError):
            continue
        if candidate.is_management:
            return candidate
    return None


def _simulate(args: argparse.Namespace, project_dir: Path) -> int:
    settings = load_stack_settings(project_dir, args.stack)
    if not settings.is_management:
        print(f"error: stack {args.stack!r} does not own the organization; use --stack management", file=sys.stderr)
        return EXIT_USAGE
    for option, value in (
        ("--action", args.action),
        ("--region", args.region),
        ("--resource", args.resource),
        ("--principal", args.principal),
        ("--role-path", args.role_path),
        ("--as-permission-set", args.as_permission_set),
        ("--resource-account", args.resource_account),
        *(("--context", item) for item in args.context),
        *(("--absent", item) for item in args.absent),
    ):
        # A pasted value with a trailing newline or a tab would otherwise slip past patterns anchored with "$".
        if value is not None and any(ord(c) < 0x20 or c == "\x7f" for c in value):
            print(f"error: {option} {value!r} has a control character (a newline, a tab)", file=sys.stderr)
            return EXIT_USAGE
    if not ACTION.fullmatch(args.action):
        print(f"error: --action {args.action!r} must be service:Action, e.g. s3:PutObject", file=sys.stderr)
        return EXIT_USAGE
    if not REGION.fullmatch(args.region):
        print(f"error: --region {args.region!r} is not an AWS region name such as us-east-1", file=sys.stderr)
        return EXIT_USAGE
    context: dict[str, str] = {}
    for item in args.context:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --context {item!r} must be KEY=VALUE", file=sys.stderr)
            return EXIT_USAGE
        if key in context and context[key] != value:
            print(f"error: --context {key} is given twice with different values", file=sys.stderr)
            return EXIT_USAGE
        context[key] = value
    try:
        model = simulator.OrganizationModel.from_settings(settings, policy_dir=project_dir / "policies")
        place = model.locate(args.account)
        if place.kind == "outside" and not args.principal and args.as_permission_set is None:
            raise simulator.InvalidRequest(f"account {args.account} is outside the organization: give --principal")
        account = place.node
        if args.as_permission_set is not None:
            if place.kind == "outside":
                raise simulator.InvalidRequest(
                    f"account {args.account} is outside the organization, where Identity Center makes no roles"
                )
            if args.principal is not None or args.role_path is not None:
                raise simulator.InvalidRequest(
                    "--as-permission-set names the principal: give no --principal or --role-path"
                )
            args.principal = _permission_set_principal(settings, account, args.as_permission_set)
        principal = args.principal or _default_principal(settings.account.id, account)
        principal_arn = simulator.principal_arn_in_context(principal, args.role_path)
        if place.kind != "outside":
            _check_principal_account(principal_arn, settings.account.id, account)
            # An account without an ID yet is not one whose ID the settings give another account.
            mismatch = model.not_account(place, principal_arn.split(":")[4]) if principal_arn else None
            if mismatch is not None:
                raise simulator.InvalidRequest(
                    f"--principal is in account {principal_arn.split(':')[4]}, but {mismatch}; SCPs apply to a "
                    "principal through its own account, so give --account for that account"
                )
        elif principal_arn and principal_arn.split(":")[4] != args.account:
            raise simulator.InvalidRequest(
                f"--principal is in account {principal_arn.split(':')[4]}, but --account is {args.account}"
            )
        request = simulator.Request(
            action=args.action,
            account=args.account,
            region=args.region,
            principal_arn=principal,
            resource=args.resource,
            context=context,
            absent=frozenset(args.absent),
            role_path=args.role_path,
            resource_account=args.resource_account,
        )
        decision = simulator.evaluate(model, request)
    except (simulator.UnknownAccount, simulator.InvalidRequest, simulator.UnsupportedPolicy) as error:
        print(f"error: cannot decide: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(
            json.dumps(
                {
                    "decision": decision.verdict,
                    "reason": decision.reason,
                    "deniedBy": [
                        {"policy": m.policy, "policyType": m.policy_type, "sid": m.sid, "target": m.target}
                        for m in decision.denied_by
                    ],
                    "levels": list(decision.levels),
                    "resourceAccount": decision.resource_account,
                    "rcpLevels": list(decision.rcp_levels),
                    "principalArn": principal_arn,
                    "absentKeys": list(decision.absent_keys),
                },
                indent=2,
            )
        )
    else:
        print(f"{decision.verdict.upper()}: {decision.reason}")
        if decision.levels:
            print(f"  SCPs evaluated: {' -> '.join(decision.levels)}")
        if decision.rcp_levels:
            print(f"  RCPs evaluated ({decision.resource_account}): {' -> '.join(decision.rcp_levels)}")
        if principal_arn and (principal_arn != principal or args.as_permission_set is not None):
            print(f"  aws:PrincipalArn: {principal_arn}")
        if decision.absent_keys:
            print(f"  taken as absent from the request: {', '.join(decision.absent_keys)}")
    return EXIT_OK if decision.allowed else EXIT_FAILED


def _permission_set_principal(
    settings: StackSettings, account: simulator.AccountNode | None, permission_set: str
) -> str:
    """The role Identity Center makes for ``permission_set`` in the account, when the settings assign it there. Its
    name ends in 16 hexadecimal digits that are known only once it exists; the guardrails name no such suffix, so
    any stands for it (:data:`access.SIMULATED_ROLE_SUFFIX`)."""
    name = settings.account.name if account is None else account.name
    account_id = settings.account.id if account is None else simulator.known_account_id(account)
    held = sorted({grant.permission_set for grant in access.expand(settings) if grant.account == name})
    if permission_set not in held:
        raise simulator.InvalidRequest(
            f"no group holds the permission set {permission_set!r} in account {name!r}, so its role does not exist "
            f"there (held there: {', '.join(held) or 'nothing'}; organization.identityCenter)"
        )
    if account_id is None:
        raise simulator.InvalidRequest(f"account {name!r} has no ID in the settings yet")
    return access.reserved_role_arn(
        account_id, permission_set, access.instance_region(settings), access.SIMULATED_ROLE_SUFFIX
    )


def _default_principal(management_id: str, account: simulator.AccountNode | None) -> str:
    """A role in the account, when the account's ID is known; otherwise the principal must be given."""
    account_id = management_id if account is None else simulator.known_account_id(account)
    if account_id is None:
        assert account is not None
        raise simulator.InvalidRequest(
            f"account {account.name!r} has no ID in the settings yet: pass --principal with an ARN in that account"
        )
    return f"arn:aws:iam::{account_id}:role/docustack-simulated-principal"


def _check_principal_account(principal_arn: str, management_id: str, account: simulator.AccountNode | None) -> None:
    """The SCPs that apply are those of the principal's own account: a principal elsewhere contradicts --account."""
    if not principal_arn:
        return  # a service principal or a web identity: no principal of an account (the simulator checks the latter)
    account_id = management_id if account is None else simulator.known_account_id(account)
    principal_account = principal_arn.split(":")[4]
    if account_id is not None and principal_account != account_id:
        name = "the management account" if account is None else f"account {account.name!r}"
        raise simulator.InvalidRequest(
            f"--principal is in account {principal_account}, but {name} is {account_id}; SCPs apply to a "
            "principal through its own account, so give --account for that account"
        )


def _ci_context(args: argparse.Namespace, project_dir: Path) -> int:
    if args.matrix:
        ready, skipped = ci_context.ready_stacks(project_dir, args.role)
        for stack, reason in skipped.items():
            print(f"skipped {stack}: {reason}", file=sys.stderr)
        print(ci_context.matrix_output(ready))
        return EXIT_OK
    try:
        context = ci_context.context_for(load_stack_settings(project_dir, args.stack), args.stack, args.role)
    except ci_context.NotReady as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(context.github_output())
    return EXIT_OK


def _verify(args: argparse.Namespace, project_dir: Path) -> int:
    for option, target in (("--output", args.output), ("--summary", args.summary)):
        problem = _output_problem(target, project_dir, replaced=option == "--output") if target is not None else None
        if problem:
            print(f"error: not verified: {option} {target}: {problem}", file=sys.stderr)
            return verify.EXIT_NOT_VERIFIED
    if args.output is not None and args.summary is not None and _same_file(args.output, args.summary):
        print(
            "error: not verified: --output and --summary name the same file; the report would overwrite the summary",
            file=sys.stderr,
        )
        return verify.EXIT_NOT_VERIFIED
    try:
        settings = load_stack_settings(project_dir, args.stack)
    except (SettingsError, ProjectError) as error:
        print(f"error: not verified: {error}", file=sys.stderr)
        return verify.EXIT_NOT_VERIFIED
    except (OSError, ValueError) as error:  # unreadable, or not UTF-8 (UnicodeDecodeError is a ValueError)
        print(f"error: not verified: cannot read Pulumi.{args.stack}.yaml: {error}", file=sys.stderr)
        return verify.EXIT_NOT_VERIFIED
    try:
        session = boto3.Session(profile_name=args.profile, region_name=settings.account.region)
        report = verify.run(settings, args.stack, session, project_dir=project_dir, member_role=args.member_role)
    except (SettingsError, ProjectError, verify.VerifyRefused, BotoCoreError) as error:
        print(f"error: not verified: {error}", file=sys.stderr)
        return verify.EXIT_NOT_VERIFIED
    rendered = verify.RENDERERS[args.format](report)
    try:
        if args.summary:
            # The same report as Markdown, appended (a CI job summary), so evidence and summary cannot differ.
            _append_locked(args.summary, verify.RENDERERS["markdown"](report))
        if args.output:
            _replace_atomically(args.output, rendered)
            print(f"{report.result}: report written to {args.output}", file=sys.stderr)
        else:
            print(rendered, end="")
    except OSError as error:
        print(f"error: not verified: cannot write the report: {error}", file=sys.stderr)
        return verify.EXIT_NOT_VERIFIED
    return report.exit_code


def _output_problem(target: Path, project_dir: Path, *, replaced: bool) -> str | None:
    """Why verify must not write to ``target``, checked before anything is read from AWS. A file the report
    ``replaced`` (``--output``) must be a regular file: renaming a new file over a device or a pipe would replace
    the device node; a summary is appended, so a terminal or a pipe will do."""
    resolved = target.resolve()
    if not resolved.parent.is_dir():
        return f"{target.parent} does not exist"
    if resolved.is_dir():
        return "is a directory"
    if replaced and resolved.exists() and not resolved.is_file():
        return "is not a regular file (a device or a pipe); --output writes a file, stdout is the default"
    if resolved.parent == project_dir.resolve() and (
        resolved.name == "Pulumi.yaml" or (resolved.name.startswith("Pulumi.") and resolved.suffix == ".yaml")
    ):
        return "is one of the project's own files; the report would overwrite it"
    return None


def _same_file(first: Path, second: Path) -> bool:
    return first.resolve() == second.resolve()


def _append_locked(target: Path, text: str) -> None:
    """Append ``text`` under an exclusive lock, so two runs appending to one summary do not interleave."""
    with target.open("a", encoding="utf-8") as stream:
        # A file that takes no lock (some pipes, network file systems) is appended to all the same.
        with contextlib.suppress(OSError):
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX)
        stream.write(text)
        stream.flush()  # the lock goes with the file's closing


def _replace_atomically(target: Path, text: str) -> None:
    """Write a new file beside ``target`` and rename it over ``target``: a reader (or a second run writing the
    same file) sees one whole report, never a mix of two or a half-written one."""
    resolved = target.resolve()
    handle, temporary = tempfile.mkstemp(dir=resolved.parent, prefix=f".{resolved.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would have made it, not mkstemp's 0600
        os.replace(temporary, resolved)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    sys.exit(main())
