"""SVG pages -> one vector PDF (CairoSVG per page, joined with pypdf), in a child process.

CairoSVG parses each page in C code that holds Python's GIL for up to a quarter of a
second per page, which would freeze a window exporting on a worker thread, and so does
Verovio laying out a score. So the engraving of a score's MusicXML and the conversion run
in a process of its own (`python -m clef_app.notation.svg_pdf`), which imports neither
music21 nor Qt; it prints the number of pages once laid out, then one line per page drawn
and per page converted, for progress (Verovio's layout is one call with no progress to
tell: a large score shows none while it is laid out). A score's MEI is made there too
(`mei_steps`). The parent polls the child's output, so an export cancelled while Verovio
works stops it within POLL_SECONDS.
"""

from __future__ import annotations

import contextlib
import io
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

PAGE_POINTS = {"a4": (595.28, 841.89), "letter": (612.0, 792.0)}  # width, height in PDF points
PX_PER_POINT = 96 / 72  # CairoSVG sizes its output in CSS pixels (96 an inch); PDF in points


def pdf_steps(svgs: Sequence[str] | None, size: str = "a4", musicxml: str | None = None
              ) -> Iterator[float]:
    """Convert the pages in a child process; yields the fraction of pages done, returns
    the PDF's bytes. Closing the generator (a cancelled export) stops the child.

    Args:
        svgs: the pages; or None, and `musicxml` is engraved by the child first
            (engrave.printed_pages), so Verovio, which holds Python's lock while it
            lays a score out, never stalls a window exporting on a worker thread.
        size: "a4" or "letter".
    Raises:
        RuntimeError: the child failed; the message is its last line of error output.
    """
    with tempfile.TemporaryDirectory(prefix="clef-pdf-") as folder:
        pages = []
        for i, svg in enumerate(svgs or ()):
            pages.append(Path(folder) / f"page{i:04d}.svg")
            pages[-1].write_text(svg, encoding="utf-8")
        if svgs is None:
            pages = [Path(folder) / "score.musicxml"]
            pages[0].write_text(musicxml or "", encoding="utf-8")
        out = Path(folder) / "score.pdf"
        return (yield from _child_steps([size, str(out), *map(str, pages)], out, len(pages)))


def mei_steps(musicxml: str) -> Iterator[float]:
    """The MEI of a MusicXML document (`engrave.musicxml_to_mei`), made in a child process
    (Verovio reads a large score for minutes, holding Python's lock); yields while it
    works, so the consumer may stop it, and returns the MEI."""
    with tempfile.TemporaryDirectory(prefix="clef-mei-") as folder:
        source, out = Path(folder) / "score.musicxml", Path(folder) / "score.mei"
        source.write_text(musicxml, encoding="utf-8")
        data = yield from _child_steps(["mei", str(out), str(source)], out, 1)
        return data.decode("utf-8")


def _child_steps(args: list[str], out: Path, pages: int) -> Iterator[float]:
    """Run this module as a child with `args`; yield the fraction of its lines done (one a
    page converted; after "pages N", two: drawn and converted), and again every
    POLL_SECONDS while it works, so a consumer that stops asking stops it at once; return
    the bytes it wrote to `out`."""
    child = subprocess.Popen([sys.executable, "-m", "clef_app.notation.svg_pdf", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(child.stdout, lines), daemon=True).start()
    try:
        done, total = 0, max(pages, 1)
        while (line := _next_line(lines)) is not None:
            if line.startswith("pages "):  # laid out: each page is drawn, then converted
                total = 2 * max(int(line.split()[1]), 1)
            elif line:
                done += 1
            yield min(done / total, 1.0)
        err = child.stderr.read()
        if child.wait() != 0:
            lines_out = err.strip().splitlines() or ["no message"]
            raise RuntimeError(f"{args[0].upper() if args[0] == 'mei' else 'PDF'} "
                               f"conversion failed: {lines_out[-1]}")
        return out.read_bytes()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()


POLL_SECONDS = 0.1  # s: how often a consumer waiting for the child may stop it


def _read_lines(stream, lines: queue.Queue) -> None:
    """Pass each line of the child's output on, then None at its end."""
    with contextlib.suppress(ValueError, OSError):  # closed when the consumer stopped
        for line in stream:
            lines.put(line.strip())
    lines.put(None)


def _next_line(lines: queue.Queue) -> str | None:
    """The child's next line, "" if none came within POLL_SECONDS, None at its end."""
    try:
        return lines.get(timeout=POLL_SECONDS)
    except queue.Empty:
        return ""


def convert(pages: Sequence[Path], out: Path, size: str = "a4") -> None:
    """The child's work: each SVG page to a PDF page of `size`, all joined into `out`."""
    import cairosvg
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page_svg in pages:
        width, height = PAGE_POINTS[size]
        page_pdf = cairosvg.svg2pdf(bytestring=page_svg.read_bytes(),
                                    output_width=width * PX_PER_POINT,
                                    output_height=height * PX_PER_POINT)
        for page in PdfReader(io.BytesIO(page_pdf)).pages:
            writer.add_page(page)
        print(page_svg.name, flush=True)
    with open(out, "wb") as f:
        writer.write(f)


def engrave_then_convert(musicxml: Path, out: Path, size: str) -> None:
    """The child's work for a score: its printed pages, then `convert`; it prints "pages N"
    once they are laid out, then a line as each is drawn and as each is converted."""
    from clef_app.notation.engrave import printed_pages

    def drawn(i: int, n: int) -> None:
        print(f"pages {n}" if i == 0 else f"drawn {i}", flush=True)

    svgs = printed_pages(musicxml.read_text(encoding="utf-8"), size, drawn).pages
    pages = []
    for i, svg in enumerate(svgs):
        pages.append(musicxml.with_name(f"page{i:04d}.svg"))
        pages[-1].write_text(svg, encoding="utf-8")
    convert(pages, out, size)


def write_mei(musicxml: Path, out: Path) -> None:
    """The child's work for MEI: `engrave.musicxml_to_mei` of the file, into `out`."""
    from clef_app.notation.engrave import musicxml_to_mei

    out.write_text(musicxml_to_mei(musicxml.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    sources = [Path(p) for p in sys.argv[3:]]
    if sys.argv[1] == "mei":
        write_mei(sources[0], Path(sys.argv[2]))
    elif len(sources) == 1 and sources[0].suffix == ".musicxml":
        engrave_then_convert(sources[0], Path(sys.argv[2]), sys.argv[1])
    else:
        convert(sources, Path(sys.argv[2]), sys.argv[1])
