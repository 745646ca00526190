"""The OU tree under the root, built parents first so each OU names its parent's ID."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class OrganizationalUnitSpec:
    path: str  # "Workloads/Regulated"
    name: str  # "Regulated"
    parent_path: str | None  # None: directly under the root


@dataclass(frozen=True)
class OrganizationalUnitsArgs:
    root_id: pulumi.Input[str]
    units: tuple[OrganizationalUnitSpec, ...]  # parents before children


def resource_suffix(path: str) -> str:
    """A stable resource name part for an OU path: 'Workloads/Regulated' -> 'workloads-regulated'."""
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


class OrganizationalUnits(pulumi.ComponentResource):
    """Every OU of the organization. ``ids`` maps each OU path to its ID.

    OUs are not protected: an empty OU may be removed by a config edit, and AWS refuses to delete one that
    still holds accounts (which are protected themselves).
    """

    ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: OrganizationalUnitsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:organization:OrganizationalUnits", name, None, opts)
        self.ids = {}
        for unit in args.units:
            parent_id = args.root_id if unit.parent_path is None else self.ids[unit.parent_path]
            ou = aws.organizations.OrganizationalUnit(
                f"{name}-{resource_suffix(unit.path)}",
                name=unit.name,
                parent_id=parent_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.ids[unit.path] = ou.id
        self.register_outputs({"ids": self.ids})
