"""Verovio engraving: a built score -> MusicXML -> SVG pages (and MEI).

One Verovio toolkit per thread is created on first use (it loads its fonts once) and
reused; the score view engraves on a worker thread. Element ids written by
`notation.score` survive into the SVG (`<g id="n17" class="note">`), which is how the
score view maps clicks to notes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clef_app.errors import ClefError
from clef_app.notation.steps import Steps, run_to_end, scaled

if TYPE_CHECKING:  # music21 is imported where a score is written: svg_pdf's child process
    from music21 import stream  # engraves MusicXML pages without it

# page sizes in Verovio units (tenths of a millimetre), portrait
PAGE_SIZES = {"a4": (2100, 2970), "letter": (2159, 2794)}
# A4 portrait
PAGE_OPTIONS = {
    "pageWidth": 2100,
    "pageHeight": 2970,
    "pageMarginTop": 100,
    "pageMarginBottom": 100,
    "pageMarginLeft": 100,
    "pageMarginRight": 100,
    "scale": 40,  # percent: staff size about 7 mm, like a printed piano score
    "footer": "none",
    "header": "auto",
    "breaks": "auto",
    "adjustPageHeight": False,
    "svgViewBox": True,
}
# The screen: one column of systems as wide as the view, pages as tall as their content
SCREEN_OPTIONS = {
    **PAGE_OPTIONS,
    "pageWidth": 3000,  # wider than A4: more bars a system, a grand-staff system ~1/7 as tall
    # as it is wide on screen, so the score pane shows one whole
    "pageHeight": 60000,
    "pageMarginTop": 50,
    "pageMarginBottom": 50,
    "scale": 40,
    "header": "none",
    "adjustPageHeight": True,
    "minLastJustification": 0.0,  # a segment's last system spans the width like the others
}

TRANSCRIBED_BY = "transcribed by Clef"


def page_options(size: str = "a4") -> dict:
    """Verovio's options for printed pages of `size` ("a4" or "letter")."""
    width, height = PAGE_SIZES[size]
    return {**PAGE_OPTIONS, "pageWidth": width, "pageHeight": height}


_local = threading.local()
# SMuFL metronome glyphs (Verovio writes them in its Leipzig text font, which SVG renderers
# outside a browser do not have) -> Unicode music symbols any common text font has
_SMUFL_TEXT = {
    "\ueca3": "\U0001d15e", "\ueca5": "\u2669", "\ueca7": "\u266a", "\uecb7": ".",  # metNote*
    "\ue1d3": "\U0001d15e", "\ue1d5": "\u2669", "\ue1d7": "\u266a", "\ue1e7": ".",  # older
}
_SMUFL_SPAN = re.compile(r'<tspan font-family="Leipzig" font-size="(\d+)px">([^<]*)</tspan>')


class EngraveError(ClefError):
    """Verovio could not read or lay out the score."""


@dataclass(frozen=True)
class Engraving:
    pages: list[str]  # SVG documents, one per page


def _toolkit():
    tk = getattr(_local, "toolkit", None)
    if tk is None:
        import verovio

        verovio.enableLog(verovio.LOG_OFF)
        tk = verovio.toolkit()
        # the default resource path is set per thread at import; other threads need it set
        tk.setResourcePath(str(Path(verovio.__file__).parent / "data"))
        _local.toolkit = tk
    return tk


def to_musicxml(score: stream.Score, page_size: str | None = None,
                part_name: str | None = None) -> str:
    """The score as a MusicXML 4.0 document (`musicxml_steps` run to its end)."""
    return run_to_end(musicxml_steps(score, page_size, part_name))


def musicxml_steps(score: stream.Score, page_size: str | None = None,
                   part_name: str | None = None) -> Steps[str]:
    """The score as a MusicXML 4.0 document, yielding the fraction done: music21's writer,
    a chunk of bars at a time (`score_xml`), then `_tidy`. Valid against the MusicXML 4.0
    XSD, with the title and composer of the score's metadata (none rather than music21's
    "Music21") also as a title block (credits: title, composer, "transcribed by Clef"),
    unique element ids, a pickup bar marked implicit, and the page size if given ("a4" or
    "letter"). `part_name` replaces "Piano" before the first system (the screen's later
    segments say "Pno." there)."""
    from clef_app.notation import score_xml

    writer = yield from scaled(score_xml.musicxml_steps(score), 0.0, WRITTEN_SHARE)
    md = score.metadata
    _tidy(writer.xmlRoot, (md.title or "") if md else "", (md.composer or "") if md else "",
          page_size, part_name or PART_NAME)
    data = yield from scaled(score_xml.serialise_steps(writer), WRITTEN_SHARE, 1.0)
    return data.decode("utf-8")


WRITTEN_SHARE = 0.95  # of the MusicXML's CPU time: notating and writing (the rest: its text)


PART_NAME, PART_ABBREVIATION = "Piano", "Pno."  # printed before the first and later systems


def _tidy(root, title: str, composer: str, page_size: str | None = None,
          part_name: str = "Piano") -> None:
    """Fix music21's MusicXML in place (an ElementTree root of score-partwise)."""
    from xml.etree.ElementTree import Element, SubElement

    title, composer = title.strip(), composer.strip()
    for tag in ("work", "movement-number", "movement-title"):
        for el in root.findall(tag):
            root.remove(el)
    header = []
    if title:
        work = Element("work")
        SubElement(work, "work-title").text = title
        header.append(work)
        header.append(Element("movement-title"))
        header[-1].text = title
    for i, el in enumerate(header):
        root.insert(i, el)
    ident = root.find("identification")
    if ident is not None:
        for el in ident.findall("creator"):
            ident.remove(el)
        if composer:
            creator = Element("creator", type="composer")
            creator.text = composer
            ident.insert(0, creator)
        software = ident.find("encoding/software")
        if software is not None:
            software.text = f"Clef ({software.text})"
    page = _page_layout(root, page_size)
    _title_block(root, title.strip(), composer.strip(), page)
    for el in root.iter("instrument-abbreviation"):
        el.text = PART_ABBREVIATION
    for part in root.iter("score-part"):
        for tag, text in (("part-name", part_name), ("part-abbreviation", PART_ABBREVIATION)):
            el = part.find(tag)
            if el is None:
                el = Element(tag)
                part.insert(0 if tag == "part-name" else 1, el)
            el.text = text
    for part in root.iter("part"):
        first = part.find("measure")
        if first is not None and first.get("number") == "0":
            first.set("implicit", "yes")  # a pickup: MuseScore counts bar 1 after it
    _unique_ids(root)


def _page_layout(root, page_size: str | None) -> tuple[float, float, float] | None:
    """<defaults><page-layout> for the page size, in the file's tenths (its <scaling>).

    Returns:
        (width, height, margin) in tenths, or None without a page size.
    """
    from xml.etree.ElementTree import SubElement

    defaults = root.find("defaults")
    if page_size is None or defaults is None or defaults.find("page-layout") is not None:
        return None
    scaling = defaults.find("scaling")
    mm = float(scaling.findtext("millimeters", "7")) if scaling is not None else 7.0
    tenths = float(scaling.findtext("tenths", "40")) if scaling is not None else 40.0
    width, height = (v / 10 * tenths / mm for v in PAGE_SIZES[page_size])  # mm -> tenths
    layout = SubElement(defaults, "page-layout")
    for tag, value in (("page-height", height), ("page-width", width)):
        SubElement(layout, tag).text = f"{value:.1f}"
    margins = SubElement(layout, "page-margins", type="both")
    for tag in ("left-margin", "right-margin", "top-margin", "bottom-margin"):
        SubElement(margins, tag).text = f"{10 * tenths / mm:.1f}"  # 1 cm
    if scaling is not None:  # page-layout follows scaling in <defaults>
        defaults.remove(layout)
        defaults.insert(list(defaults).index(scaling) + 1, layout)
    return width, height, 10 * tenths / mm


def _title_block(root, title: str, composer: str,
                 page: tuple[float, float, float] | None = None) -> None:
    """Credits of page 1 (which Verovio and MuseScore print as the title block): the title
    centred, the composer on the right, "transcribed by Clef" on the left; placed on the
    `page` (width, height, margin in tenths) when the file gives its size."""
    from xml.etree.ElementTree import Element, SubElement

    items = [("title", title, "center", "top", "20", 0.5, 0),
             ("composer", composer, "right", "bottom", "11", 1.0, 1),
             ("arranger", TRANSCRIBED_BY, "left", "bottom", "9", 0.0, 1)]
    at = list(root).index(root.find("part-list"))
    for kind, text, justify, valign, size, across, line in items:
        if not text:
            continue
        credit = Element("credit", page="1")
        SubElement(credit, "credit-type").text = kind
        words = SubElement(credit, "credit-words", justify=justify, valign=valign)
        if page is not None:
            width, height, margin = page
            words.set("default-x", f"{margin + across * (width - 2 * margin):.1f}")
            words.set("default-y", f"{height - margin - line * 100:.1f}")
        words.set("font-size", size)
        words.text = text
        root.insert(at, credit)
        at += 1


def _unique_ids(root) -> None:
    """Give a repeated element id a fresh suffix ("n17" -> "n17-9"), which still names its
    note (`score.note_id_of`), so the file has no duplicate xs:ID."""
    seen: set[str] = set()
    later = []
    for el in root.iter():
        ident = el.get("id")
        if ident is None:
            continue
        if el.tag in ("part", "midi-instrument"):  # references (xs:IDREF), not ids
            continue
        if ident in seen:
            later.append(el)
        seen.add(ident)
    for el in later:
        base = re.sub(r"-\d+$", "", el.get("id"))
        k = 2
        while f"{base}-{k}" in seen:
            k += 1
        el.set("id", f"{base}-{k}")
        seen.add(f"{base}-{k}")


def engrave_musicxml(xml: str, options: dict | None = None,
                     on_page: Callable[[int, int], None] | None = None) -> Engraving:
    """SVG pages of a MusicXML (or MEI) document; `on_page(i, n)` is told when the n pages
    are laid out (i = 0) and as each is drawn (i = 1..n). Verovio's layout itself, one
    call, tells nothing while it works."""
    tk = _toolkit()
    tk.resetOptions()
    tk.setOptions(dict(options or PAGE_OPTIONS))
    if not tk.loadData(xml):
        raise EngraveError("Verovio could not read the score")
    n = tk.getPageCount()
    if n < 1:
        raise EngraveError("Verovio laid out no pages")
    pages = []
    for i in range(n + 1):
        if i:
            pages.append(portable_svg(tk.renderToSVG(i)))
        if on_page is not None:
            on_page(i, n)
    return Engraving(pages)


def engrave_pages(score: stream.Score, size: str = "a4") -> Engraving:
    """Printed pages of `size` ("a4", "letter") with the title block (`printed_pages`)."""
    return printed_pages(to_musicxml(score), size)


def printed_pages(xml: str, size: str = "a4",
                  on_page: Callable[[int, int], None] | None = None) -> Engraving:
    """Printed pages of a MusicXML document on `size` ("a4", "letter") with its title
    block: the credits, read by Verovio into its page head, the title set large
    (`on_page` as for `engrave_musicxml`)."""
    tk = _toolkit()
    tk.resetOptions()
    tk.setOptions(page_options(size))
    if not tk.loadData(xml):
        raise EngraveError("Verovio could not read the score")
    mei = _TITLE_REND.sub(r'\1 fontsize="x-large"\2', tk.getMEI({"pageNo": 0}), count=1)
    return engrave_musicxml(mei, page_options(size), on_page)


_TITLE_REND = re.compile(r'(<pgHead\b[^>]*>\s*<rend\b[^>]*halign="center"[^>]*?)(\s*/?>)')


def portable_svg(svg: str) -> str:
    """Verovio SVG with its music-font text (tempo marks) in plain Unicode text."""

    def swap(m: re.Match) -> str:
        text = "".join(_SMUFL_TEXT.get(c, "") for c in m.group(2))
        size = int(int(m.group(1)) * 0.6)
        return f'<tspan font-family="DejaVu Sans, sans-serif" font-size="{size}px">{text}</tspan>'

    return _SMUFL_SPAN.sub(swap, svg)


def engrave(score: stream.Score, options: dict | None = None) -> Engraving:
    return engrave_musicxml(to_musicxml(score), options)


def to_mei(score: stream.Score) -> str:
    """The score as MEI (converted by Verovio from music21's MusicXML)."""
    return musicxml_to_mei(to_musicxml(score))


def musicxml_to_mei(xml: str) -> str:
    """A MusicXML document as MEI (Verovio's, with `mei_with_attributes`)."""
    tk = _toolkit()
    tk.resetOptions()
    tk.setOptions(dict(PAGE_OPTIONS))
    if not tk.loadData(xml):
        raise EngraveError("Verovio could not read the score")
    return mei_with_attributes(tk.getMEI({"pageNo": 0, "scoreBased": True}))


_STAFF_DEF = re.compile(r"<(staffDef)\b([^>]*)>(.*?)</staffDef>", re.S)
_SCORE_DEF = re.compile(r"<(scoreDef)\b([^>]*)>(.*?)</scoreDef>", re.S)


def mei_with_attributes(mei: str) -> str:
    """Meter and key also as staffDef/scoreDef attributes (meter.count, key.sig).

    Verovio writes them as child elements only; readers such as music21's take the
    attribute form, which MEI allows alongside.
    """

    def add(m: re.Match) -> str:
        tag, attrs, body = m.group(1), m.group(2), m.group(3)
        if tag == "scoreDef" and "<staffDef" in body:
            return m.group(0)
        extra = ""
        meter = re.search(r'<meterSig[^>]*count="(\d+)"[^>]*unit="(\d+)"', body)
        if meter and "meter.count" not in attrs:
            extra += f' meter.count="{meter.group(1)}" meter.unit="{meter.group(2)}"'
        key = re.search(r'<keySig[^>]*sig="([^"]+)"', body)
        if key and "key.sig" not in attrs:
            extra += f' key.sig="{key.group(1)}"'
        return f"<{tag}{attrs}{extra}>{body}</{tag}>"

    return _SCORE_DEF.sub(add, _STAFF_DEF.sub(add, mei))
