"""Shared fixtures. The Pulumi mocks live in one place, docustack.offline; the moto organization the verify
tests check lives in tests/moto_foundation.py."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.client
import botocore.loaders
import botocore.model
import botocore.session
import moto.kms.models
import moto_foundation
import pytest
from moto import mock_aws
from moto.kms.utils import KeySpec

with warnings.catch_warnings():
    # pulumi-aws v7's s3 module warns, at import, about its own deprecated *V2 classes, whether or not they are
    # used. Only that import is exempt: the program uses none of them (the whole-program tests check the types).
    warnings.simplefilter("ignore", DeprecationWarning)
    import pulumi_aws

    pulumi_aws.s3.Bucket  # noqa: B018 (the module loads lazily, on first attribute access)

from docustack import plan, project
from docustack.settings import CONFIG_KEY, StackSettings, parse_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def stack_plans() -> dict[str, plan.StackPlan]:
    """Every stack of the repository, planned once for the whole session from its own Pulumi.<stack>.yaml."""
    return {stack: plan.plan_stack(PROJECT_DIR, stack) for stack in project.stack_names(PROJECT_DIR)}


@pytest.fixture
def management_raw() -> dict[str, Any]:
    """A fresh, mutable copy of the management stack's docustack:settings, for tests that edit the config."""
    return copy.deepcopy(project.read_stack_config(PROJECT_DIR, "management")[CONFIG_KEY])


@pytest.fixture
def management_settings(management_raw: dict[str, Any]) -> StackSettings:
    return parse_settings(management_raw, source="test")


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_loader() -> Iterator[None]:
    """One botocore data loader for every session of the run. Each boto3 session otherwise parses the service
    models again for its first client of a service; the moto tests make a fresh session per account and per
    credentials, and hundreds of clients. The models are read-only data, so sharing them changes nothing else."""
    loader = botocore.loaders.create_loader()
    original = botocore.session.Session._register_data_loader

    def register(self: botocore.session.Session) -> None:
        self._components.lazy_register_component("data_loader", lambda: loader)

    botocore.session.Session._register_data_loader = register  # type: ignore[method-assign]
    yield
    botocore.session.Session._register_data_loader = original  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def shared_service_models() -> Iterator[None]:
    """One botocore service model per service and API version for the run. botocore builds a new ServiceModel
    for every client, and with it a cold cache of operation models that filling takes most of a client's
    creation (the suite creates thousands). The model is the loader's read-only data, which the shared loader
    already hands every session as the same object, so sharing what is built from it changes no answer."""
    original = botocore.client.ClientCreator._load_service_model
    models: dict[tuple[int, str, str | None], botocore.model.ServiceModel] = {}

    def load(self: botocore.client.ClientCreator, service_name: str, api_version: str | None = None) -> Any:
        key = (id(self._loader), service_name, api_version)
        if key not in models:
            models[key] = original(self, service_name, api_version)
        return models[key]

    botocore.client.ClientCreator._load_service_model = load  # type: ignore[method-assign]
    yield
    botocore.client.ClientCreator._load_service_model = original  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def shared_symmetric_key_material() -> Iterator[None]:
    """moto gives every KMS key an RSA-2048 private key, symmetric and HMAC keys too (about 40 ms each), although
    it uses that key only for the asymmetric operations (Sign, Verify, GetPublicKey), which AWS refuses on those
    keys. Keys of those specs share one such key; RSA and ECC keys still get their own."""
    original = moto.kms.models.generate_private_key
    asymmetric = {*KeySpec.rsa_key_specs(), *KeySpec.ecc_key_specs()}
    unused: dict[str, Any] = {}

    def generate(key_spec: str) -> Any:
        if key_spec in asymmetric:
            return original(key_spec)
        if key_spec not in unused:
            unused[key_spec] = original(key_spec)
        return unused[key_spec]

    moto.kms.models.generate_private_key = generate
    yield
    moto.kms.models.generate_private_key = original


def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real credentials or profile in reach; fake default credentials in the home region."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", moto_foundation.REGION)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call, with no real credentials or profile in reach."""
    fake_credentials(monkeypatch)
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def compliant_foundation_image() -> Iterator[moto_foundation.FoundationImage]:
    """The compliant organization built once for the run (in a moto of its own), with moto's state after it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        fake_credentials(monkeypatch)
        yield moto_foundation.build_image(PROJECT_DIR, monkeypatch)


@pytest.fixture
def live_foundation(
    compliant_foundation_image: moto_foundation.FoundationImage, aws: None, monkeypatch: pytest.MonkeyPatch
) -> moto_foundation.LiveFoundation:
    """A compliant organization in moto built from Pulumi.management.yaml, and the operator signed in to it.
    Each test gets its own copy (moto's state restored from the one built for the run), to tamper with freely."""
    return moto_foundation.restore_foundation(compliant_foundation_image, monkeypatch)


# What an operator fills the placeholders of the stack files with, by field name (see README).
FILLED_IN: dict[str, str] = {
    "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "repository": "docustack/aws-foundation",
    "logArchiveAccountId": "111122223333",
    "logArchiveKeyArn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}


def filled_in_config(stack: str) -> dict[str, Any]:
    """A stack's config with the account-stack placeholders filled in as an operator would after bootstrap."""
    config = project.read_stack_config(PROJECT_DIR, stack)
    settings = config[CONFIG_KEY]
    for section in ("stateBackend", "ci", "configRecording"):
        for key, value in settings.get(section, {}).items():
            if isinstance(value, str) and value.startswith("<") and key in FILLED_IN:
                settings[section][key] = FILLED_IN[key]
    return config


def filled_in_settings(stack: str) -> StackSettings:
    return parse_settings(filled_in_config(stack)[CONFIG_KEY], source=f"Pulumi.{stack}.yaml (filled in)")
