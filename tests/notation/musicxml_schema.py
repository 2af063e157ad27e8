"""The MusicXML 4.0 XSD (the copy the `musicxml` package ships) as the tests' validator.

The schema imports xml.xsd and xlink.xsd from musicxml.org; local stand-ins in
tests/data/xsd take their place, so validating needs no network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

XSD_DIR = Path(__file__).resolve().parents[1] / "data" / "xsd"
REMOTE = {
    "http://www.musicxml.org/xsd/xml.xsd": XSD_DIR / "xml.xsd",
    "http://www.musicxml.org/xsd/xlink.xsd": XSD_DIR / "xlink.xsd",
}


def schema_path() -> Path | None:
    try:
        import musicxml
    except ImportError:
        return None
    path = Path(musicxml.__file__).parent / "generate_classes" / "musicxml_4_0.xsd"
    return path if path.is_file() else None


needs_xsd = pytest.mark.skipif(
    schema_path() is None, reason="the MusicXML 4.0 XSD (pip package musicxml) is not installed")


@cache
def _schema():
    from lxml import etree

    text = schema_path().read_text(encoding="utf-8")
    for url, local in REMOTE.items():
        text = text.replace(f'schemaLocation="{url}"', f'schemaLocation="{local.as_uri()}"')
    assert "4.0" in text[:2000], "not the MusicXML 4.0 schema"
    return etree.XMLSchema(etree.fromstring(text.encode("utf-8"),
                                            base_url=str(schema_path())))


def schema_errors(xml: bytes | str) -> list[str]:
    """Every way the document breaks the MusicXML 4.0 XSD (empty when it is valid)."""
    from lxml import etree

    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    doc = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True,
                                                 load_dtd=False))
    schema = _schema()
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def assert_valid_musicxml(xml: bytes | str) -> None:
    errors = schema_errors(xml)
    assert not errors, f"{len(errors)} schema errors:\n" + "\n".join(errors[:20])
