"""No catch-all handler without a stated reason: every `except Exception` (or bare `except`,
or `except BaseException`) says on its line why everything is caught there, or re-raises."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "clef_app"
CATCH_ALL = {"Exception", "BaseException"}


def unexplained(source: str) -> list[int]:
    """Lines of catch-all handlers with no comment on them that do not re-raise."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ExceptHandler):
            continue
        caught = node.type
        names = {caught.id} if isinstance(caught, ast.Name) else set()
        if caught is not None and not names & CATCH_ALL:
            continue
        reraises = isinstance(node.body[-1], ast.Raise) and node.body[-1].exc is None
        if "#" not in lines[node.lineno - 1] and not reraises:
            found.append(node.lineno)
    return found


def test_the_check_sees_an_unexplained_handler():
    code = ("try:\n    f()\nexcept Exception:\n    pass\n"
            "try:\n    f()\nexcept Exception:  # a reason\n    pass\n"
            "try:\n    f()\nexcept BaseException:\n    cleanup()\n    raise\n"
            "try:\n    f()\nexcept:\n    pass\n")
    assert unexplained(code) == [3, 16]


def test_every_catch_all_handler_gives_its_reason():
    bad = [f"{path.relative_to(PACKAGE.parent)}:{line}"
           for path in sorted(PACKAGE.rglob("*.py"))
           for line in unexplained(path.read_text(encoding="utf-8"))]
    assert not bad, "catch-all handlers without a reason:\n" + "\n".join(bad)
