"""The Pulumi project on disk: finding it, its stacks, and each stack's config as the CLI would hand it over."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from docustack.settings import (
    CONFIG_KEY,
    SettingsError,
    SettingsProblem,
    StackSettings,
    cross_stack_problems,
    parse_settings,
)
from docustack.text_files import UnreadableText, read_utf8

STACKS = ("management", "dev", "staging", "prod")


# The C loader (libyaml) when PyYAML was built with it, else the pure-Python one: same results, several times faster.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A stack file is small and hand-written: a few thousand nodes. Aliases let a few lines stand for billions of
# nodes (the "billion laughs" document), which hang whatever walks the result, so a document is refused when its
# nodes, each alias counted as the whole subtree it stands for, exceed this bound.
MAX_EXPANDED_NODES = 100_000
# A stack file of 500 accounts is about 100 KB; a file a hundred times that is refused before it is read whole.
MAX_STACK_FILE_BYTES = 10 * 1024 * 1024
# "Stack names may only contain alphanumeric characters, hyphens, underscores, or periods"
# (https://www.pulumi.com/docs/iac/concepts/stacks/). A name with "/" or ".." would name a file elsewhere.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class ProjectError(Exception):
    """The project or a stack file cannot be read."""


class StackFileError(ProjectError):
    """A stack file exists but cannot be read as one: not UTF-8, not YAML, too large once expanded, or no map."""


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) that has a Pulumi.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise ProjectError(f"no Pulumi.yaml in {here} or any folder above it; run from the project or pass --project-dir")


def stack_names(project_dir: Path) -> list[str]:
    """The stacks that have a Pulumi.<stack>.yaml, the known ones first in deployment order."""
    found = {path.name[len("Pulumi.") : -len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml")}
    if not found:
        raise ProjectError(f"no Pulumi.<stack>.yaml in {project_dir}")
    return [s for s in STACKS if s in found] + sorted(found - set(STACKS))


def read_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The ``config:`` map of ``Pulumi.<stack>.yaml`` (full keys such as ``docustack:settings``).

    Raises :class:`ProjectError` when there is no such stack, :class:`StackFileError` when the file cannot be
    read as a stack file (the message names the file and the reason).
    """
    if not STACK_NAME.fullmatch(stack):
        raise ProjectError(
            f"{stack!r} is not a stack name: Pulumi stack names are letters, digits, '-', '_' and '.' only"
        )
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        if path.exists() or path.is_symlink():  # a directory, a dangling link or a link loop, a device
            raise StackFileError(f"{path.name} is not a regular file (a directory, or a broken or looping link)")
        known = ", ".join(stack_names(project_dir)) or "none"
        raise ProjectError(f"no stack {stack!r}: {path.name} does not exist (stacks: {known})")
    document = load_yaml(path)
    if document is None:
        document = {}
    config = document.get("config", {}) if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: 'config' must be a map of keys to values")
    return config


def load_yaml(path: Path) -> Any:
    """One YAML document from ``path`` with the fastest safe loader; :class:`StackFileError` if it cannot be read.

    The text is parsed once per process: a command that needs a stack file again (``plan`` of every stack, a
    check that compares the stack files with one another) gets a copy of the first parse of the same text.
    """
    try:
        text = read_utf8(path, MAX_STACK_FILE_BYTES, "a stack file")
    except UnreadableText as error:
        raise StackFileError(f"{path.name} {error}") from None
    return copy.deepcopy(_parsed(path.name, text))


@functools.lru_cache(maxsize=32)
def _parsed(file: str, text: str) -> Any:
    return _parse_document(file, text)


def _parse_document(file: str, text: str) -> Any:
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_expansion(node, file)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        raise StackFileError(f"{file} is not valid YAML: {error}") from None
    except RecursionError:  # the pure-Python loader on deeply nested collections (libyaml stops at 1,000 levels)
        raise StackFileError(f"{file}: collections nested too deeply to read") from None
    finally:
        loader.dispose()


def _refuse_expansion(root: yaml.Node, file: str) -> None:
    """Refuse a node graph whose expansion (aliases counted as copies) exceeds :data:`MAX_EXPANDED_NODES`, and a
    mapping that repeats a key: YAML requires each key of a mapping to be unique
    (https://yaml.org/spec/1.2.2/#mapping), and PyYAML would silently keep the last value, so a second
    ``docustack:settings`` or ``account`` further down would quietly replace the first."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise StackFileError(f"{file}: an alias refers to a node that contains it (a recursive anchor)")
        visiting.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            _refuse_repeated_keys(node, file)
            total += sum(size(k) + size(v) for k, v in node.value)
        visiting.discard(key)
        sizes[key] = total
        if total > MAX_EXPANDED_NODES:
            raise StackFileError(
                f"{file}: the document expands to more than {MAX_EXPANDED_NODES:,} YAML nodes "
                "(aliases of aliases, as in a 'billion laughs' document); refused"
            )
        return total

    size(root)


def _refuse_repeated_keys(node: yaml.MappingNode, file: str) -> None:
    seen: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue  # a merge key ("<<") may repeat its sources; collection keys are not used in stack files
        identity = (key.tag, key.value)
        line = key.start_mark.line + 1
        if identity in seen:
            raise StackFileError(
                f"{file}: the key {key.value!r} appears twice in one mapping (lines {seen[identity]} and {line}); "
                "which value counts would be a guess, so the file is refused"
            )
        seen[identity] = line


def settings_from_config(config: Mapping[str, Any], project_dir: Path, stack: str) -> StackSettings:
    """The typed settings in a stack's ``config:`` map; raises SettingsError."""
    source = f"Pulumi.{stack}.yaml"
    if CONFIG_KEY not in config:
        raise SettingsError(source, [SettingsProblem(CONFIG_KEY, "is missing from the stack's config")])
    settings = parse_settings(config[CONFIG_KEY], source=source, policy_dir=project_dir / "policies")
    problems = cross_stack_problems(stack, settings, _sibling_settings(project_dir, stack))
    if problems:
        raise SettingsError(source, problems)
    return settings


def _sibling_settings(project_dir: Path, stack: str) -> dict[str, Any]:
    """The raw ``docustack:settings`` of every other stack file that can be read (the others report themselves)."""
    siblings: dict[str, Any] = {}
    for name in stack_names(project_dir):
        if name == stack:
            continue
        try:
            config = read_stack_config(project_dir, name)
        except (ProjectError, OSError, ValueError):  # ValueError: a file that is not UTF-8
            continue
        if CONFIG_KEY in config:
            siblings[name] = config[CONFIG_KEY]
    return siblings


def load_stack_settings(project_dir: Path, stack: str) -> StackSettings:
    """The typed settings of one stack, read from its file; raises SettingsError or ProjectError."""
    return settings_from_config(read_stack_config(project_dir, stack), project_dir, stack)
