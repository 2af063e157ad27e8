"""Works from music21's bundled corpus as `Piece`s (notes in quarter lengths), parsed once.

Parsing with music21 is slow (0.2-30 s a work), so each work is parsed in a worker process
under a time limit and its notes are cached as JSON: CACHE/works/<name>.json, or
<name>.failed for a work that cannot be parsed. Ties are joined, repeats are not expanded
(the score is read straight through), grace notes and unpitched notes are dropped.
Folk-song collections (single melodies) are skipped; what remains is mostly polyphonic.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from clef_app.atomic import atomic_write_text
from clef_app.training.perform import Piece

PARSE_SECONDS = 60  # s: a work that takes longer to parse is skipped
HELD_OUT_PERCENT = 5  # % of works (by a hash of the name) kept for validation
MIN_POLYPHONY = 0.3  # fraction of onsets with another note sounding: below, a single line
SKIP_DIRS = {"ryansMammoth", "oneills1850", "essenFolksong", "airdsAirs", "miscFolk",
             "nottingham-dataset", "leadSheet", "theoryExercises", "demos"}  # fmt: skip
# sampling weight per composer folder: keyboard works up, the 1,318 Palestrina masses down
COMPOSER_WEIGHT = {"palestrina": 0.12, "trecento": 0.4, "monteverdi": 0.5, "josquin": 0.6,
                   "bach": 1.0, "ciconia": 0.5, "luca": 0.5, "lusitano": 0.5}  # fmt: skip
KEEP_EVERY = {"palestrina": 3}  # parse only every n-th work of these folders
KEYBOARD_WEIGHT = 3.0  # every other composer (Beethoven, Mozart, Haydn, Schumann, Chopin, ...)


def work_paths() -> list[str]:
    """Corpus-relative paths of the works to use, sorted (e.g. 'bach/bwv66.6.mxl').

    A work present in two formats is taken once (MusicXML first); Palestrina, a third of
    the corpus, is thinned to every KEEP_EVERY-th work.
    """
    from music21 import corpus

    by_stem: dict[str, str] = {}
    for path in corpus.getCorePaths():
        parts = Path(path).parts
        rel = "/".join(parts[parts.index("corpus") + 1 :])
        if rel.split("/")[0] in SKIP_DIRS or rel.endswith(".rntxt"):
            continue
        stem = rel.rsplit(".", 1)[0]
        if stem not in by_stem or rel.endswith((".mxl", ".xml", ".musicxml")):
            by_stem[stem] = rel
    out = []
    for composer_index, rel in _numbered(sorted(by_stem.values())):
        keep = KEEP_EVERY.get(rel.split("/")[0], 1)
        if composer_index % keep == 0:
            out.append(rel)
    return out


def _numbered(names: list[str]) -> list[tuple[int, str]]:
    """Each name with its index among the names of the same top folder."""
    counts: dict[str, int] = {}
    out = []
    for name in names:
        top = name.split("/")[0]
        out.append((counts.get(top, 0), name))
        counts[top] = counts.get(top, 0) + 1
    return out


def _stem(name: str) -> str:
    return name.replace("/", "__")


def work_key(name: str) -> str:
    """The work behind a file: 'bach/bwv18.5-lz.mxl' and 'bach/bwv18.5-w.mxl' are one."""
    stem = name.rsplit(".", 1)[0]
    return re.sub(r"-[a-z]+$", "", stem) if stem.startswith("bach/") else stem


def held_out(name: str) -> bool:
    """Whether a work belongs to the validation pieces (a fixed ~5 % by a hash of the work)."""
    return int(hashlib.md5(work_key(name).encode()).hexdigest(), 16) % 100 < HELD_OUT_PERCENT


def extract(score) -> dict:
    """Notes [start_q, end_q, pitch], bar starts (q) and the bar length (q) of a music21 score."""
    from music21 import stream

    flat = score.stripTies().flatten()
    rows = []
    for el in flat.getElementsByClass(["Note", "Chord"]):
        dur = float(el.quarterLength)
        if dur <= 0 or el.duration.isGrace:
            continue
        start = float(el.offset)
        rows += [[start, start + dur, int(p.midi)] for p in el.pitches]
    parts = score.parts if hasattr(score, "parts") and len(score.parts) else [score]
    bars = [float(m.offset) for m in parts[0].getElementsByClass(stream.Measure)]
    sigs = list(flat.getElementsByClass("TimeSignature"))
    bar = float(sigs[0].barDuration.quarterLength) if sigs else 4.0
    return {"notes": rows, "changes": bars, "beats_per_bar": bar}


def polyphony(notes: np.ndarray) -> float:
    """Fraction of onsets at which some other note sounds (0 = a single line)."""
    if len(notes) < 2:
        return 0.0
    starts = notes[:, 0]
    sounding = [np.sum((notes[:, 0] <= s) & (notes[:, 1] > s)) for s in np.unique(starts)]
    return float(np.mean(np.array(sounding) >= 2))


def _alarm(signum: int, frame: object) -> None:
    raise TimeoutError(f"parsing took more than {PARSE_SECONDS} s")


def parse_one(job: tuple[str, str]) -> tuple[str, str]:
    """Parse one work into the cache (in a worker process); returns (name, error or '')."""
    name, cache = job
    works = Path(cache) / "works"
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PARSE_SECONDS)
    start = time.perf_counter()
    try:
        from music21 import corpus

        score = corpus.parse(name)
        if hasattr(score, "scores"):  # an Opus of several works: the first
            score = score.scores[0]
        data = extract(score)
        signal.alarm(0)
        if len(data["notes"]) < 20:
            raise ValueError("fewer than 20 notes")
        data.update(name=name, parse_seconds=round(time.perf_counter() - start, 2))
        atomic_write_text(works / f"{_stem(name)}.json", json.dumps(data))
        return name, ""
    except BaseException as exc:  # music21 fails in many ways; record and move on
        signal.alarm(0)
        atomic_write_text(works / f"{_stem(name)}.failed", f"{type(exc).__name__}: {exc}"[:500])
        return name, f"{type(exc).__name__}: {str(exc)[:120]}"


def parse_all(cache: Path, workers: int = 2, limit: int | None = None) -> None:
    """Parse every work not yet cached (or failed), then rewrite the index."""
    (cache / "works").mkdir(parents=True, exist_ok=True)
    names = work_paths()[:limit]
    todo = [n for n in names if not _cached(cache, n)]
    print(f"corpus: {len(names)} works, {len(todo)} to parse", flush=True)
    t0, failed = time.perf_counter(), 0
    ctx = get_context("forkserver")  # a fork after torch has started threads can deadlock
    with ctx.Pool(workers, maxtasksperchild=50) as pool:
        jobs = [(n, str(cache)) for n in todo]
        for k, (_name, err) in enumerate(pool.imap_unordered(parse_one, jobs), 1):
            failed += bool(err)
            if k % 100 == 0 or k == len(todo):
                rate = k / (time.perf_counter() - t0)
                print(f"corpus: {k}/{len(todo)} parsed ({failed} failed), {rate:.1f}/s", flush=True)
    write_index(cache)


def _cached(cache: Path, name: str) -> bool:
    stem = _stem(name)
    return (cache / "works" / f"{stem}.json").exists() or (
        cache / "works" / f"{stem}.failed"
    ).exists()


def write_index(cache: Path) -> dict:
    """CACHE/index.json: {name: {"notes": n, "polyphony": p}} for every parsed work."""
    index = {}
    for path in sorted((cache / "works").glob("*.json")):
        data = json.loads(path.read_text())
        notes = np.array(data["notes"], dtype=float).reshape(-1, 3)
        index[data["name"]] = {"notes": len(notes), "polyphony": round(polyphony(notes), 3)}
    atomic_write_text(cache / "index.json", json.dumps(index, indent=0, sort_keys=True))
    return index


def _index(cache: Path) -> dict:
    path = cache / "index.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def cached_names(cache: Path) -> list[str]:
    """Parsed works that are polyphonic enough, sorted."""
    return sorted(n for n, v in _index(cache).items() if v["polyphony"] >= MIN_POLYPHONY)


_COUNTS: dict[str, int] = {}


def weight(name: str) -> float:
    """Sampling weight: the composer's weight times sqrt(notes / 500) (longer works more)."""
    composer = name.split("/")[0]
    factor = COMPOSER_WEIGHT.get(composer, KEYBOARD_WEIGHT)
    n = _COUNTS.get(name, 500)
    return factor * float(np.sqrt(max(n, 50) / 500))


def load_counts(cache: Path) -> None:
    """Note counts used by `weight`."""
    _COUNTS.update({n: v["notes"] for n, v in _index(cache).items()})


def load_piece(cache: Path, name: str) -> Piece:
    """A cached work as a Piece (accent 0 except the highest note of each onset)."""
    data = json.loads((cache / "works" / f"{_stem(name)}.json").read_text())
    rows = np.array(data["notes"], dtype=float).reshape(-1, 3)
    accent = np.zeros(len(rows))
    top = {}
    for i, (s, _e, p) in enumerate(rows):
        if s not in top or p > rows[top[s], 2]:
            top[s] = i
    accent[list(top.values())] = 1.0  # the melody is usually the top voice
    notes = np.concatenate([rows, accent[:, None]], axis=1)
    return Piece(name, notes, np.array(data["changes"], dtype=float), data["beats_per_bar"])
