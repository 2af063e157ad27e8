"""Nothing executes from a file: no unpickling anywhere in Clef, and XML from outside is
parsed without entity expansion."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "clef_app"
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "shelve", "marshal",
                  "cloudpickle"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(
                func.value, ast.Name) else ""
            yield node, owner, name


def unsafe_loads(source: str) -> list[str]:
    """Ways `source` could run code from a file: pickle-family imports, torch.load, numpy
    loads with allow_pickle=True, yaml.load without a safe loader."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module.split(".")[0]]
        found += [f"imports {n}" for n in names if n in PICKLE_MODULES]
    for node, owner, name in _calls(tree):
        keywords = {k.arg: k.value for k in node.keywords}
        if owner == "torch" and name == "load":
            found.append("torch.load")
        pickle_kw = keywords.get("allow_pickle")
        if isinstance(pickle_kw, ast.Constant) and pickle_kw.value is True:
            found.append(f"{name}(allow_pickle=True)")
        if owner == "yaml" and name in {"load", "load_all", "unsafe_load"} and \
                "Safe" not in ast.unparse(keywords.get("Loader", ast.Constant(""))):
            found.append(f"yaml.{name}")
    return found


def test_detector_sees_each_form():
    source = ("import pickle\nfrom joblib import load\nimport torch, numpy as np, yaml\n"
              "torch.load('m.pt')\nnp.load('x.npy', allow_pickle=True)\nyaml.load(s)\n"
              "yaml.load(s, Loader=yaml.SafeLoader)\nnp.load('y.npy')\n")
    assert unsafe_loads(source) == ["imports pickle", "imports joblib", "torch.load",
                                    "load(allow_pickle=True)", "yaml.load"]


def test_clef_never_unpickles():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for what in unsafe_loads(path.read_text(encoding="utf-8")):
            problems.append(f"{path.relative_to(PACKAGE.parent)}: {what}")
    assert not problems, "\n".join(problems)


MUSICXML_BODY = (
    '<score-partwise version="3.1"><work><work-title>&x;</work-title></work>'
    '<part-list><score-part id="P1"><part-name>P</part-name></score-part></part-list>'
    '<part id="P1"><measure number="1"><note><pitch><step>C</step><octave>4</octave></pitch>'
    "<duration>4</duration><type>whole</type></note></measure></part></score-partwise>"
)


def _laughs(levels: int = 8) -> str:
    lines = ['<!ENTITY l0 "' + "ha" * 50 + '">']
    lines += [f'<!ENTITY l{i} "' + f"&l{i - 1};" * 20 + '">' for i in range(1, levels)]
    lines.append(f'<!ENTITY x "&l{levels - 1};">')
    return "<?xml version='1.0'?><!DOCTYPE score-partwise [" + "".join(lines) + "]>"


@pytest.mark.parametrize("case", ["billion laughs", "external file", "external url"])
def test_musicxml_entities_are_never_expanded(tmp_path, case):
    """music21's MusicXML reader (expat) refuses entity bombs and external entities."""
    from music21 import converter

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    head = {
        "billion laughs": _laughs(),
        "external file": f"<!DOCTYPE score-partwise [<!ENTITY x SYSTEM '{secret.as_uri()}'>]>",
        "external url": "<!DOCTYPE score-partwise [<!ENTITY x SYSTEM 'http://127.0.0.1:9/x'>]>",
    }[case]
    path = tmp_path / "hostile.musicxml"
    path.write_text(head + MUSICXML_BODY)
    try:
        score = converter.parse(str(path), forceSource=True)
    except Exception as exc:  # music21 passes expat's refusal on
        assert "entity" in str(exc).lower() or "amplification" in str(exc).lower(), exc
        return
    title = (score.metadata.title or "") if score.metadata else ""
    assert "TOP-SECRET" not in title and "haha" not in title
