"""Human access, attacked: edits to the access settings that the settings cannot refuse (a group's kind, which
identity-store group a name stands for, which accounts are production) must show in ``docustack plan --base``.

A grant is named by the settings' group name, so an edit that changes what a name stands for leaves every grant
as it was: only the comparison of the groups and of the production accounts tells the reviewer.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from docustack import access_diff
from docustack.settings import parse_settings

Raw = dict[str, Any]


def _ic(raw: Raw) -> Raw:
    return raw["organization"]["identityCenter"]


def _group(raw: Raw, name: str) -> Raw:
    return next(entry for entry in _ic(raw)["groups"] if entry["name"] == name)


def _compare(before: Raw, after: Raw, project_dir: Path) -> access_diff.AccessDiff:
    policies = project_dir / "policies"
    return access_diff.compare(parse_settings(before), policies, parse_settings(after), policies, "main")


def test_swapping_two_groups_display_names_shows(management_raw: Raw, project_dir: Path) -> None:
    """The developers' identity-store group becomes "platform": every grant keeps its settings name, so only the
    groups' own change tells the reviewer that developers now hold PlatformAdministrator in prod."""
    before = copy.deepcopy(management_raw)
    developers, platform = _group(management_raw, "developers"), _group(management_raw, "platform")
    developers["displayName"], platform["displayName"] = platform["displayName"], developers["displayName"]
    diff = _compare(before, management_raw, project_dir)
    assert not diff.empty
    text = access_diff.render_text(diff)
    assert (
        "group platform" in text
        and 'displayName: "DocuStack Platform Administrators" -> "DocuStack Developers"' in text
    )
    assert "group developers" in text
    assert "group platform" in access_diff.render_markdown(diff)
    assert {entry["name"] for entry in diff.as_json()["groups"]} == {"developers", "platform"}


def test_a_changed_group_kind_shows(management_raw: Raw, project_dir: Path) -> None:
    before = copy.deepcopy(management_raw)
    _group(management_raw, "developers")["kind"] = "platform"
    text = access_diff.render_text(_compare(before, management_raw, project_dir))
    assert "group developers" in text and 'kind: "developer" -> "platform"' in text


def test_a_narrowed_production_list_shows(management_raw: Raw, project_dir: Path) -> None:
    management_raw["organization"]["organizationalUnits"][2]["children"] = [{"name": "Prod"}]
    management_raw["organization"]["accounts"].append(
        {"name": "prod-eu", "email": "prod-eu@docustack.example", "ou": "Workloads/Prod"}
    )
    _ic(management_raw)["production"] = ["account:prod", "ou:Workloads/Prod"]
    before = copy.deepcopy(management_raw)
    _ic(management_raw)["production"] = ["account:prod", "account:prod-eu"]  # the same accounts: no change
    assert _compare(before, management_raw, project_dir).empty
    _ic(before)["production"] = ["account:prod", "account:prod-eu", "account:staging"]
    diff = _compare(before, management_raw, project_dir)
    text = access_diff.render_text(diff)
    assert "staging is no longer production" in text
    assert diff.as_json()["production"] == [{"account": "staging", "change": "removed"}]


def test_a_display_name_cannot_break_the_pull_request_table(management_raw: Raw, project_dir: Path) -> None:
    """The markdown goes into a pull-request comment: a display name with a cell separator or markup would split
    the row or hide text, so each cell is escaped as the guardrail tables' are."""
    before = copy.deepcopy(management_raw)
    _group(management_raw, "developers")["displayName"] = "Devs | prod <b>admins</b>"
    markdown = access_diff.render_markdown(_compare(before, management_raw, project_dir))
    (row,) = [line for line in markdown.splitlines() if "group developers" in line]
    assert "Devs \\| prod &lt;b&gt;admins&lt;/b&gt;" in row
    assert row.count("|") - row.count("\\|") == 4  # | change | group or account | detail |: three cells
