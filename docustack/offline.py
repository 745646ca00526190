"""Run the Pulumi program offline, under the Pulumi SDK's mocks, and record what it would register.

This is the one mocks module of the project: the offline plan (`docustack plan`) and every test that runs a
component or the whole program go through :func:`run_program`. The SDK's own ``MockMonitor`` only hands a
mock the type, name and inputs of a resource; the recording monitor below also keeps what a reviewer and the
tests need to see: the parent, the provider, ``protect``/``retain_on_delete``, the import ID, explicit
dependencies and ``ignore_changes``.

The mocks answer with fake but well-formed values (organization ``o-…`` IDs, ``r-…`` root IDs, 12-digit
account IDs derived from the account's name) so that code downstream of those outputs runs as it would in a
real preview.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_pulumi_func

FAKE_ORGANIZATION_ID = "o-exampleorg01"
FAKE_ROOT_ID = "r-exam"
PROJECT = "docustack"


@dataclass(frozen=True)
class PlannedResource:
    """One resource the program registered, with the options that matter for review."""

    urn: str
    type: str
    name: str
    parent: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    provider: str
    protect: bool
    retain_on_delete: bool
    import_id: str
    dependencies: tuple[str, ...]
    ignore_changes: tuple[str, ...]
    custom: bool
    # The aliases the resource declared: an alias URN, or the type token an alias spec names (its old type).
    aliases: tuple[str, ...] = ()

    @property
    def provider_urn(self) -> str:
        """The provider reference is ``<urn>::<id>``; the URN is what names it."""
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


@dataclass
class Plan:
    """Everything one run of the program registered, in registration order."""

    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def by_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> PlannedResource:
        found = [r for r in self.by_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.by_type(type_)]
            raise LookupError(f"expected one {type_} named {name!r}, found {len(found)} among {names}")
        return found[0]

    def by_urn(self, urn: str) -> PlannedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise LookupError(urn)

    def children(self, parent_urn: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == parent_urn]

    def subtree(self, urn: str) -> Plan:
        """The resources under ``urn`` (its children, theirs, and so on), as a plan of their own."""
        inside = {urn}
        for resource in self.resources:  # registration order puts parents before children
            if resource.parent in inside:
                inside.add(resource.urn)
        return Plan(self.stack, [r for r in self.resources if r.urn in inside and r.urn != urn])


def fake_account_id(name: str) -> str:
    """A stable, obviously fake 12-digit account ID for an account that does not exist yet."""
    digits = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10**11
    return f"9{digits:011d}"


class FoundationMocks(pulumi.runtime.Mocks):
    """Computed outputs for the resource types the program uses; everything else echoes its inputs."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        state = dict(args.inputs)
        resource_id = args.resource_id or f"{args.name}-id"
        if args.typ == "aws:organizations/organization:Organization":
            resource_id = args.resource_id or FAKE_ORGANIZATION_ID
            state.update(
                id=resource_id,
                arn=f"arn:aws:organizations::{fake_account_id('management')}:organization/{resource_id}",
                masterAccountId=fake_account_id("management"),
                roots=[{"id": FAKE_ROOT_ID, "name": "Root", "arn": f"arn:aws:organizations::root/{FAKE_ROOT_ID}"}],
            )
        elif args.typ == "aws:organizations/organizationalUnit:OrganizationalUnit":
            resource_id = f"ou-exam-{hashlib.sha256(args.name.encode()).hexdigest()[:8]}"
            state.update(arn=f"arn:aws:organizations::ou/{FAKE_ORGANIZATION_ID}/{resource_id}")
        elif args.typ == "aws:organizations/account:Account":
            resource_id = args.resource_id or fake_account_id(str(args.inputs.get("name", args.name)))
            state.update(arn=f"arn:aws:organizations::account/{FAKE_ORGANIZATION_ID}/{resource_id}")
        elif args.typ == "aws:organizations/policy:Policy":
            resource_id = f"p-{hashlib.sha256(args.name.encode()).hexdigest()[:8]}"
            state.update(arn=f"arn:aws:organizations::policy/{FAKE_ORGANIZATION_ID}/{resource_id}")
        elif args.typ == "aws:kms/key:Key":
            digest = hashlib.sha256(args.name.encode()).hexdigest()
            resource_id = (
                args.resource_id or f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
            )
            state.update(keyId=resource_id, arn=f"arn:aws:mock:::key/{resource_id}")
        elif args.typ.startswith("pulumi:providers:"):
            resource_id = args.resource_id or f"{args.name}-provider-id"
        else:
            state.setdefault("arn", f"arn:aws:mock:::{args.name}")
        state.setdefault("id", resource_id)
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        raise NotImplementedError(
            f"the program made an invoke ({args.token}); policies and lookups must stay offline data"
        )


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, keeping each registration's options as well."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[PlannedResource] = []

    def RegisterResource(self, request):
        with _worker_thread_loop():
            response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = rpc.deserialize_properties(request.object)
        registration = self.resources.get(response.urn)
        self.recorded.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                inputs=_plain(inputs),
                outputs=_plain(registration.state if registration else {}),
                provider=request.provider,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                import_id=request.importId,
                dependencies=tuple(request.dependencies),
                ignore_changes=tuple(request.ignoreChanges),
                custom=bool(request.custom),
                aliases=tuple(alias.urn or alias.spec.type for alias in request.aliases),
            )
        )
        return response

    def ReadResource(self, request):
        with _worker_thread_loop():
            return super().ReadResource(request)

    def Invoke(self, request):
        with _worker_thread_loop():
            return super().Invoke(request)


@contextmanager
def _worker_thread_loop() -> Iterator[None]:
    """An event loop for one mock monitor call made on an executor thread, closed when the call returns.

    The SDK runs monitor calls on the event loop's default executor; its mock monitor then makes an event loop
    for that thread (``pulumi.runtime.sync_await._ensure_event_loop``) and leaves it open. Providing the loop
    here, and closing it, leaves nothing for the interpreter's shutdown to finalize. On the main thread the
    running loop is used, as before.
    """
    if threading.current_thread() is threading.main_thread():
        yield
        return
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        asyncio.set_event_loop(None)
        loop.close()


class _WarningCollector(pulumi_mocks.MockEngine):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logger=None)
        self._sink = sink

    def Log(self, request):
        from pulumi.runtime.proto import engine_pb2

        if request.severity in (engine_pb2.WARNING, engine_pb2.ERROR):
            self._sink.append(request.message)


def run_program(
    program: Callable[[], Any],
    *,
    stack: str,
    config: Mapping[str, Any] | None = None,
    preview: bool = True,
) -> Plan:
    """Run ``program`` as stack ``stack`` of the project under mocks and return what it registered.

    ``config`` maps full keys (``docustack:settings``, ``aws:region``) to values; structured values are
    passed as JSON, the way the Pulumi CLI hands them to a program. Each call runs in a fresh context and on an
    event loop of its own, so several stacks can be planned in one process without sharing runtime state.
    """
    return contextvars.Context().run(_run_in_fresh_context, program, stack, dict(config or {}), preview)


def _run_in_fresh_context(program: Callable[[], Any], stack: str, config: dict[str, Any], preview: bool) -> Plan:
    # The SDK's own runner (pulumi.runtime.sync_await._sync_await) takes asyncio.get_event_loop(), which creates a
    # loop and never closes it, nor the executor whose threads run the mock monitor's calls: the loop was then
    # closed by its finalizer during interpreter shutdown, after its self-pipe socket, and printed "Exception
    # ignored in: <function BaseEventLoop.__del__ ...> ValueError: Invalid file descriptor: -1" at random.
    # asyncio.Runner owns a loop for this run and sets it as the thread's current loop before the SDK makes any
    # future (its futures bind to asyncio.get_event_loop()); on exit it cancels what is left, finalizes async
    # generators, joins the default executor and closes the loop
    # (https://docs.python.org/3/library/asyncio-runner.html#asyncio.Runner).
    with asyncio.Runner() as runner:
        runner.get_loop()
        return _run_on_current_loop(runner, program, stack, config, preview)


def _run_on_current_loop(
    runner: asyncio.Runner, program: Callable[[], Any], stack: str, config: dict[str, Any], preview: bool
) -> Plan:
    plan = Plan(stack=stack)
    monitor = RecordingMonitor(FoundationMocks())
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(FoundationMocks(), project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    settings = pulumi.runtime.settings.SETTINGS
    # pulumi's @contextproperty decorator is unannotated, so checkers read `engine` as the decorator, not a
    # settable Optional[EngineStub] property: the SDK's typing is wrong here, not the assignment.
    settings.engine = _WarningCollector(plan.warnings)  # pyright: ignore[reportAttributeAccessIssue]
    pulumi.runtime.set_all_config(
        {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    )
    exported: dict[str, Any] = {}

    def body() -> None:
        program()
        root = pulumi.runtime.settings.get_root_resource()
        outputs = getattr(root, "outputs", {}) or {}
        for key, value in outputs.items():
            pulumi.Output.from_input(value).apply(lambda v, k=key: exported.__setitem__(k, _plain(v)))

    # The context as set up above (the Runner's default is a copy taken when its loop was made, before that).
    runner.run(run_pulumi_func(body), context=contextvars.copy_context())
    plan.resources = list(monitor.recorded)
    plan.outputs = exported
    return plan


def _plain(value: Any) -> Any:
    """Deserialized property values as plain Python data (unknowns become None)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
