"""Beams as music21 makes them, with its one known inconsistency repaired and its warnings
logged rather than printed.

music21's beaming (`meter.TimeSignature.getBeams`) can leave a beam that opens as a
forward hook (`partial`, `right`) on one note and is then stopped or continued on the
next: a dotted 16th and a 16th across the middle of a beat. It says so on the process's
stderr (`environment.Environment.warn`: "beam: WARNING: Found a messed up beam pair" and
the whole beam list), which a user of `clef export` saw as stray output, and writes the
pair into the MusicXML as it is. Here the beam module's warnings go to the log (debug),
and `repair_beams` turns such a hook into the beam's start.
"""

from __future__ import annotations

import logging

from music21 import beam, environment, stream

log = logging.getLogger(__name__)


class _LoggedEnvironment(environment.Environment):
    """music21's per-module environment with its warnings sent to Clef's log."""

    def warn(self, msg, header=None) -> None:
        log.debug("music21 %s: %s", self.modNameParent, msg)


def log_beam_warnings() -> None:
    """Send the warnings of music21's beam module to the log (idempotent)."""
    if not isinstance(beam.environLocal, _LoggedEnvironment):
        beam.environLocal = _LoggedEnvironment("beam")


def repair_beams(score: stream.Score) -> int:
    """Turn each forward hook that the next beamed note of its voice stops or continues
    into a start. Returns how many were repaired."""
    repaired = 0
    for measure in score.recurse().getElementsByClass(stream.Measure):
        voices = list(measure.voices) or [measure]
        for voice in voices:
            chain = [n for n in voice.notes if n.beams.beamsList]
            for this, nxt in zip(chain, chain[1:], strict=False):
                repaired += _repair_pair(this.beams, nxt.beams)
    return repaired


def _repair_pair(this: beam.Beams, nxt: beam.Beams) -> int:
    repaired = 0
    for b in this.beamsList:
        if b.type != "partial" or b.direction != "right" or b.number not in nxt.getNumbers():
            continue
        if nxt.getByNumber(b.number).type in ("stop", "continue"):
            b.type, b.direction = "start", None
            repaired += 1
    return repaired
