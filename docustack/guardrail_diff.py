"""What a change does to the guardrails: SCP statements added, removed or changed per target, and probe flips.

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

MANAGEMENT_STACK = "management"


@dataclass(frozen=True)
class StatementChange:
    target: str
    policy: str
    sid: str
    change: str  # "added", "removed", "changed"
    before: dict[str, Any] | None
    after: dict[str, Any] | None


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
    flips: list[ProbeFlip] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.statements and not self.flips

    def as_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "statements": [vars(change) for change in self.statements],
            "probeFlips": [vars(flip) for flip in self.flips],
        }


def statements_by_target(settings: StackSettings, policy_dir: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(target, policy, Sid) -> the rendered statement, for every SCP attachment in the settings."""
    assert settings.organization is not None
    variables = settings.policy_variables()
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for scp in settings.organization.service_control_policies:
        document = policies.render(policies.load(scp.file, policy_dir=policy_dir), variables)
        for statement in document["Statement"]:
            for target in scp.targets:
                found[(target, scp.name, statement.get("Sid", ""))] = statement
    return found


def compare(before: StackSettings, before_dir: Path, after: StackSettings, after_dir: Path, base: str) -> GuardrailDiff:
    diff = GuardrailDiff(base=base)
    old = statements_by_target(before, before_dir)
    new = statements_by_target(after, after_dir)
    for key in sorted(old.keys() | new.keys()):
        target, policy, sid = key
        if key not in new:
            diff.statements.append(StatementChange(target, policy, sid, "removed", old[key], None))
        elif key not in old:
            diff.statements.append(StatementChange(target, policy, sid, "added", None, new[key]))
        elif old[key] != new[key]:
            diff.statements.append(StatementChange(target, policy, sid, "changed", old[key], new[key]))

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
    for change in diff.statements:
        lines.append(f"  {change.change:<8} {change.policy} ({change.sid}) on {change.target}")
        if change.change == "changed":
            lines += [f"           {line}" for line in _field_changes(change)]
    for flip in diff.flips:
        lines.append(f"  probe    {flip.probe}: {flip.before} -> now {flip.after} ({flip.reason})")
    return "\n".join(lines)


def render_markdown(diff: GuardrailDiff) -> str:
    if diff.empty:
        return f"### Guardrails\n\nNo change to any SCP statement or probe decision against `{diff.base}`.\n"
    lines = [f"### Guardrails compared with `{diff.base}`", ""]
    if diff.statements:
        lines += ["| change | policy | statement | target | detail |", "|---|---|---|---|---|"]
        for change in diff.statements:
            detail = "<br>".join(_field_changes(change)) if change.change == "changed" else ""
            lines.append(f"| {change.change} | `{change.policy}` | `{change.sid}` | `{change.target}` | {detail} |")
        lines.append("")
    if diff.flips:
        lines += ["| probe | before | now | why |", "|---|---|---|---|"]
        for flip in diff.flips:
            lines.append(f"| {flip.probe} | {flip.before} | **{flip.after}** | {flip.reason} |")
        lines.append("")
    return "\n".join(lines)


def _field_changes(change: StatementChange) -> list[str]:
    before, after = change.before or {}, change.after or {}
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
