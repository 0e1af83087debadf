"""docs/architecture.md is what `manage.py architecture_doc` renders from the code (the
import-linter contract, each model's TRANSITIONS and the command's template): a change to
either without running the command fails here."""

import difflib

from core.management.commands.architecture_doc import DOC, render


def test_the_architecture_doc_is_what_the_code_says():
    rendered = render()
    written = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            written.splitlines(keepends=True),
            rendered.splitlines(keepends=True),
            "docs/architecture.md",
            "manage.py architecture_doc",
        )
    )
    assert not diff, "run `python manage.py architecture_doc`:\n" + diff


def test_the_doc_stays_about_one_page():
    assert len(render().splitlines()) <= 160
