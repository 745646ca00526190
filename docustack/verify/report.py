"""The verify report: timestamped evidence of what was checked, against which config, by whom, and what was found.

JSON and markdown are the evidence formats (kept as artifacts by the scheduled run); text is for a person at a
terminal. All three carry the same facts.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from docustack.verify.framework import DRIFT, ERROR, OK, Check, Finding, exit_code

SCHEMA_VERSION = 1
RESULTS = {0: "compliant", 1: "drift", 2: "not verified"}
STATUS_ORDER = {ERROR: 0, DRIFT: 1, OK: 2}


@dataclass(frozen=True)
class ConfigRevision:
    """The git revision the stack's config was read at; ``dirty`` when the config files differ from it."""

    revision: str | None
    dirty: bool | None

    def describe(self) -> str:
        if self.revision is None:
            return "unknown (not a git checkout)"
        return f"{self.revision}{' (uncommitted changes to the config)' if self.dirty else ''}"


def config_revision(project_dir: Path, stack: str) -> ConfigRevision:
    """``git rev-parse HEAD`` of the project, and whether the files that make the stack's config are dirty."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True, text=True, check=False)

    try:
        head = git("rev-parse", "HEAD")
    except OSError:  # no git on PATH: the revision is unknown, as outside a checkout
        return ConfigRevision(None, None)
    if head.returncode != 0:
        return ConfigRevision(None, None)
    status = git("status", "--porcelain", "--", "Pulumi.yaml", f"Pulumi.{stack}.yaml", "policies")
    return ConfigRevision(head.stdout.strip(), bool(status.stdout.strip()))


@dataclass(frozen=True)
class Report:
    generated_at: datetime  # UTC
    stack: str
    account_id: str
    account_name: str
    region: str
    caller_arn: str
    member_role: str
    config: ConfigRevision
    checks: tuple[Check, ...]
    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        return exit_code(self.findings)

    @property
    def result(self) -> str:
        return RESULTS[self.exit_code]

    def counts(self) -> dict[str, int]:
        counted = Counter(finding.status for finding in self.findings)
        return {status: counted.get(status, 0) for status in (OK, DRIFT, ERROR)}

    def check_status(self, check: Check) -> str:
        statuses = {finding.status for finding in self.findings if finding.check_id == check.id}
        return min(statuses, key=STATUS_ORDER.__getitem__) if statuses else OK

    def problems(self) -> list[Finding]:
        """Findings that are not ok, errors first."""
        return sorted((f for f in self.findings if f.status != OK), key=lambda f: STATUS_ORDER[f.status])

    def as_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "generatedAt": self.generated_at.isoformat().replace("+00:00", "Z"),
            "stack": self.stack,
            "account": {"id": self.account_id, "name": self.account_name},
            "region": self.region,
            "callerArn": self.caller_arn,
            "memberRole": self.member_role,
            "config": {"revision": self.config.revision, "dirty": self.config.dirty},
            "summary": {"result": self.result, "exitCode": self.exit_code, "checks": len(self.checks), **self.counts()},
            "checks": [
                {"id": check.id, "title": check.title, "status": self.check_status(check)} for check in self.checks
            ],
            "findings": [finding.as_json() for finding in self.findings],
        }


def render_json(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2) + "\n"


def _summary_line(report: Report) -> str:
    counts = report.counts()
    return (
        f"{report.result.upper()}: {len(report.checks)} checks, {counts[OK]} ok, {counts[DRIFT]} drift, "
        f"{counts[ERROR]} could not be checked (exit {report.exit_code})"
    )


def render_text(report: Report) -> str:
    lines = [
        f"docustack verify: stack {report.stack}, account {report.account_id} ({report.account_name}), "
        f"region {report.region}",
        f"  as {report.caller_arn}, config {report.config.describe()}, at {report.as_json()['generatedAt']}",
        "",
    ]
    width = max((len(check.id) for check in report.checks), default=0)
    for check in report.checks:
        lines.append(f"  {report.check_status(check).upper():5}  {check.id:{width}} {check.title}")
    problems = report.problems()
    if problems:
        lines += ["", "Findings:"]
        for finding in problems:
            lines.append(f"  {finding.status.upper()} [{finding.severity}] {finding.check_id} {finding.resource}")
            lines.append(f"      expected: {finding.expected}")
            lines.append(f"      actual:   {finding.actual}")
            if finding.detail:
                lines.append(f"      detail:   {finding.detail}")
    lines += ["", _summary_line(report)]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _table(findings: list[Finding]) -> list[str]:
    rows = ["| Status | Severity | Check | Resource | Expected | Actual | Detail |", "|---|---|---|---|---|---|---|"]
    for f in findings:
        cells = (f.status, f.severity, f.check_id, f.resource, f.expected, f.actual, f.detail)
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return rows


def render_markdown(report: Report) -> str:
    data = report.as_json()
    lines = [
        f"# docustack verify: stack `{report.stack}`",
        "",
        f"**{_summary_line(report)}**",
        "",
        "| | |",
        "|---|---|",
        f"| Generated at (UTC) | {data['generatedAt']} |",
        f"| Account | {report.account_id} ({report.account_name}) |",
        f"| Region | {report.region} |",
        f"| Caller | `{report.caller_arn}` |",
        f"| Config revision | {_cell(report.config.describe())} |",
        f"| Member role (read-only session) | {report.member_role} |",
        "",
        "## Checks",
        "",
        "| Check | Status | What it checks |",
        "|---|---|---|",
        *(f"| {check.id} | {report.check_status(check)} | {_cell(check.title)} |" for check in report.checks),
        "",
    ]
    problems = report.problems()
    if problems:
        lines += ["## Drift and errors", "", *_table(problems), ""]
    lines += ["## All findings", "", *_table(list(report.findings)), ""]
    return "\n".join(lines)


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
