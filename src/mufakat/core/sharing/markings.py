"""TLP 2.0 as STIX 2.1 marking definitions, for every module's STIX export and import.

The ids are the OASIS ones (cti-stix-common-objects, tlp-2.0 property extension), so a peer's
MISP or OpenCTI recognises our markings as theirs.
"""

from __future__ import annotations

from collections.abc import Iterable

import stix2

from mufakat.core.choices import TLP

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_MARKINGS: dict[str, tuple[str, str]] = {
    TLP.CLEAR: ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
    TLP.GREEN: ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"),
    TLP.AMBER: ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"),
    TLP.AMBER_STRICT: ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"),
    TLP.RED: ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red"),
}
TLP_BY_MARKING: dict[str, str] = {mid: tlp for tlp, (mid, _v) in TLP2_MARKINGS.items()} | {
    # TLP 1.0 definitions predefined by STIX 2.1, accepted on import.
    stix2.TLP_WHITE.id: TLP.CLEAR,
    stix2.TLP_GREEN.id: TLP.GREEN,
    stix2.TLP_AMBER.id: TLP.AMBER,
    stix2.TLP_RED.id: TLP.RED,
}


def tlp_marking(tlp: str) -> stix2.MarkingDefinition:
    """The TLP 2.0 marking-definition object for one of our TLP values."""
    mid, value = TLP2_MARKINGS[tlp]
    return stix2.MarkingDefinition(
        id=mid,
        created="2022-10-01T00:00:00.000Z",
        name=f"TLP:{value.upper()}",
        extensions={TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": value}},
        allow_custom=True,
    )


def tlp_of(marking_refs: Iterable[str], default: str = TLP.AMBER) -> str:
    """Our TLP for an imported object's `object_marking_refs` (TLP 2.0 or 1.0); the first TLP
    marking wins, and an object without one gets `default`."""
    return next((TLP_BY_MARKING[m] for m in marking_refs if m in TLP_BY_MARKING), default)
