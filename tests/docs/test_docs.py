"""The README and docs/: links that resolve, every command listed, the service's tokens and scopes documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from channels.http.auth import Scope

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
# Linear: a negated class up to the closing parenthesis.
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = heading.lstrip("#").strip().lower()
    return "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(line) for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("#")}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken: list[str] = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path_text, _, anchor = target.partition("#")
        path = (page.parent / path_text).resolve() if path_text else page
        if not path.exists() or (anchor and path.suffix == ".md" and anchor not in _anchors(path)):
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


def test_the_readme_links_every_page_of_docs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    unlinked = [p.name for p in DOCS.glob("*.md") if f"(docs/{p.name})" not in readme]
    assert not unlinked


def test_the_service_page_documents_tokens_webhook_secrets_and_every_scope() -> None:
    text = (DOCS / "service.md").read_text(encoding="utf-8")
    assert "COPILOT_API_TOKENS" in text and "COPILOT_WEBHOOK_SECRETS" in text
    missing = [scope.value for scope in Scope if f"| `{scope.value}` |" not in text]
    assert not missing, f"scopes missing from the table in docs/service.md: {missing}"


def _command_paths() -> list[tuple[str, ...]]:
    from copilot.cli import app

    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if hasattr(command, "list_commands"):  # a group (typer may vendor its own click)
            context = typer.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                if sub is not None and not sub.hidden:
                    walk(sub, (*path, name))
        else:
            paths.append(path)

    walk(root, ())
    return paths


def _documented(text: str, path: tuple[str, ...]) -> bool:
    """`copilot a b ...` appears, or `copilot a x ...|b ...|y` (alternatives of the last word)."""
    prefix = " ".join(("copilot", *path[:-1])) + " "
    start = text.find(prefix)
    while start != -1:
        span = text[start + len(prefix) :].split("`", 1)[0]
        if path[-1] in (choice.strip().split(" ", 1)[0] for choice in span.replace("\\|", "|").split("|")):
            return True
        start = text.find(prefix, start + 1)
    return False


def test_the_command_table_lists_every_command() -> None:
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    missing = [" ".join(path) for path in _command_paths() if not _documented(text, path)]
    assert not missing, f"commands missing from docs/commands.md: {missing}"
