"""The reference registers: spot checks of known facts, and how retired numbers resolve."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
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


# One current number per county, as SSB KLASS 131 lists them on 2026-01-01 (the file's source).
CURRENT_PER_COUNTY = {
    "0301": "Oslo - Oslove",
    "1103": "Stavanger",
    "1506": "Molde",
    "1804": "Bodø",
    "3101": "Halden",
    "3201": "Bærum",
    "3301": "Drammen",
    "3403": "Hamar",
    "3901": "Horten",
    "4003": "Skien",
    "4204": "Kristiansand",
    "4601": "Bergen",
    "5001": "Trondheim - Tråante",
    "5501": "Tromsø",
    "5601": "Alta",
}

# SSB KLASS 131 changes of 2024-01-01: one renumbering in each county that was split.
RENUMBERED_2024 = [
    ("3001", "3101"),  # Viken -> Østfold: Halden
    ("3024", "3201"),  # Viken -> Akershus: Bærum
    ("3005", "3301"),  # Viken -> Buskerud: Drammen
    ("3803", "3905"),  # Vestfold og Telemark -> Vestfold: Tønsberg
    ("3807", "4003"),  # Vestfold og Telemark -> Telemark: Skien
    ("5401", "5501"),  # Troms og Finnmark -> Troms: Tromsø
    ("5403", "5601"),  # Troms og Finnmark -> Finnmark: Alta
]


@pytest.mark.parametrize(("code", "name"), CURRENT_PER_COUNTY.items())
def test_a_current_municipality_in_every_county(
    municipalities: MunicipalityRegister, code: str, name: str
) -> None:
    resolved = municipalities.resolve(code)
    assert not resolved.redirected
    assert resolved.current.name == name


def test_the_register_is_complete(municipalities: MunicipalityRegister) -> None:
    current = municipalities.current()
    assert len(current) == 357
    counties = Counter(m.code[:2] for m in current)
    assert counties == {
        "03": 1,
        "11": 23,
        "15": 27,
        "18": 41,
        "31": 12,
        "32": 21,
        "33": 18,
        "34": 46,
        "39": 6,
        "40": 17,
        "42": 25,
        "46": 43,
        "50": 38,
        "55": 21,
        "56": 18,
    }
    retired = Counter(m.changed for m in municipalities if not m.current)
    assert retired == {dt.date(2020, 1, 1): 309, dt.date(2024, 1, 1): 114}


def test_every_retired_number_resolves_unless_it_leads_to_a_split(
    municipalities: MunicipalityRegister,
) -> None:
    unresolved: dict[str, Reason] = {}
    for entry in municipalities:
        try:
            municipalities.resolve(entry.code)
        except ContractViolation as exc:
            unresolved[entry.code] = exc.reason
    # The splits (1507 in 2024; 1850, 5012 in 2020) and the 2020 numbers merged into 1507.
    split = {"1507", "1850", "5012", "1504", "1523", "1529", "1534", "1546"}
    assert unresolved == dict.fromkeys(split, Reason.UNKNOWN_MUNICIPALITY)


def test_every_source_is_cited_in_the_header(municipalities: MunicipalityRegister) -> None:
    text = PATHS.municipalities_path.read_text(encoding="utf-8")
    cited = set(re.findall(r"^#   ([a-z0-9-]+) ", text, flags=re.MULTILINE))
    assert {m.source for m in municipalities} == {"ssb-131-2026", "ssb-131-changes"}
    assert {m.source for m in municipalities} <= cited


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("1018", "4204", "Kristiansand"),  # Søgne, merged into Kristiansand
        ("5030", "5001", "Trondheim - Tråante"),  # Klæbu, merged into Trondheim
        ("1444", "1577", "Volda"),  # Hornindal, merged into Volda across a county line
        ("1201", "4601", "Bergen"),  # Bergen, renumbered with the county
    ],
)
def test_a_number_retired_in_2020_routes_to_its_successor(
    municipalities: MunicipalityRegister, old: str, new: str, name: str
) -> None:
    resolved = municipalities.resolve(old)
    assert resolved.redirected
    assert (resolved.current.code, resolved.current.name) == (new, name)
    entry = municipalities.get(old)
    assert entry is not None
    assert entry.changed == dt.date(2020, 1, 1)


@pytest.mark.parametrize(("old", "new"), RENUMBERED_2024)
def test_a_number_renumbered_in_2024_routes_to_its_successor(
    municipalities: MunicipalityRegister, old: str, new: str
) -> None:
    entry = municipalities.get(old)
    assert entry is not None
    assert (entry.current, entry.successors, entry.changed) == (
        False,
        (new,),
        dt.date(2024, 1, 1),
    )
    assert municipalities.resolve(old).current.code == new


def test_a_number_retired_in_both_reforms_follows_both(
    municipalities: MunicipalityRegister,
) -> None:
    resolved = municipalities.resolve("0219")  # Bærum: 0219 until 2019, 3024, then 3201
    assert (resolved.given, resolved.current.code, resolved.current.name) == (
        "0219",
        "3201",
        "Bærum",
    )


def test_a_number_split_in_2024_resolves_to_nothing(municipalities: MunicipalityRegister) -> None:
    entry = municipalities.get("1507")  # Ålesund, split into Ålesund and Haram
    assert entry is not None
    assert (entry.current, entry.successors) == (False, ("1508", "1580"))
    assert [municipalities.resolve(s).current.name for s in entry.successors] == [
        "Ålesund",
        "Haram",
    ]
    with pytest.raises(ContractViolation, match="1507 was split into 1508, 1580") as caught:
        municipalities.resolve("1507")
    assert caught.value.reason is Reason.UNKNOWN_MUNICIPALITY
    # 1534 (Haram until 2019) was merged into 1507 in 2020: it leads to the split.
    with pytest.raises(ContractViolation, match="1534 leads to 1507, which was split") as caught:
        municipalities.resolve("1534")
    assert caught.value.reason is Reason.UNKNOWN_MUNICIPALITY


def test_an_unknown_number_is_a_contract_failure(municipalities: MunicipalityRegister) -> None:
    with pytest.raises(ContractViolation, match="9999 is not in the register"):
        municipalities.resolve("9999")


def test_every_bundled_and_synthetic_unit_has_a_health_region(
    municipalities: MunicipalityRegister,
) -> None:
    from hubdev.demo import synthetic

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
