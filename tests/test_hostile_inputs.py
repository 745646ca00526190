"""Every command against odd files and odd flags: a clear error naming the file or option, the documented exit
code, never a traceback, never an answer for what was not read."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from policy_files import policy_type_of

import policies
from docustack import cli, project
from docustack import plan as plan_module
from docustack.project import StackFileError

# Every command that reads the stack files, and the code each gives for "cannot read the project".
COMMANDS: dict[str, tuple[list[str], int]] = {
    "plan": (["plan"], 1),
    "simulate": (["simulate", "--account", "dev", "--action", "s3:GetObject", "--resource", "*"], 1),
    "ci-context": (["ci-context", "--role", "read-only", "--matrix"], 1),
    "bootstrap": (["bootstrap", "--stack", "management"], 1),
    "adopt-check": (["adopt-check", "--stack", "management"], 2),
    "verify": (["verify", "--stack", "management"], 2),
}


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No command may reach AWS here: each must stop at the file before it makes a session."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("reached AWS with a project it could not read")

    monkeypatch.setattr(cli.boto3, "Session", refuse)


def copy_project(source: Path, into: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(source / name, into / name)
    shutil.copytree(source / "policies", into / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    for stack_file in source.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, into / stack_file.name)
    return into


def run(project_dir: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["--project-dir", str(project_dir), *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


def replace_with_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def replace_with_link_loop(path: Path) -> None:
    path.unlink()
    os.symlink(path.name, path)


# ---- a policy file under policies/ that cannot be read as one


POLICY_FILE = "region-deny.json"
BROKEN_POLICIES: dict[str, tuple[Callable[[Path], None], str]] = {
    "not UTF-8": (lambda p: p.write_bytes(b'{"Version": "2012-10-17", "Sid": "caf\xe9"}'), "is not UTF-8 text"),
    "a directory": (replace_with_directory, "is not a regular file"),
    "a link loop": (replace_with_link_loop, "cannot be resolved"),
    "empty": (lambda p: p.write_bytes(b""), "is not valid JSON"),
    "too large": (
        lambda p: p.write_bytes(b" " * (policies.MAX_POLICY_FILE_BYTES + 1) + p.read_bytes()),
        "is larger than",
    ),
    "nested too deeply": (lambda p: p.write_bytes(b"[" * 100_000 + b"]" * 100_000), "cannot be read as JSON"),
    "a number too long": (
        lambda p: p.write_bytes(b'{"Version": "2012-10-17", "Statement": ' + b"9" * 5000 + b"}"),
        "cannot be read as JSON",
    ),
    "a repeated key": (
        lambda p: p.write_text(p.read_text().replace('"Version"', '"Statement": [], "Version"', 1)),
        "repeats the key 'Statement'",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_POLICIES))
def test_a_policy_file_that_cannot_be_read_is_a_policy_error_naming_it(case: str, tmp_path: Path) -> None:
    break_it, reason = BROKEN_POLICIES[case]
    shutil.copy(policies.POLICY_DIR / POLICY_FILE, tmp_path / POLICY_FILE)
    break_it(tmp_path / POLICY_FILE)
    with pytest.raises(policies.PolicyError, match=reason) as raised:
        policies.load(POLICY_FILE, policy_dir=tmp_path)
    assert POLICY_FILE in str(raised.value)


def test_the_repository_policies_still_load() -> None:
    for path in sorted(policies.POLICY_DIR.glob("*.json")):
        assert policies.load(path.name, policy_type_of(path.name))["Statement"]


@pytest.mark.parametrize("case", ["not UTF-8", "a directory", "a link loop", "a repeated key"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_names_a_broken_policy_file_without_a_traceback(
    case: str, command: str, project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = copy_project(project_dir, tmp_path)
    BROKEN_POLICIES[case][0](copy / "policies" / POLICY_FILE)
    args, expected = COMMANDS[command]
    code, out, err = run(copy, args, capsys)
    assert code == expected
    assert "policies[0].file" in out + err and POLICY_FILE in out + err


# ---- a stack file that cannot be read as one


BROKEN_STACK_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "a directory": (replace_with_directory, "Pulumi.management.yaml is not a regular file"),
    "a link loop": (replace_with_link_loop, "Pulumi.management.yaml is not a regular file"),
    "a repeated top-level key": (
        lambda p: p.write_text(p.read_text().replace("config:\n", "config:\n  docustack:settings: {}\n", 1)),
        "the key 'docustack:settings' appears twice in one mapping",
    ),
    "a repeated nested key": (
        lambda p: p.write_text(
            p.read_text().replace("    prefix: docustack\n", "    prefix: docustack\n    prefix: x\n")
        ),
        "the key 'prefix' appears twice in one mapping",
    ),
    "too large": (
        lambda p: p.write_text(p.read_text() + "# " + "x" * project.MAX_STACK_FILE_BYTES + "\n"),
        "is larger than",
    ),
    "config is a list": (lambda p: p.write_text("config:\n  - a\n  - b\n"), "'config' must be a map"),
    "tabs": (lambda p: p.write_text("config:\n\tdocustack:settings: {}\n"), "is not valid YAML"),
    "not UTF-8": (lambda p: p.write_bytes(b"config:\n  a: caf\xe9\n"), "is not UTF-8 text"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_STACK_FILES))
def test_a_stack_file_that_cannot_be_read_names_itself_and_the_reason(
    case: str, project_dir: Path, tmp_path: Path
) -> None:
    copy = copy_project(project_dir, tmp_path)
    break_it, reason = BROKEN_STACK_FILES[case]
    break_it(copy / "Pulumi.management.yaml")
    with pytest.raises(StackFileError, match=reason):
        project.read_stack_config(copy, "management")


@pytest.mark.parametrize("case", ["a directory", "a link loop", "a repeated top-level key"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_refuses_a_broken_stack_file_with_its_exit_code(
    case: str, command: str, project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = copy_project(project_dir, tmp_path)
    BROKEN_STACK_FILES[case][0](copy / "Pulumi.management.yaml")
    args, expected = COMMANDS[command]
    code, out, err = run(copy, args, capsys)
    assert code == expected
    assert "Pulumi.management.yaml" in out + err
    assert "does not exist" not in out + err  # it exists: saying otherwise sends the operator the wrong way


def test_a_byte_order_mark_is_read_as_yaml_allows(project_dir: Path, tmp_path: Path) -> None:
    copy = copy_project(project_dir, tmp_path)
    path = copy / "Pulumi.dev.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert project.read_stack_config(copy, "dev") == project.read_stack_config(project_dir, "dev")


@pytest.mark.parametrize("stack", ["../management", "dev/../prod", "a b", "dev\n"])
@pytest.mark.parametrize("command", ["plan", "bootstrap", "adopt-check", "verify", "ci-context"])
def test_a_stack_name_pulumi_would_refuse_is_refused(
    stack: str, command: str, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [command, "--stack", stack] + (["--role", "read-only"] if command == "ci-context" else [])
    code, out, err = run(project_dir, args, capsys)
    # Bad config is 1 for the commands that answer done/failed; 2 ("cannot") for those whose 1 means an answer.
    assert code == (2 if command in ("verify", "adopt-check") else 1)
    assert "is not a stack name" in out + err


# ---- flags


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--stack", "dev", "--stack", "prod"],
        ["plan", "--format", "json", "--format", "text"],
        ["verify", "--stack", "dev", "--stack", "prod"],
        ["verify", "--stack", "dev", "--output", "a.json", "--output", "b.json"],
        ["bootstrap", "--stack", "dev", "--stack", "staging"],
        ["adopt-check", "--stack", "dev", "--profile", "a", "--profile", "b"],
        ["ci-context", "--role", "deploy", "--role", "read-only", "--stack", "dev"],
        ["simulate", "--account", "dev", "--account", "prod", "--action", "s3:GetObject"],
        ["simulate", "--account", "dev", "--action", "s3:GetObject", "--region", "us-east-1", "--region", "eu-west-1"],
    ],
)
def test_an_option_given_twice_with_different_values_is_bad_usage(
    args: list[str], project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--project-dir", str(project_dir), *args]) == 2
    assert "is given twice with different values" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--stack", ""],
        ["verify", "--stack", "management", "--member-role", ""],
        ["adopt-check", "--stack", "management", "--profile", ""],
        ["simulate", "--account", "dev", "--action", "s3:GetObject", "--principal", ""],
    ],
)
def test_an_empty_value_is_bad_usage_not_the_default(
    args: list[str], project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--project-dir", str(project_dir), *args]) == 2
    assert "needs a value" in capsys.readouterr().err


def test_an_option_repeated_with_the_same_value_is_no_contradiction(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(project_dir, ["plan", "--stack", "dev", "--stack", "dev"], capsys)
    assert code == 0 and out.startswith("Stack dev: account")


@pytest.mark.parametrize(
    "output, summary, reason",
    [
        ("report.md", "report.md", "--output and --summary name the same file"),
        ("reports", None, "is a directory"),
        ("Pulumi.management.yaml", None, "is one of the project's own files"),
        (None, "Pulumi.yaml", "is one of the project's own files"),
        ("missing/report.json", None, "does not exist"),
        ("/dev/null", None, "is not a regular file"),
    ],
)
def test_verify_refuses_an_output_it_cannot_or_must_not_write_before_reading_anything(
    output: str | None,
    summary: str | None,
    reason: str,
    project_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copy = copy_project(project_dir, tmp_path)
    (copy / "reports").mkdir()
    monkeypatch.chdir(copy)
    before = {path.name: path.read_bytes() for path in copy.glob("Pulumi*.yaml")}
    args = ["verify", "--stack", "management"]
    args += ["--output", output] if output else []
    args += ["--summary", summary] if summary else []
    code, _, err = run(copy, args, capsys)
    assert code == 2
    assert err.startswith("error: not verified:") and reason in err
    assert {path.name: path.read_bytes() for path in copy.glob("Pulumi*.yaml")} == before


def test_a_report_is_replaced_whole_so_a_reader_never_sees_half_of_one(tmp_path: Path) -> None:
    """Two runs writing one --output file, and a reader: every read is one whole report."""
    target = tmp_path / "report.json"
    reports = ["A" * 2_000_000, "B" * 3_000_000]
    target.write_text(reports[0])
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(len(target.read_text()))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for index in range(20):
            cli._replace_atomically(target, reports[index % 2])
    finally:
        stop.set()
        reader.join()
    assert seen <= {len(report) for report in reports}
    assert [path.name for path in tmp_path.iterdir()] == ["report.json"]  # no temporary file left behind


def test_two_summaries_appended_at_once_do_not_interleave(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    texts = ["a" * 500_000 + "\n", "b" * 500_000 + "\n"]
    threads = [threading.Thread(target=cli._append_locked, args=(target, text)) for text in texts * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(target.read_text().splitlines()) == sorted(text.strip() for text in texts * 4)


def test_ctrl_c_ends_with_130_and_a_message_not_a_traceback(
    project_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(plan_module, "plan_stack", interrupted)
    code, _, err = run(project_dir, ["plan", "--stack", "dev"], capsys)
    assert code == 130 and "interrupted" in err


def test_plan_base_without_git_says_it_cannot_read_the_revision(
    project_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    code, _, err = run(project_dir, ["plan", "--stack", "dev", "--base", "HEAD"], capsys)
    assert code == 1 and "cannot read revision 'HEAD'" in err


def test_a_project_dir_that_is_a_file_is_named_as_such(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(project_dir / "README.md", ["plan"], capsys)
    assert code == 1 and "README.md is a file, not the project folder" in err


@pytest.mark.parametrize("command", ["plan", "ci-context"])
def test_an_error_nobody_foresaw_is_cannot_finish_exit_2_not_a_traceback(
    command: str, project_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise TypeError("an answer of a shape nobody expected")

    monkeypatch.setattr(cli if command == "plan" else cli.ci_context, "stack_names", broken)
    args = ["plan"] if command == "plan" else ["ci-context", "--role", "read-only", "--matrix"]
    code, out, err = run(project_dir, args, capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {command} could not finish: unexpected TypeError: an answer of a shape")


# ---- a value with a control character: patterns anchored with "$" let a trailing newline through


@pytest.mark.parametrize(
    "option, value",
    [
        ("--action", "s3:GetObject\n"),
        ("--region", "us-east-1\n"),
        ("--resource", "arn:aws:s3:::bucket/key\n"),
        ("--principal", "arn:aws:iam::216482851263:role/ops\n"),
        ("--context", "s3:x-amz-server-side-encryption=aws:kms\n"),
    ],
)
def test_simulate_refuses_a_value_with_a_control_character(
    option: str, value: str, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = {"--account": "dev", "--action": "s3:GetObject", "--resource": "*"} | {option: value}
    flat = [item for pair in args.items() for item in pair]
    code, out, err = run(project_dir, ["simulate", *flat], capsys)
    assert code == 2 and out == ""
    assert f"error: {option} {value!r} has a control character" in err
