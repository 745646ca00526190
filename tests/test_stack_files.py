"""Stack files that cannot be read: a clear error naming the file and the reason, the right exit code, no hang."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from docustack import cli, offline, plan, project
from docustack.project import ProjectError, StackFileError

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
config:
  docustack:settings: *i
"""


@pytest.fixture
def copy(project_dir: Path, tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py", *(p.name for p in project_dir.glob("Pulumi.*.yaml"))):
        shutil.copy(project_dir / name, tmp_path / name)
    shutil.copytree(project_dir / "policies", tmp_path / "policies")
    return tmp_path


def test_a_file_that_is_not_utf8_names_the_file_and_the_byte(copy: Path) -> None:
    stack_file = copy / "Pulumi.dev.yaml"
    stack_file.write_bytes(stack_file.read_bytes().replace(b"region: us-east-1", b"region: us-east-1 # caf\xe9", 1))
    with pytest.raises(StackFileError, match=r"Pulumi.dev.yaml is not UTF-8 text \(byte 0xe9 at offset \d+\)"):
        project.read_stack_config(copy, "dev")


def test_the_billion_laughs_is_refused_quickly(copy: Path) -> None:
    (copy / "Pulumi.dev.yaml").write_text(BILLION_LAUGHS)
    started = time.perf_counter()
    with pytest.raises(
        StackFileError, match=r"Pulumi\.dev\.yaml: the document expands to more than 100,000 YAML nodes"
    ):
        project.read_stack_config(copy, "dev")
    assert time.perf_counter() - started < 2


def test_a_few_aliases_are_fine(copy: Path) -> None:
    (copy / "Pulumi.dev.yaml").write_text("shared: &tags {team: platform}\nconfig:\n  a: *tags\n  b: *tags\n")
    assert project.read_stack_config(copy, "dev") == {"a": {"team": "platform"}, "b": {"team": "platform"}}


def test_a_recursive_alias_is_refused(copy: Path) -> None:
    (copy / "Pulumi.dev.yaml").write_text("config: &c\n  loop: *c\n")
    with pytest.raises(StackFileError, match="a recursive anchor"):
        project.read_stack_config(copy, "dev")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config: [1, 2\n", "is not valid YAML"),
        ("- 1\n- 2\n", "'config' must be a map"),
        ("config: 3\n", "'config' must be a map"),
        ("a: 1\n---\nb: 2\n", "is not valid YAML"),
    ],
)
def test_other_malformed_files(copy: Path, text: str, message: str) -> None:
    (copy / "Pulumi.dev.yaml").write_text(text)
    with pytest.raises(StackFileError, match=message):
        project.read_stack_config(copy, "dev")


def test_deep_nesting_is_refused_not_a_crash(copy: Path) -> None:
    (copy / "Pulumi.dev.yaml").write_text("config:\n  a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(StackFileError, match=r"Pulumi\.dev\.yaml"):
        project.read_stack_config(copy, "dev")


def test_an_empty_file_has_no_config(copy: Path) -> None:
    (copy / "Pulumi.dev.yaml").write_text("")
    assert project.read_stack_config(copy, "dev") == {}


def test_a_missing_stack_is_a_project_error_not_a_file_error(copy: Path) -> None:
    with pytest.raises(ProjectError) as caught:
        project.read_stack_config(copy, "qa")
    assert not isinstance(caught.value, StackFileError)


def test_the_c_loader_is_used_when_present() -> None:
    if getattr(yaml, "__with_libyaml__", False):
        assert project.SafeLoader is yaml.CSafeLoader
    else:
        assert project.SafeLoader is yaml.SafeLoader


def test_plan_of_every_stack_parses_each_stack_file_once(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The YAML of each file is parsed once per process, however often the commands need the file."""
    parsed: list[str] = []
    original = project._parse_document

    def counting(file: str, text: str) -> object:
        parsed.append(file)
        return original(file, text)

    project._parsed.cache_clear()
    monkeypatch.setattr(project, "_parse_document", counting)
    monkeypatch.setattr(plan.offline, "run_program", lambda program, *, stack, config: offline.Plan(stack))
    for stack in project.stack_names(copy):
        plan.plan_stack(copy, stack)
        plan.plan_stack(copy, stack)
    assert sorted(parsed) == sorted(p.name for p in copy.glob("Pulumi.*.yaml"))
    # A changed file is parsed again, and callers get copies they may change.
    (copy / "Pulumi.dev.yaml").write_text("config:\n  a: 1\n")
    config = project.read_stack_config(copy, "dev")
    config["a"] = 2
    assert project.read_stack_config(copy, "dev") == {"a": 1}
    assert parsed.count("Pulumi.dev.yaml") == 2


@pytest.mark.parametrize(
    "command",
    [
        ["plan"],
        ["plan", "--stack", "dev"],
        ["ci-context", "--role", "read-only", "--stack", "dev"],
        ["bootstrap", "--stack", "dev"],
        ["simulate", "--stack", "dev", "--account", "dev", "--action", "s3:GetObject"],
    ],
)
@pytest.mark.parametrize("content", ["latin1", "bomb"])
def test_every_command_exits_1_with_the_file_named(
    copy: Path, capsys: pytest.CaptureFixture[str], command: list[str], content: str
) -> None:
    stack_file = copy / "Pulumi.dev.yaml"
    if content == "latin1":
        stack_file.write_bytes(b"config:\n  note: caf\xe9\n")
    else:
        stack_file.write_text(BILLION_LAUGHS)
    assert cli.main(["--project-dir", str(copy), *command]) == 1
    captured = capsys.readouterr()
    assert "Pulumi.dev.yaml" in captured.out + captured.err
    assert "Traceback" not in captured.err


def test_plan_on_a_billion_laughs_does_not_hang_in_a_process(copy: Path) -> None:
    (copy / "Pulumi.dev.yaml").write_text(BILLION_LAUGHS)
    result = subprocess.run(
        [sys.executable, "-m", "docustack.cli", "--project-dir", str(copy), "plan", "--stack", "dev"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Pulumi.dev.yaml: the document expands to more than 100,000 YAML nodes" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_pure_python_loader_gives_the_same_refusals(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project, "SafeLoader", yaml.SafeLoader)
    (copy / "Pulumi.dev.yaml").write_text(BILLION_LAUGHS)
    with pytest.raises(StackFileError, match="expands to more than"):
        project.read_stack_config(copy, "dev")
    (copy / "Pulumi.dev.yaml").write_text("config:\n  a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(StackFileError, match="nested too deeply"):
        project.read_stack_config(copy, "dev")
    assert project.read_stack_config(copy.parent / copy.name, "staging") == project.read_stack_config(
        Path(__file__).resolve().parent.parent, "staging"
    )


def test_verify_reports_not_verified_not_drift(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """verify's exit 2 ("could not be checked"): the StackFileError is a ProjectError, which verify maps to 2."""
    (copy / "Pulumi.dev.yaml").write_bytes(b"config:\n  note: caf\xe9\n")
    assert cli.main(["--project-dir", str(copy), "verify", "--stack", "dev"]) == 2
    assert "error: not verified: Pulumi.dev.yaml is not UTF-8 text" in capsys.readouterr().err
