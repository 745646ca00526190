"""`docustack plan` as a process: nothing on stderr about the event loop at exit, whatever the stack and format.

The SDK's runner used to leave its event loop (and the loops of the executor threads that run the mock
monitor's calls) open; the interpreter then closed them while shutting down, at random after their sockets, and
printed "Exception ignored in: <function BaseEventLoop.__del__ ...>". docustack.offline now owns and closes
every loop. Python's development mode (-X dev) turns the leak into a ResourceWarning ("unclosed event loop") on
every run, so these checks fail deterministically if a loop is left open again.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _plan(project_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "dev", "-W", "ignore::DeprecationWarning", "-m", "docustack.cli", "plan", *args],
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_plan_of_every_stack_leaves_no_event_loop_behind(project_dir: Path) -> None:
    """One process plans the four stacks (the formats share the same runs; only the rendering differs)."""
    result = _plan(project_dir, "--format", "json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Exception ignored" not in result.stderr
    assert "unclosed event loop" not in result.stderr
    assert "ResourceWarning" not in result.stderr
    assert "Traceback" not in result.stderr
