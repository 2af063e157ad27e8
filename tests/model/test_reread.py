"""Transcribe Again with the shipped checkpoint on the committed 6-s clip: the notes the
user fixed stay exactly as they are and are written into the decoder's sequence, a note
they deleted never comes back, and the model rewrites the rest (reconciled with the old
notes: only what it replaces is removed)."""

from dataclasses import replace
from pathlib import Path

import pytest

from clef_app.model.location import find_checkpoint
from clef_app.model.pipeline import Pipeline
from clef_app.model.reconcile import RECONCILE, REPLACE_ALL
from clef_app.model.reread import Passage
from clef_app.notation.corrections import Corrections
from clef_app.notation.events import NoteEvent, read_notes_tsv

DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.skipif(find_checkpoint() is None, reason="no shipped checkpoint")


@pytest.fixture(scope="module")
def clip():
    pipeline = Pipeline.load(device="cpu", threads=1)  # the CI machine's cores are shared
    return pipeline, pipeline.read(DATA / "opening.flac")


def _near(notes, pitch, onset, tol=0.05):
    return [n for n in notes if n.pitch == pitch and abs(n.onset - onset) <= tol]


def test_reread_keeps_the_users_notes_and_never_brings_a_deleted_one_back(clip):
    pipeline, samples = clip
    notes = read_notes_tsv(DATA / "opening.notes.tsv")  # what Clef wrote for it
    passage = Passage(1.0, 4.0)
    inside = [n for n in notes if passage.holds(n)]
    moved = replace(inside[0], onset=inside[0].onset + 0.03, offset=inside[0].offset + 0.1)
    drawn = NoteEvent(2.5, 2.9, 40, 70)  # a low E the model does not hear
    confirmed = inside[3]
    deleted = max(inside[4:], key=lambda n: n.confidence)  # one the model is sure of
    doc = [n for n in notes if n.id not in (moved.id, deleted.id)] + [moved, drawn]
    fixes = Corrections(frozenset({moved.id, drawn.id, confirmed.id}), (deleted,))
    plain = pipeline.reread(samples, 16_000, notes, passage)
    assert _near(plain.written, deleted.pitch, deleted.onset)  # the model writes it ...

    got = pipeline.reread(samples, 16_000, doc, passage, fixes)

    assert not _near(got.written, deleted.pitch, deleted.onset)  # ... but not once deleted
    assert got.unsatisfied == 0  # every kept note was written into the token sequences
    assert {n.id for n in got.locked} == {moved.id, drawn.id, confirmed.id}
    assert not {moved.id, drawn.id, confirmed.id} & {n.id for n in got.removed}
    free = {n.id for n in doc if passage.holds(n)} - fixes.touched
    assert {n.id for n in got.replaceable} == free
    assert {n.id for n in got.removed} <= free
    assert {n.id for n in got.added} <= {n.id for n in got.written}
    after = {n.id: n for n in doc}
    for n in got.removed:
        del after[n.id]
    after.update({n.id: n for n in got.added})
    for n in (moved, drawn, confirmed):
        assert after[n.id] == n and after[n.id].offset == n.offset  # timing kept exactly
    for n in got.written:  # nothing doubles a kept note or lies outside the passage
        assert passage.holds(n)
        assert not [k for k in (moved, drawn, confirmed) if k.pitch == n.pitch
                    and abs(k.onset - n.onset) <= 0.05]
    assert len(got.written) >= len(free) - 3  # the model rewrote the passage
    # reconciled: only unsure old notes go, only sure new ones come
    assert all(n.confidence < RECONCILE.drop_below for n in got.removed)
    assert all(n.confidence >= RECONCILE.add_from for n in got.added)


def test_a_pitch_box_replaces_only_its_own_notes(clip):
    pipeline, samples = clip
    notes = read_notes_tsv(DATA / "opening.notes.tsv")
    box = Passage(1.0, 4.0, low=60, high=71)
    got = pipeline.reread(samples, 16_000, notes, box, rule=REPLACE_ALL)
    assert got.removed and all(box.holds(n) for n in got.removed)
    assert all(60 <= n.pitch <= 71 and 1.0 <= n.onset < 4.0 for n in got.added)
