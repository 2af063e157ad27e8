"""`clef live-benchmark FILE`: live-input latency, a recording streamed as if played live.

The streaming, clocks and statistics are `clef_app.audio.live_benchmark`'s.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clef_app.audio.live_transcription import PEEK_CONTEXT, PEEK_EVERY
from clef_app.errors import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", help="a recording to stream (any format Clef reads)")
    parser.add_argument("--realtime", action="store_true",
                        help="wall-clock pace, transcription on its worker thread (as the GUI)")
    parser.add_argument("--seconds", type=float, default=None, help="use only the first N s")
    parser.add_argument("--block", type=int, default=512, help="frames per input callback")
    parser.add_argument("--notes", default=None,
                        help="ground-truth notes (.tsv) whose onsets the latency is measured at "
                             "(default: every 10 ms of the file)")
    parser.add_argument("--no-provisional", action="store_true",
                        help="decode whole segments only (no provisional window decodes)")
    parser.add_argument("--peek-every", type=float, default=PEEK_EVERY,
                        help=f"s of audio between provisional window decodes ({PEEK_EVERY})")
    parser.add_argument("--peek-context", type=float, default=PEEK_CONTEXT,
                        help="s of audio a window reads back from the newest sample, at most "
                             "a segment (default: the segment being filled)")
    parser.add_argument("--model", default=None,
                        help="checkpoint (default: the installed one, else a random-init model)")


def run(args: argparse.Namespace) -> int:
    from clef_app.audio.io import AudioError, load_audio
    from clef_app.audio.live_benchmark import (
        benchmark_realtime,
        benchmark_simulated,
        format_result,
        load_stream_factory,
        onset_latency_stats,
    )
    from clef_app.audio.live_latency import shown_stats

    try:
        audio = load_audio(args.audio)
    except AudioError as exc:
        raise CommandError(str(exc)) from exc
    samples = audio.samples
    if args.seconds:
        samples = samples[: int(args.seconds * audio.sample_rate)]
    stream_factory, model_name = load_stream_factory(args.model)
    mode = "real time, worker thread" if args.realtime else "simulated clock"
    print(f"live-benchmark: {Path(args.audio).name}, {len(samples) / audio.sample_rate:.1f} s "
          f"at {audio.sample_rate} Hz, {args.block}-frame blocks, {mode}; model: {model_name}")
    bench = benchmark_realtime if args.realtime else benchmark_simulated
    options = {"provisional": not args.no_provisional, "peek_every": args.peek_every,
               "peek_context": args.peek_context}
    result = bench(samples, audio.sample_rate, stream_factory, args.block, **options)
    duration = len(samples) / audio.sample_rate
    result["onsets"] = onset_latency_stats(result.pop("log"), args.notes, duration)
    shown = result.pop("shown_log")
    if args.notes:
        from clef_app.notation.events import read_notes_tsv

        truth = [n for n in read_notes_tsv(args.notes) if n.onset < duration]
        result["shown"] = shown_stats(shown, truth)
    print(format_result(result))
    return 0
