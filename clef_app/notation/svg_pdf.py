"""SVG pages -> one vector PDF (CairoSVG per page, joined with pypdf), in a child process.

CairoSVG parses each page in C code that holds Python's GIL for up to a quarter of a
second per page, which would freeze a window exporting on a worker thread, and so does
Verovio laying out a score. So the engraving of a score's MusicXML and the conversion run
in a process of its own (`python -m clef_app.notation.svg_pdf`), which imports neither
music21 nor Qt; it prints the number of pages once engraved, then one line per page
converted, for progress.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
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
        child = subprocess.Popen(
            [sys.executable, "-m", "clef_app.notation.svg_pdf", size, str(out),
             *map(str, pages)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            done, total = 0, max(len(pages), 1)
            for line in child.stdout:  # "pages N" after engraving, then one line a page
                if line.startswith("pages "):
                    total = max(int(line.split()[1]), 1)
                    continue
                done += 1
                yield done / total
            err = child.stderr.read()
            if child.wait() != 0:
                lines = err.strip().splitlines() or ["no message"]
                raise RuntimeError(f"PDF conversion failed: {lines[-1]}")
            return out.read_bytes()
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
            child.stderr.close()


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
    """The child's work for a score: its printed pages, then `convert`."""
    from clef_app.notation.engrave import printed_pages

    svgs = printed_pages(musicxml.read_text(encoding="utf-8"), size).pages
    print(f"pages {len(svgs)}", flush=True)
    pages = []
    for i, svg in enumerate(svgs):
        pages.append(musicxml.with_name(f"page{i:04d}.svg"))
        pages[-1].write_text(svg, encoding="utf-8")
    convert(pages, out, size)


if __name__ == "__main__":
    sources = [Path(p) for p in sys.argv[3:]]
    if len(sources) == 1 and sources[0].suffix == ".musicxml":
        engrave_then_convert(sources[0], Path(sys.argv[2]), sys.argv[1])
    else:
        convert(sources, Path(sys.argv[2]), sys.argv[1])
