"""One key struck again within a moment: the decoder's echoes of a held note, merged.

On fast, dense piano the decoder writes many held notes as chains of short notes of one key,
each beginning 60-100 ms after the last: on maps-dev's first 60 s of the Chopin étude op. 10
no. 1, 256 of v4's 892 notes followed a note of their key by less than 100 ms; the
recording's own notes did 4 times in 733. The decoder reads 16-frame (160 ms) patch
columns, so a re-strike and a key held through a dense texture look alike to it, and its
training renders repeat a key that fast 8.5 % of the time (real piano: 0-4 %).

A note of a key whose onset follows the previous note of that key by less than `gap` joins
it: the chain becomes one note, at the onset of its most confident member (ties: the
earliest), lasting to the chain's last offset, with its highest confidence. The gap is
stored in the checkpoint (`restrike_gap`), chosen as the model card says.

Streams: `Restrikes.settle` returns a chain once no later note can join it, so the result
is the same however the recording is cut into batches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from clef_app.notation.events import NoteEvent, sort_notes


class Restrikes:
    """Merges chains of one key's notes closer than `gap` seconds (onset to onset)."""

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self._open: dict[int, list[NoteEvent]] = {}  # pitch -> its notes not yet given

    def settle(self, notes: Iterable[NoteEvent], until: float = math.inf) -> list[NoteEvent]:
        """Add `notes`; return the chains no later note can join (their last onset is at
        least `gap` before `until`, the time before which every note has been added)."""
        for n in notes:
            self._open.setdefault(n.pitch, []).append(n)
        out = []
        for pitch, waiting in list(self._open.items()):
            left = []
            for chain in _chains(sorted(waiting, key=lambda n: n.onset), self.gap):
                if chain[-1].onset + self.gap <= until:
                    out.append(joined(chain))
                else:
                    left += chain
            if left:
                self._open[pitch] = left
            else:
                del self._open[pitch]
        return sort_notes(out)


def _chains(notes: list[NoteEvent], gap: float) -> list[list[NoteEvent]]:
    """One key's notes (by onset) cut where an onset follows the last by `gap` or more."""
    chains: list[list[NoteEvent]] = []
    for n in notes:
        if chains and n.onset - chains[-1][-1].onset < gap:
            chains[-1].append(n)
        else:
            chains.append([n])
    return chains


def merge_restrikes(notes: Iterable[NoteEvent], gap: float) -> list[NoteEvent]:
    """`notes` with every chain of one key closer than `gap` merged (0: unchanged)."""
    return sort_notes(notes) if gap <= 0 else Restrikes(gap).settle(notes)


def joined(chain: list[NoteEvent]) -> NoteEvent:
    """One note for a chain: its most confident member's onset, velocity and id, the
    chain's last offset and highest confidence."""
    best = max(chain, key=lambda n: (n.confidence, -n.onset))
    if len(chain) == 1:
        return best
    return replace(best, offset=max(n.offset for n in chain),
                   confidence=max(n.confidence for n in chain))
