"""The Organization component: all features, the SCP type enabled, protected, adoptable."""

from __future__ import annotations

from components import Organization, OrganizationArgs
from docustack.offline import run_program

ORG_TYPE = "aws:organizations/organization:Organization"


def test_organization_enables_scps_all_features_and_is_protected() -> None:
    plan = run_program(
        lambda: Organization(
            "org",
            OrganizationArgs(service_access_principals=("config.amazonaws.com", "cloudtrail.amazonaws.com")),
        ),
        stack="test",
    )
    organization = plan.one(ORG_TYPE)
    assert organization.inputs["featureSet"] == "ALL"
    assert organization.inputs["enabledPolicyTypes"] == ["SERVICE_CONTROL_POLICY"]
    assert organization.inputs["awsServiceAccessPrincipals"] == ["cloudtrail.amazonaws.com", "config.amazonaws.com"]
    assert organization.protect
    assert organization.import_id == ""
    component = plan.one("docustack:organization:Organization")
    assert organization.parent == component.urn


def test_existing_organization_is_adopted_by_import() -> None:
    plan = run_program(lambda: Organization("org", OrganizationArgs(import_id="o-abcdef1234")), stack="test")
    organization = plan.one(ORG_TYPE)
    assert organization.import_id == "o-abcdef1234"
    assert organization.protect
