"""Export notes as a file, chosen by suffix (and, for MIDI, by kind): MusicXML, MIDI, PDF, MEI.

- .musicxml / .xml: music21's MusicXML writer.
- .mid / .midi: by default the notes in the recording's time (`midi_export`), so the file
  lines up with the audio in a DAW; kind "midi_score" writes the quantised score instead,
  its first downbeat at the recording's, with a tempo event at every tracked beat.
- .pdf: every page of the Verovio engraving on A4 or US Letter (the settings' page_size,
  else the locale's), with a title block (title, composer, "transcribed by Clef"),
  converted to vector PDF by CairoSVG and joined with pypdf (no raster images), in a child
  process (`svg_pdf`).
- .mei: Verovio's MEI (it declares MEI 6.0-dev) of the same MusicXML, with meter and key
  also as staffDef attributes for music21's reader. Checked: well-formed, Verovio reloads
  and lays it out without a warning, music21 reads it. Not checked: validity against the
  MEI schema (no copy of it is reachable offline; `key.sig` there is MEI 3's spelling,
  which MEI 4 and later call `keysig`), and converter21's reader (MEI 4 and 5 only).

`export_steps` is the same work as a generator of progress fractions, checked for
cancellation between steps (and, inside the long stages of a large score, at
`steps.checkpoint`s); the file is written (atomically) only at its end. The MusicXML is
written a chunk of bars at a time (`score_xml`); Verovio's work for PDF and MEI runs in a
child process (`svg_pdf`), stopped at once when the export is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from music21 import stream

from clef_app.atomic import atomic_write_bytes, check_output
from clef_app.errors import ClefError
from clef_app.notation import svg_pdf
from clef_app.notation.engrave import musicxml_steps
from clef_app.notation.events import NoteEvent
from clef_app.notation.midi_export import performance_midi_bytes, score_midi_bytes
from clef_app.notation.score import ScoreResult, build_score_steps
from clef_app.notation.settings import ScoreSettings, page_size_of
from clef_app.notation.steps import Cancelled, run_to_end, scaled, stop_when

SUFFIXES = (".musicxml", ".xml", ".mid", ".midi", ".pdf", ".mei")


class ExportError(ClefError):
    """The format is unknown or the file could not be written."""


def export(
    notes: Sequence[NoteEvent], settings: dict | None, path: str | Path,
    result: ScoreResult | None = None, kind: str | None = None,
) -> Path:
    """Write `notes` to `path` in the format its suffix names.

    Args:
        notes: the document's notes.
        settings: score settings (see notation.settings).
        path: the output file; .musicxml, .xml, .mid, .midi, .pdf or .mei.
        result: an already built score of these notes and settings, to reuse.
        kind: "midi_score" for the quantised score as MIDI; otherwise MIDI is the notes in
            the recording's time.

    Returns:
        the path written.
    Raises:
        WriteError: the path cannot be written (checked before the score is built); the
            file is replaced atomically, so a failure leaves the old one as it was.
    """
    return run_to_end(export_steps(notes, settings, path, result, kind))


def export_steps(
    notes: Sequence[NoteEvent], settings: dict | None, path: str | Path,
    result: ScoreResult | None = None, kind: str | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[float]:
    """`export` as a generator: yields the fraction done (0..1), returns the path, or None
    when `cancelled()` became true inside a long stage (nothing is written then)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ExportError(f"cannot write {path.name}: use one of {', '.join(SUFFIXES)}")
    check_output(path)
    yield 0.0
    with stop_when(cancelled):
        try:
            data = yield from _data_steps(notes, settings, suffix, result, kind)
        except Cancelled:
            return None
    yield 1.0
    atomic_write_bytes(path, data)
    return path


def _data_steps(notes: Sequence[NoteEvent], settings: dict | None, suffix: str,
                result: ScoreResult | None, kind: str | None) -> Iterator[float]:
    """The bytes of the file `suffix` names, yielding the fraction done."""
    if suffix in (".mid", ".midi") and kind != "midi_score":
        return performance_midi_bytes(notes)
    if result is None:
        result = yield from scaled(build_score_steps(notes, settings), 0.0, 0.3)
    size = page_size_of(ScoreSettings.from_dict(settings))
    if suffix in (".musicxml", ".xml"):
        xml = yield from scaled(musicxml_steps(result.score, size), 0.3, 0.98)
        return xml.encode("utf-8")
    if suffix in (".mid", ".midi"):
        return score_midi_bytes(result)
    if suffix == ".pdf":
        return (yield from pdf_steps(result.score, size))
    xml = yield from scaled(musicxml_steps(result.score), 0.3, 0.6)
    return (yield from scaled(svg_pdf.mei_steps(xml), 0.6, 0.98)).encode("utf-8")


def pdf_steps(score: stream.Score, size: str = "a4") -> Iterator[float]:
    """`pdf_bytes` yielding progress: the MusicXML, then engraving on pages of `size`
    ("a4", "letter") and each page converted, in a child process (`svg_pdf`, so a window
    exporting on a worker thread never stalls)."""
    xml = yield from scaled(musicxml_steps(score), 0.3, 0.6)
    return (yield from scaled(svg_pdf.pdf_steps(None, size, musicxml=xml), 0.6, 0.98))


def pdf_bytes(score: stream.Score, size: str = "a4") -> bytes:
    """Every engraved page as one vector PDF."""
    steps = pdf_steps(score, size)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
