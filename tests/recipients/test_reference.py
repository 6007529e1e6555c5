"""The reference registers: spot checks of known facts, and how retired numbers resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.reference import MunicipalityRegister, UnitRegister
from hub.reference._csv import ReferenceError
from hub.settings import HubSettings
from schemas.errors import ContractViolation, Reason

PATHS = HubSettings().routing


@pytest.fixture(scope="module")
def municipalities() -> MunicipalityRegister:
    return MunicipalityRegister.load(PATHS.municipalities_path)


def test_known_current_municipalities(municipalities: MunicipalityRegister) -> None:
    assert municipalities.resolve("0301").current.name == "Oslo"
    assert municipalities.resolve("1103").current.name == "Stavanger"
    assert not municipalities.resolve("4204").redirected


def test_a_number_retired_in_2020_routes_to_its_successor(
    municipalities: MunicipalityRegister,
) -> None:
    resolved = municipalities.resolve("1018")  # Søgne, merged into Kristiansand
    assert resolved.redirected
    assert (resolved.current.code, resolved.current.name) == ("4204", "Kristiansand")


def test_a_number_split_in_2024_resolves_to_nothing(municipalities: MunicipalityRegister) -> None:
    entry = municipalities.get("1507")  # Ålesund, split into Ålesund and Haram
    assert entry is not None
    assert not entry.current
    with pytest.raises(ContractViolation) as caught:
        municipalities.resolve("1507")
    assert caught.value.reason is Reason.UNKNOWN_MUNICIPALITY


def test_an_unknown_number_is_a_contract_failure(municipalities: MunicipalityRegister) -> None:
    with pytest.raises(ContractViolation, match="9999 is not in the register"):
        municipalities.resolve("9999")


def test_every_bundled_and_synthetic_unit_has_a_health_region(
    municipalities: MunicipalityRegister,
) -> None:
    from hub.demo import synthetic

    units = UnitRegister.load(PATHS.units_path, municipalities)
    codes = {u.kode for u in synthetic._UNITS} | {"5099"}
    assert all(units.health_region(code) for code in codes)


def test_a_broken_row_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    rows = ["# x", "code,name,status,successors,changed,source", "0301,Oslo,current,,,k"]
    path.write_text("\n".join([*rows, "030,X,current,,,k"]) + "\n")
    with pytest.raises(ReferenceError, match=r"m\.csv:4: '030' is not a municipality number"):
        MunicipalityRegister.load(path)


def test_a_successor_must_be_in_the_register(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "code,name,status,successors,changed,source\n1018,S,retired,4204,2020-01-01,k\n"
    )
    with pytest.raises(ReferenceError, match="successor 4204 is not in the register"):
        MunicipalityRegister.load(path)
