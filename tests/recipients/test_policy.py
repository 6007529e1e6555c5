"""The policy file: the bundled one is valid, and every kind of mistake stops the hub with one
clear line naming the rule and the problem."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from hub.routing.policy import PolicyError, load_policy, parse_policy
from hub.settings import HubSettings
from hub.tools.policy import rule_rows

BUNDLED = HubSettings().routing.policy_path


def _bundled() -> dict[str, Any]:
    return tomllib.loads(BUNDLED.read_text(encoding="utf-8"))


def _rule(raw: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in raw["rules"] if r["id"] == rule_id)


def test_the_bundled_policy_is_valid() -> None:
    policy = load_policy(BUNDLED)
    assert {r.recipient.value for r in policy.rules} == {
        "police-register",
        "nav",
        "municipality",
        "health",
        "correctional",
        "person",
    }


def _unknown_key(raw: dict[str, Any]) -> None:
    _rule(raw, "nav.imprisoned")["fields_"] = []


def _unknown_type(raw: dict[str, Any]) -> None:
    _rule(raw, "nav.released")["types"] = ["no.kriminalomsorgen.release.done.v1"]


def _unknown_field(raw: dict[str, Any]) -> None:
    _rule(raw, "nav.released")["fields"].append("data.release.shoe_size")


def _field_outside_schema(raw: dict[str, Any]) -> None:
    _rule(raw, "nav.released")["fields"].append("data.case")


def _duplicate_id(raw: dict[str, Any]) -> None:
    _rule(raw, "nav.released")["id"] = "nav.imprisoned"


def _unknown_recipient(raw: dict[str, Any]) -> None:
    raw["recipients"]["tax-office"] = {"description": "x", "receipts": "receipts.tax.v1"}


def _rule_for_undeclared_recipient(raw: dict[str, Any]) -> None:
    del raw["recipients"]["nav"]


def _topic_without_place(raw: dict[str, Any]) -> None:
    _rule(raw, "municipality.release-completed")["topic"] = "out.municipality.v1"


def _topic_bad_name(raw: dict[str, Any]) -> None:
    _rule(raw, "nav.released")["topic"] = "out/nav v1"


def _lead_time_on_completed(raw: dict[str, Any]) -> None:
    _rule(raw, "municipality.release-completed")["lead_time"] = True


def _unknown_condition(raw: dict[str, Any]) -> None:
    _rule(raw, "health.release")["when"] = {"consent": "HELSE", "weather": "fine"}


def _unknown_consent(raw: dict[str, Any]) -> None:
    _rule(raw, "health.release")["when"] = {"consent": "TANNLEGE"}


MISTAKES = [
    (_unknown_key, "rule nav.imprisoned: unknown key 'fields_'"),
    (_unknown_type, "rule nav.released: unknown event type no.kriminalomsorgen.release.done.v1"),
    (_unknown_field, "rule nav.released: field data.release.shoe_size is in none of the rule"),
    (_field_outside_schema, "rule nav.released: field data.case is not in the nav message schema"),
    (_duplicate_id, "rule nav.imprisoned: the id is used by an earlier rule"),
    (_unknown_recipient, "unknown recipient 'tax-office'"),
    (_rule_for_undeclared_recipient, "rule nav.imprisoned: recipient nav has no [recipients]"),
    (_topic_without_place, "'out.municipality.v1' must name {municipality}"),
    (_topic_bad_name, "does not make a valid Kafka topic name"),
    (_lead_time_on_completed, "lead_time is only for planned events"),
    (_unknown_condition, "rule health.release: unknown key 'weather'"),
    (_unknown_consent, "rule health.release: when.consent: Input should be"),
]


@pytest.mark.parametrize(("spoil", "message"), MISTAKES, ids=[m[0].__name__ for m in MISTAKES])
def test_each_mistake_is_refused_with_one_clear_line(spoil: Any, message: str) -> None:
    raw = _bundled()
    spoil(raw)
    with pytest.raises(PolicyError) as caught:
        parse_policy(raw)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_file_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("version = [", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy\.toml: not valid TOML"):
        load_policy(path)


def test_policy_show_lists_the_new_recipients_and_conditions_readably() -> None:
    rows = {row[0]: row for row in rule_rows(load_policy(BUNDLED))}
    assert rows["municipality.transfer-planned"][3] == (
        "residence_municipality=present, "
        "to_execution_form=ELEKTRONISK_KONTROLL|INSTITUSJON|OVERGANGSBOLIG"
    )
    assert rows["municipality.transfer-planned"][6] == "receipt"
    assert rows["correctional.judgment"][1] == "correctional"
    assert rows["person.planned-release"][5] == "out.person.v1"
