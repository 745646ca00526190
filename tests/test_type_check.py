"""The type checker that ``make test`` runs catches a wrong argument to a pulumi_aws resource.

basedpyright runs once over scratch modules with the project's own ``[tool.pyright]`` settings: a file with
three planted mistakes (a misspelt keyword, a wrong type, a value of unknown type) placed where the settings ask
for strict mode (``components/``) and again outside it, and a correct twin that must come out clean, so the
test cannot pass because everything fails (an unresolved import, say). ``make test`` itself runs the checker
over the real code; this test guards the settings against being loosened.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASEDPYRIGHT = Path(sys.executable).parent / "basedpyright"

# A small service package keeps the run short: the checker reads the whole package a module comes from.
CORRECT = """
import pulumi_aws as aws


def trail(name: str, bucket: str) -> aws.cloudtrail.Trail:
    return aws.cloudtrail.Trail(name, s3_bucket_name=bucket, enable_log_file_validation=True)
"""

PLANTED = """
import pulumi_aws as aws


def misspelt(name: str, bucket: str) -> aws.cloudtrail.Trail:
    return aws.cloudtrail.Trail(name, s3_bucket=bucket)  # LINE misspelt keyword


def mistyped(name: str, bucket: str) -> aws.cloudtrail.Trail:
    return aws.cloudtrail.Trail(name, s3_bucket_name=bucket, enable_log_file_validation="true")  # LINE wrong type


def unknown(name: str, settings: dict) -> aws.cloudtrail.Trail:  # a bare dict: its values are of unknown type
    return aws.cloudtrail.Trail(name, s3_bucket_name=settings["bucket"])  # LINE unknown type
"""


@pytest.fixture(scope="module")
def errors_by_file(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """One checker run (it costs seconds) over the planted file in a strict path and outside, and the twin."""
    tmp_path = tmp_path_factory.mktemp("typecheck")
    files = {"components/planted.py": PLANTED, "components/correct.py": CORRECT, "elsewhere/planted.py": PLANTED}
    settings = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["pyright"]
    settings = {key: value for key, value in settings.items() if key not in ("venvPath", "venv")}
    settings["include"] = sorted({name.split("/")[0] for name in files})
    lines = [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    (tmp_path / "pyproject.toml").write_text("[tool.pyright]\n" + "\n".join(lines) + "\n")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [str(BASEDPYRIGHT), "--outputjson", "--pythonpath", sys.executable, "-p", str(tmp_path / "pyproject.toml")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(result.stdout)
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in files}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            found[Path(diagnostic["file"]).relative_to(tmp_path.resolve()).as_posix()].append(diagnostic)
    return found


def _rules_by_line(errors: list[dict[str, Any]]) -> dict[int, set[str]]:
    """Line (0-based, as the JSON report counts) to the rules reported there."""
    rules: dict[int, set[str]] = {}
    for error in errors:
        rules.setdefault(error["range"]["start"]["line"], set()).add(error.get("rule", ""))
    return rules


PLANTED_LINES = sorted(i for i, line in enumerate(PLANTED.splitlines()) if "# LINE" in line)


def test_the_project_settings_report_each_planted_mistake(errors_by_file: dict[str, list[dict[str, Any]]]) -> None:
    misspelt, mistyped, unknown = PLANTED_LINES
    rules = _rules_by_line(errors_by_file["components/planted.py"])
    assert "reportCallIssue" in rules.get(misspelt, set()), errors_by_file
    assert "reportArgumentType" in rules.get(mistyped, set()), errors_by_file
    assert "reportUnknownArgumentType" in rules.get(unknown, set()), errors_by_file


def test_the_correct_twin_is_clean(errors_by_file: dict[str, list[dict[str, Any]]]) -> None:
    assert errors_by_file["components/correct.py"] == []


def test_strict_mode_is_what_catches_the_unknown_value(errors_by_file: dict[str, list[dict[str, Any]]]) -> None:
    """Outside the strict paths the unknown value passes: the strict list is doing that work."""
    misspelt, mistyped, unknown = PLANTED_LINES
    rules = _rules_by_line(errors_by_file["elsewhere/planted.py"])
    assert unknown not in rules, errors_by_file
    # the other two are reported in standard mode too
    assert "reportCallIssue" in rules.get(misspelt, set()), errors_by_file
    assert "reportArgumentType" in rules.get(mistyped, set()), errors_by_file
