"""Export notes as a score file, chosen by suffix: MusicXML, MIDI, PDF or MEI.

- .musicxml / .xml: music21's MusicXML writer.
- .mid / .midi: music21's MIDI writer, with a tempo event at every bar (the tracked tempo
  map, so the file plays back in the performance's timing), time signatures and keys.
- .pdf: every page of the Verovio engraving, converted to vector PDF by CairoSVG and
  joined with pypdf (no raster images).
- .mei: Verovio's MEI (it declares MEI 6.0-dev) of the same MusicXML, with meter and key
  also as staffDef attributes for music21's reader. Checked: well-formed, Verovio reloads
  and lays it out without a warning, music21 reads it. Not checked: validity against the
  MEI schema (no copy of it is reachable offline; `key.sig` there is MEI 3's spelling,
  which MEI 4 and later call `keysig`), and converter21's reader (MEI 4 and 5 only).
"""

from __future__ import annotations

import copy
import io
from collections.abc import Sequence
from pathlib import Path

from music21 import duration, stream, tempo

from clef_app.atomic import atomic_write_bytes, check_output
from clef_app.errors import ClefError
from clef_app.notation.engrave import PAGE_OPTIONS, engrave, to_mei, to_musicxml
from clef_app.notation.events import NoteEvent
from clef_app.notation.score import ScoreResult, build_score

SUFFIXES = (".musicxml", ".xml", ".mid", ".midi", ".pdf", ".mei")


class ExportError(ClefError):
    """The format is unknown or the file could not be written."""


def export(
    notes: Sequence[NoteEvent], settings: dict | None, path: str | Path,
    result: ScoreResult | None = None,
) -> Path:
    """Write the score of `notes` to `path` in the format its suffix names.

    Args:
        notes: the document's notes.
        settings: score settings (see notation.settings).
        path: the output file; .musicxml, .xml, .mid, .midi, .pdf or .mei.
        result: an already built score of these notes and settings, to reuse.

    Returns:
        the path written.
    Raises:
        WriteError: the path cannot be written (checked before the score is built); the
            file is replaced atomically, so a failure leaves the old one as it was.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ExportError(f"cannot write {path.name}: use one of {', '.join(SUFFIXES)}")
    check_output(path)
    result = result or build_score(notes, settings)
    if suffix in (".musicxml", ".xml"):
        data: bytes = to_musicxml(result.score).encode("utf-8")
    elif suffix in (".mid", ".midi"):
        data = midi_bytes(result)
    elif suffix == ".pdf":
        data = pdf_bytes(result.score)
    else:
        data = to_mei(result.score).encode("utf-8")
    atomic_write_bytes(path, data)
    return path


def midi_bytes(result: ScoreResult) -> bytes:
    """A Standard MIDI File of the score with a tempo event per bar."""
    from music21.midi import translate

    score = copy.deepcopy(result.score)
    part = score.parts[0]
    beat = result.timing.beat_quarters
    measures = list(part.getElementsByClass(stream.Measure))
    for bar, m in zip(result.bars, measures, strict=False):
        for old in m.getElementsByClass(tempo.MetronomeMark):
            m.remove(old)
        bpm = result.tempo_map.mean_bpm(float(bar.start), float(bar.end)) / float(beat)
        mark = tempo.MetronomeMark(number=round(bpm, 2), referent=duration.Duration(float(beat)))
        m.insert(0, mark)
    mf = translate.music21ObjectToMidiFile(score)
    return mf.writestr()


def pdf_bytes(score: stream.Score) -> bytes:
    """Every engraved page as one vector PDF."""
    import cairosvg
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for svg in engrave(score, PAGE_OPTIONS).pages:
        page_pdf = cairosvg.svg2pdf(bytestring=svg.encode("utf-8"), output_width=595,
                                    output_height=842)  # A4 in points
        for page in PdfReader(io.BytesIO(page_pdf)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
