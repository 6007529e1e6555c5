"""For any event: no recipient ever receives a field outside its rule's allow-list."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.routing.paths import descendants, model_paths
from schemas.events import EVENT_CLASSES, ConsentRecipient, Need, ReleaseKind, event_type_of
from schemas.recipients import RecipientKind
from tests.events import make_event, sample_data
from tests.recipients.support import Router, leaf_paths

_ROUTER = Router()
_MUNICIPALITIES = [m.code for m in _ROUTER.routing.municipalities.current()] + ["1017"]


@st.composite
def events(draw: st.DrawFn) -> Any:
    cls = draw(st.sampled_from(EVENT_CLASSES))
    family = event_type_of(cls).split(".")[2]
    data = sample_data(family, event_type_of(cls).split(".")[3])
    if family == "release":
        release = data.release.model_copy(
            update={
                "date": draw(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31))),
                "kind": draw(st.sampled_from(list(ReleaseKind))),
                "consent_recipients": tuple(draw(st.sets(st.sampled_from(list(ConsentRecipient))))),
                "needs": tuple(draw(st.sets(st.sampled_from(list(Need))))),
                "residence_municipality": draw(st.none() | st.sampled_from(_MUNICIPALITIES)),
            }
        )
        data = data.model_copy(update={"release": release})
    return make_event(cls, data=data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events(), kind=st.sampled_from(list(RecipientKind)))
def test_no_field_outside_the_rule(event: Any, kind: RecipientKind) -> None:
    routed = Router(routing=_ROUTER.routing).route(event, kind)
    for message in routed.messages():
        rule = _ROUTER.policy.rule(message["rule"])
        assert rule is not None
        assert rule.recipient is kind
        allowed = {
            p
            for field in rule.data_fields
            for p in descendants(model_paths(type(event)), f"data.{field}")
        }
        data = message.get("data", {})
        if kind is RecipientKind.PERSON and "notice" in data:
            # The notice is the hub's own words about the rules, not a field of the event:
            # it repeats no identity number or name, the person's or anyone's.
            notice = json.dumps(data.pop("notice"), ensure_ascii=False)
            person = event.data.person
            assert not re.search(r"\d{11}", notice)
            assert person.given_name not in notice
            assert person.family_name not in notice
        sent = {f"data.{path}" for path in leaf_paths(data) if path}
        assert sent <= allowed
