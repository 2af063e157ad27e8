"""What a live view showed and when: each true note's latency to its first appearance.

`ShownLog` is fed, at every pull of the live view (`LiveSession.pump()`), the notes that
became final and the provisional notes on screen, with the clock at that moment. Against
ground-truth notes it answers what a user would ask: how long after a note sounded in the
room did it first appear on screen (provisional or final), and how many provisional notes
were shown and later withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from clef_app.notation.events import NoteEvent

MATCH_SECONDS = 0.05  # s: a shown note within this of a true onset (same pitch) is that note
SAME_NOTE = 0.06  # s: provisional notes this close in onset (same pitch) are one note


@dataclass
class Provisional:
    """One provisional note as the user saw it over time (its onset may wobble a little)."""

    pitch: int
    onset: float  # s, recording time, when first shown
    first: float  # clock when first shown
    visible: bool = True
    returns: int = 0  # times it vanished and came back


@dataclass
class ShownLog:
    """What was on screen, pull by pull.

    Args:
        start: the clock at which recording time 0 sounded (the stream's first sample).
    """

    start: float
    final: list[tuple[NoteEvent, float]] = field(default_factory=list)  # (note, clock shown)
    provisional: list[Provisional] = field(default_factory=list)
    # (pitch, onset in ms) -> clock when a provisional note was first shown there exactly
    shown_at: dict[tuple[int, int], float] = field(default_factory=dict)

    def update(self, clock: float, completed: list[NoteEvent], sounding: list[NoteEvent]) -> None:
        """Record one pull: notes that became final, and the provisional notes now shown."""
        self.final += [(n, clock) for n in completed]
        seen: set[int] = set()
        for n in sounding:
            self.shown_at.setdefault((n.pitch, round(n.onset * 1000)), clock)
            i = self._find(n)
            if i is None:
                self.provisional.append(Provisional(n.pitch, n.onset, clock))
                i = len(self.provisional) - 1
            elif not self.provisional[i].visible:
                self.provisional[i].returns += 1
            self.provisional[i].visible = True
            seen.add(i)
        for i, p in enumerate(self.provisional):
            if p.visible and i not in seen:
                p.visible = False

    def _find(self, n: NoteEvent) -> int | None:
        for i in range(len(self.provisional) - 1, -1, -1):
            p = self.provisional[i]
            if p.pitch == n.pitch and abs(p.onset - n.onset) <= SAME_NOTE:
                return i
        return None

    def first_shown(self, truth: NoteEvent, final_only: bool = False) -> float:
        """Clock at which a note matching `truth` was first on screen (inf: never)."""
        times = [t for n, t in self.final if _matches(n.pitch, n.onset, truth)]
        if not final_only:  # wherever its onset was when it was shown
            times += [t for (pitch, ms), t in self.shown_at.items()
                      if _matches(pitch, ms / 1000, truth)]
        return min(times, default=float("inf"))

    def latency(self, truth: list[NoteEvent], final_only: bool = False) -> np.ndarray:
        """Per true note: s from its onset sounding to its first appearance (inf: never)."""
        return np.array([self.first_shown(g, final_only) - (self.start + g.onset)
                         for g in truth], dtype=float)

    def withdrawn(self, truth: list[NoteEvent]) -> tuple[int, int, int]:
        """(provisional notes shown, later withdrawn, withdrawn that match no true note)."""
        gone = [p for p in self.provisional if not any(
            n.pitch == p.pitch and abs(n.onset - p.onset) <= SAME_NOTE for n, _ in self.final)]
        false = [p for p in gone if not any(_matches(p.pitch, p.onset, g) for g in truth)]
        return len(self.provisional), len(gone), len(false)


def _matches(pitch: int, onset: float, truth: NoteEvent) -> bool:
    return pitch == truth.pitch and abs(onset - truth.onset) <= MATCH_SECONDS


def shown_stats(log: ShownLog, truth: list[NoteEvent]) -> dict:
    """Latency to first appearance at the true notes, and how provisional notes fared.

    "kept": the true notes the final transcription has (the same set whatever the live
    path does, so runs compare); "any": every true note that was ever on screen.
    """
    kept = [g for g in truth if np.isfinite(log.first_shown(g, final_only=True))]
    out: dict = {"truth": len(truth)}
    for kind, notes, final_only in (("kept", kept, False), ("any", truth, False),
                                    ("final", kept, True)):
        lat = log.latency(notes, final_only)
        shown = lat[np.isfinite(lat)]
        out[kind] = {"n": int(shown.size)}
        if shown.size:
            out[kind] |= {"median": float(np.median(shown)),
                          "p95": float(np.percentile(shown, 95)), "max": float(shown.max())}
    total, gone, false = log.withdrawn(truth)
    out["provisional"] = {"shown": total, "withdrawn": gone, "withdrawn_false": false,
                          "returned": sum(p.returns > 0 for p in log.provisional)}
    return out


def format_shown(s: dict, target: float) -> list[str]:
    lines = []
    for kind, what in (("kept", "true notes the final transcription has, first on screen"),
                       ("any", "any true note ever on screen, first on screen"),
                       ("final", "true notes the final transcription has, as final notes")):
        r = s[kind]
        if not r["n"]:
            lines.append(f"{what}: none of {s['truth']} while streaming")
            continue
        ok = "meets" if r["p95"] <= target else "misses"
        lines.append(f"{what} ({r['n']} of {s['truth']} true notes): "
                     f"median {r['median']:.2f} s, p95 {r['p95']:.2f} s, max {r['max']:.2f} s "
                     f"(p95 {ok} the {target} s target)")
    p = s["provisional"]
    lines.append(f"provisional notes shown: {p['shown']}; withdrawn later: {p['withdrawn']} "
                 f"({p['withdrawn_false']} of them match no true note); "
                 f"vanished and came back: {p['returned']}")
    return lines
