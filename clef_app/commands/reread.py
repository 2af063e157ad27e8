"""`clef reread PROJECT --start S --end E -o OUT`: Transcribe Again on a project file.

The passage's notes the user added, moved, resized or marked as right (read from the
project's history) are kept and given to the decoder; notes they deleted never come back;
the model writes the rest. The replacement is one more edit in the project's history
("Transcribe again"), so the app can undo it. The project is written to OUT, which must not
exist unless `--force`, or over PROJECT itself with `--in-place`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clef_app.errors import CommandError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="a Clef project (.clef) with its recording")
    p.add_argument("--start", type=float, required=True, help="passage start, s")
    p.add_argument("--end", type=float, required=True, help="passage end, s")
    p.add_argument("--low", type=int, default=0, help="lowest MIDI pitch of the box (0)")
    p.add_argument("--high", type=int, default=127, help="highest MIDI pitch of the box (127)")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", type=Path, help="the project to write (.clef)")
    out.add_argument("--in-place", action="store_true", help="write over PROJECT")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")


def run(args: argparse.Namespace) -> int:
    from clef_app.atomic import check_output
    from clef_app.project import PROJECT_SUFFIX, load_project, save_project

    if not 0 <= args.start < args.end:
        raise CommandError(f"--start {args.start:g} --end {args.end:g}: need 0 <= start < end")
    if not 0 <= args.low <= args.high <= 127:
        raise CommandError(f"--low {args.low} --high {args.high}: need 0 <= low <= high <= 127")
    out = args.project if args.in_place else check_output(args.output, (PROJECT_SUFFIX,))
    if not args.in_place and out.exists() and not args.force:
        raise CommandError(f"{out}: exists; choose another name, or --force to replace it")
    project = load_project(args.project)
    result = reread_project(project, args.project.parent, args, args.threads)
    save_project(project, out)
    print(f"{args.project.name}: {args.start:g}-{args.end:g} s re-read: {result.summary()}; "
          f"wrote {out}", file=sys.stderr)
    return 0


def reread_project(project, folder: Path, args: argparse.Namespace, threads: int = 0):
    """Re-read the passage of `args` in `project` (changed in place: notes, history,
    corrections); returns the `Reread`."""
    from clef_app.model.pipeline import Pipeline
    from clef_app.model.reread import Passage
    from clef_app.notation.corrections import REREAD, of_history
    from clef_app.notation.edits import NoteEdit

    samples, rate = project_audio(project, folder, args.project.name)
    edits = project.decoded_edits()
    fixes = of_history(edits, project.edit_index, project.corrections)
    passage = Passage(args.start, args.end, args.low, args.high)
    result = Pipeline.load(threads=threads).reread(samples, rate, project.notes, passage, fixes)
    edit = NoteEdit.replace(REREAD, result.removed, result.added)
    gone = {n.id for n in result.removed}
    project.notes = [n for n in project.notes if n.id not in gone] + result.added
    project.edits = project.edits[:project.edit_index] + [edit.to_dict()]
    project.edit_index = len(project.edits)
    project.corrections = fixes  # a re-read is the model's edit: it changes none of them
    return result


def project_audio(project, folder: Path, name: str):
    """(samples, rate) of a project's recording (CommandError when it has none)."""
    from clef_app.audio.io import load_audio
    from clef_app.project import EmbeddedAudio, ReferencedAudio

    audio = project.audio
    if isinstance(audio, EmbeddedAudio):
        return audio.samples, audio.sample_rate
    if isinstance(audio, ReferencedAudio):
        found = audio.resolve(folder)
        if found is None:
            raise CommandError(f"{name}: its recording {audio.path} was not found")
        loaded = load_audio(found)
        return loaded.samples, loaded.sample_rate
    raise CommandError(f"{name}: the project has no recording to re-read")
