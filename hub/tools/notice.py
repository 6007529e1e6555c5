"""`hub notice print` behind the CLI: the notice to the person as a printable PDF letter.

The letter is drawn from the message the person's topic carries (`out.person.v1`), so it says
exactly what was sent. fpdf2 writes it with a standard PDF font: letters outside Latin-1 (a name
from another alphabet) are written without their accents, or as "?" when there is no close
Latin-1 letter; the message on the topic keeps them.
"""

from __future__ import annotations

import json
import unicodedata
from typing import TYPE_CHECKING, Any, Final

from hub.kafka.reader import read_topic
from hub.pipeline import headers as h
from hub.recipients.notice import date_words
from hub.settings import HubSettings

if TYPE_CHECKING:
    from fpdf import FPDF

__all__ = ["find_notice", "letter_pdf"]

_PERSON_TOPIC: Final = "out.person.v1"
# (bokmål, nynorsk)
_HEADINGS: Final = {
    "to": ("Til", "Til"),
    "told": ("Hvem som har fått vite om dette", "Kven som har fått vite om dette"),
    "received": ("Fikk", "Fekk"),
    "basis": ("Grunnlag", "Grunnlag"),
    "reference": ("Referanse", "Referanse"),
    "date": ("Dato", "Dato"),
    "rights": ("Dine rettigheter", "Rettane dine"),
}


async def find_notice(settings: HubSettings, message_id: str) -> dict[str, Any] | None:
    """The person's message `message_id`, as sent, or None."""
    topic = settings.topics.recipient_prefix + _PERSON_TOPIC
    found: dict[str, Any] | None = None
    # Read to the end rather than leave the reader early: a reader left open keeps its
    # consumer's connections until the event loop gets round to closing it.
    async for record in read_topic(settings.kafka_connection(), topic):
        if found is None and record.header(h.EVENT_ID) == message_id:
            found = json.loads(record.value)
    return found


def letter_pdf(message: dict[str, Any]) -> bytes:
    """The notice in `message` (a person message) as an A4 PDF letter."""
    data = message.get("data") or {}
    notice = data.get("notice")
    if notice is None:
        raise ValueError("the message holds no notice (a withdrawal or cancellation without one)")
    nb = notice["language"] == "nb"

    def say(key: str) -> str:
        pair = _HEADINGS[key]
        return pair[0] if nb else pair[1]

    # Imported here: fpdf and its font tools are half of every `hub` command's start-up.
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_title(_latin1(notice["title"]))
    pdf.add_page()
    _line(pdf, data.get("unit", {}).get("name", ""), size=10)
    _line(pdf, f"{say('date')}: {date_words(message['time'])}", size=10)
    person = data.get("person", {})
    name = " ".join(p for p in (person.get("given_name"), person.get("family_name")) if p)
    _line(pdf, f"{say('to')}: {name}", size=10)
    pdf.ln(6)
    _line(pdf, notice["title"], size=15, bold=True)
    pdf.ln(2)
    _paragraph(pdf, notice["what"])
    _line(pdf, say("told"), size=12, bold=True)
    for told in notice["told"]:
        _paragraph(pdf, told["agency"], bold=True, after=0)
        _paragraph(pdf, f"{say('received')}: {', '.join(told['received'])}.", after=0)
        _paragraph(pdf, f"{say('basis')}: {told['legalbasis']}", size=9)
    if notice.get("nobody_else"):
        _paragraph(pdf, notice["nobody_else"])
    _paragraph(pdf, notice["basis"])
    _line(pdf, say("rights"), size=12, bold=True)
    _paragraph(pdf, notice["rights"])
    _paragraph(pdf, f"{say('reference')}: {notice['reference']}", size=9)
    return bytes(pdf.output())


def _line(pdf: FPDF, text: str, *, size: int, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", size)
    pdf.cell(0, size * 0.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def _paragraph(
    pdf: FPDF, text: str, *, size: int = 11, bold: bool = False, after: float = 3
) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", size)
    pdf.multi_cell(0, size * 0.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(after)


def _latin1(text: str) -> str:
    """`text` in the standard fonts' Latin-1: other letters without accents, else "?"."""
    out = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
            continue
        bare = "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) < 256)
        out.append(bare or "?")
    return "".join(out)
