"""What operators' views show of an input's key and headers: never a source's free text."""

from __future__ import annotations

from hub.operations.entries import shown_headers, shown_key


def test_a_key_is_shown_only_with_the_shape_of_an_id() -> None:
    assert (
        shown_key(b"pk-0123456789abcdef0123456789abcdef") == "pk-0123456789abcdef0123456789abcdef"
    )
    assert shown_key(b"POL-OSLO-2025-118842") == "POL-OSLO-2025-118842"
    assert "Kari" not in shown_key(b"Kari Nordmann")
    assert "45619" not in shown_key(b"128385-45619")
    assert shown_key(None) == "-"


def test_hub_headers_are_shown_masked_and_a_sources_own_only_if_id_shaped() -> None:
    shown = dict(
        shown_headers(
            (
                ("hub-dlq-reason-text", b"person 128385 45619 refused"),
                ("content-type", b"application/xml"),
                ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                ("x-person", b"Kari Nordmann"),
                ("Kari Nordmann", b"1"),
            )
        )
    )
    assert shown["hub-dlq-reason-text"] == "person *********** refused"
    assert shown["content-type"] == "application/xml"
    assert "Kari" not in repr(shown)
    # A source's header names are its own words too: hidden unless shaped like an id.
    assert set(shown) == {"hub-dlq-reason-text", "content-type", "***"}
