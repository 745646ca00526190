"""What a change does to the guardrails: organization policies of every type changed per target, and probe flips.

Each policy is compared element by element on every target it is attached to: an SCP or RCP statement by its
``Sid``; a tag, AI opt-out or declarative policy setting by its key path (``tags/data-classification/tag_value``:
the inheritance operators of one setting, or the child control operator of an object). A policy attached to a new
target shows every element as added there, and as an attachment of its own. Probe flips come from the simulator,
which evaluates the authorization types (SCPs, and RCPs as it learns them); the other types decide no request.

``docustack plan --base REF`` compares this checkout's management settings and policy files with those of
the git revision ``REF``. Only data is taken from the base revision (``Pulumi.management.yaml`` and
``policies/*.json``); both sides are rendered and evaluated by this checkout's code, so the comparison shows
what the change does to the guardrails, not what it does to the tooling.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import policies
from docustack import probes, simulator
from docustack.project import ProjectError, load_stack_settings
from docustack.settings import StackSettings
from policies import management_syntax

MANAGEMENT_STACK = "management"


@dataclass(frozen=True)
class StatementChange:
    """One element of one policy on one target: an SCP/RCP statement, or a management-policy setting."""

    target: str
    policy: str
    sid: str  # the statement's Sid; for the management-policy types, the setting's key path
    change: str  # "added", "removed", "changed"
    before: Any
    after: Any
    type: str = "SERVICE_CONTROL_POLICY"


@dataclass(frozen=True)
class AttachmentChange:
    policy: str
    type: str
    target: str
    change: str  # "attached", "detached"


@dataclass(frozen=True)
class ProbeFlip:
    probe: str
    before: str  # "allowed", "denied", "n/a" (account not in that revision), "undecided" (the simulator refused)
    after: str
    reason: str


@dataclass
class GuardrailDiff:
    base: str
    statements: list[StatementChange] = field(default_factory=list)
    attachments: list[AttachmentChange] = field(default_factory=list)
    flips: list[ProbeFlip] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.statements and not self.attachments and not self.flips

    def as_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "statements": [vars(change) for change in self.statements],
            "attachments": [vars(change) for change in self.attachments],
            "probeFlips": [vars(flip) for flip in self.flips],
        }


# (target, policy name, element: Sid or key path) -> (policy type, the element's rendered value)
Elements = dict[tuple[str, str, str], tuple[str, Any]]


def policy_elements(policy_type: str, document: Any) -> dict[str, Any]:
    """The comparable elements of one rendered document: statements by Sid for SCPs and RCPs, settings by key path
    for the management-policy types."""
    if policy_type in policies.AUTHORIZATION_POLICY_TYPES:
        return {statement.get("Sid", ""): statement for statement in document["Statement"]}
    return management_syntax.setting_paths(document)


def statements_by_target(settings: StackSettings, policy_dir: Path) -> Elements:
    """(target, policy, element) -> (type, rendered element), for every attachment of every policy in the settings."""
    assert settings.organization is not None
    variables = settings.policy_variables()
    found: Elements = {}
    for policy in settings.organization.policies:
        document = policies.render(policies.load(policy.file, policy.type, policy_dir=policy_dir), variables)
        for element, value in policy_elements(policy.type, document).items():
            for target in policy.targets:
                found[(target, policy.name, element)] = (policy.type, value)
    return found


def _attachments(settings: StackSettings) -> dict[tuple[str, str], str]:
    """(policy name, target) -> policy type."""
    assert settings.organization is not None
    return {
        (policy.name, target): policy.type for policy in settings.organization.policies for target in policy.targets
    }


def compare(before: StackSettings, before_dir: Path, after: StackSettings, after_dir: Path, base: str) -> GuardrailDiff:
    diff = GuardrailDiff(base=base)
    old = statements_by_target(before, before_dir)
    new = statements_by_target(after, after_dir)
    for key in sorted(old.keys() | new.keys()):
        target, policy, sid = key
        if key not in new:
            diff.statements.append(StatementChange(target, policy, sid, "removed", old[key][1], None, old[key][0]))
        elif key not in old:
            diff.statements.append(StatementChange(target, policy, sid, "added", None, new[key][1], new[key][0]))
        elif old[key] != new[key]:
            diff.statements.append(
                StatementChange(target, policy, sid, "changed", old[key][1], new[key][1], new[key][0])
            )
    was_attached, now_attached = _attachments(before), _attachments(after)
    for policy, target in sorted(was_attached.keys() - now_attached.keys()):
        diff.attachments.append(AttachmentChange(policy, was_attached[(policy, target)], target, "detached"))
    for policy, target in sorted(now_attached.keys() - was_attached.keys()):
        diff.attachments.append(AttachmentChange(policy, now_attached[(policy, target)], target, "attached"))

    old_model = probes.with_probe_accounts(_model(before, before_dir))
    new_model = probes.with_probe_accounts(_model(after, after_dir))
    for probe in probes.PROBES:
        was, was_reason = _verdict(old_model, probe.request)
        now, now_reason = _verdict(new_model, probe.request)
        if was != now:
            reason = now_reason if now in ("denied", "undecided") else was_reason
            diff.flips.append(ProbeFlip(probe.name, was, now, reason))
    return diff


def compare_with_revision(project_dir: Path, base: str) -> GuardrailDiff:
    """Compare the checkout's guardrails with those of git revision ``base``."""
    after = load_stack_settings(project_dir, MANAGEMENT_STACK)
    with tempfile.TemporaryDirectory(prefix="docustack-base-") as folder:
        base_dir = Path(folder)
        _extract(project_dir, base, base_dir)
        before = load_stack_settings(base_dir, MANAGEMENT_STACK)
        return compare(before, base_dir / "policies", after, project_dir / "policies", base)


def render_text(diff: GuardrailDiff) -> str:
    if diff.empty:
        return f"Guardrails: no change against {diff.base}"
    lines = [f"Guardrails compared with {diff.base}:"]
    for attachment in diff.attachments:
        kind = policies.SHORT_NAMES[attachment.type]
        lines.append(
            f"  {attachment.change:<8} {kind} {attachment.policy} {_preposition(attachment)} {attachment.target}"
        )
    for change in diff.statements:
        kind = policies.SHORT_NAMES[change.type]
        lines.append(f"  {change.change:<8} {kind} {change.policy} ({change.sid}) on {change.target}")
        if change.change == "changed":
            lines += [f"           {line}" for line in _field_changes(change)]
    for flip in diff.flips:
        lines.append(f"  probe    {flip.probe}: {flip.before} -> now {flip.after} ({flip.reason})")
    return "\n".join(lines)


def render_markdown(diff: GuardrailDiff) -> str:
    if diff.empty:
        return f"### Guardrails\n\nNo change to any organization policy or probe decision against `{diff.base}`.\n"
    lines = [f"### Guardrails compared with `{diff.base}`", ""]
    if diff.attachments:
        lines += ["| change | type | policy | target |", "|---|---|---|---|"]
        for attachment in diff.attachments:
            kind = policies.SHORT_NAMES[attachment.type]
            lines.append(f"| {attachment.change} | {kind} | `{attachment.policy}` | `{attachment.target}` |")
        lines.append("")
    if diff.statements:
        lines += ["| change | policy | statement | target | detail |", "|---|---|---|---|---|"]
        for change in diff.statements:
            detail = (
                "<br>".join(markdown_cell(line) for line in _field_changes(change))
                if change.change == "changed"
                else ""
            )
            element = markdown_cell(change.sid)
            if change.type != "SERVICE_CONTROL_POLICY":
                element = f"{element} ({policies.SHORT_NAMES[change.type]})"
            lines.append(f"| {change.change} | `{change.policy}` | `{element}` | `{change.target}` | {detail} |")
        lines.append("")
    if diff.flips:
        lines += ["| probe | before | now | why |", "|---|---|---|---|"]
        for flip in diff.flips:
            lines.append(f"| {flip.probe} | {flip.before} | **{flip.after}** | {flip.reason} |")
        lines.append("")
    return "\n".join(lines)


def _preposition(attachment: AttachmentChange) -> str:
    return "to" if attachment.change == "attached" else "from"


def markdown_cell(text: str) -> str:
    """``text`` safe in a markdown table cell of a pull-request comment: no cell separator, no markup."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _field_changes(change: StatementChange) -> list[str]:
    if not isinstance(change.before, dict) or not isinstance(change.after, dict):
        return [f"{json.dumps(change.before)} -> {json.dumps(change.after)}"]
    before, after = change.before, change.after
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) == after.get(key):
            continue
        old, new = before.get(key), after.get(key)
        if isinstance(old, list) and isinstance(new, list):
            added = [v for v in new if v not in old]
            removed = [v for v in old if v not in new]
            parts = ([f"+{', +'.join(map(str, added))}"] if added else []) + (
                [f"-{', -'.join(map(str, removed))}"] if removed else []
            )
            lines.append(f"{key}: {'; '.join(parts)}")
        else:
            lines.append(f"{key}: {json.dumps(old)} -> {json.dumps(new)}")
    return lines


def _model(settings: StackSettings, policy_dir: Path) -> simulator.OrganizationModel:
    return simulator.OrganizationModel.from_settings(settings, policy_dir=policy_dir)


def _verdict(model: simulator.OrganizationModel, request: simulator.Request) -> tuple[str, str]:
    try:
        decision = simulator.evaluate(model, request)
    except simulator.UnknownAccount:
        return "n/a", f"no account {request.account!r}"
    except (simulator.InvalidRequest, simulator.UnsupportedPolicy) as error:
        return "undecided", str(error)
    return decision.verdict, decision.reason


class UnsafeRevision(ValueError):
    """A ``--base`` value git would read as an option, or that is not a revision name at all."""


def check_revision(revision: str) -> None:
    """Refuse a revision git could take for an option (``-...``) or that is empty or has control characters."""
    if not revision or revision.startswith("-") or any(ord(c) < 0x20 or c == "\x7f" for c in revision):
        raise UnsafeRevision(
            f"--base {revision!r} is not a git revision name (it is empty, starts with '-' or has control characters)"
        )


def _extract(project_dir: Path, revision: str, into: Path) -> None:
    """The base revision's stack file, Pulumi.yaml and policies, unpacked into ``into``.

    The revision is resolved to a commit ID first, so ``git archive`` never sees user text; both commands get it
    after ``--end-of-options`` (git 2.24+), which makes git read it as a revision even if it begins with ``-``.
    """
    check_revision(revision)
    resolved = subprocess.run(
        [
            "git",
            "-C",
            str(project_dir),
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{revision}^{{commit}}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = resolved.stdout.strip()
    if resolved.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", commit):
        message = resolved.stderr.strip() or "no such commit in this repository"
        raise ProjectError(f"cannot read revision {revision!r}: {message}")
    paths = ["Pulumi.yaml", f"Pulumi.{MANAGEMENT_STACK}.yaml", "policies"]
    # After --end-of-options `git archive` takes every argument as tree-ish or path (a "--" would be a path).
    result = subprocess.run(
        ["git", "-C", str(project_dir), "archive", "--format=tar", "--end-of-options", commit, *paths],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise ProjectError(f"cannot read revision {revision!r}: {message}")
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        archive.extractall(into, filter="data")
