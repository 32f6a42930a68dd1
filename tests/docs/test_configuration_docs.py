"""docs/configuration.md is generated from the settings model and names every COPILOT_* variable the code reads."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from copilot.config import ENV_PREFIX, Settings
from scripts import gen_config_docs

REPO = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("copilot", "channels", "evals", "benchmarks", "scripts")
SHELL_FILES = ("Makefile", ".ci/run", "scripts/test-services.sh")
# Linear: a literal prefix, then one character class.
ENV_NAME = re.compile(r"COPILOT_[A-Z0-9_]+")


def _names_in(text: str) -> set[str]:
    # A name ending in "_" is a family ("COPILOT_LLM_*"), not a variable.
    return {name for name in ENV_NAME.findall(text) if not name.endswith("_")}


def _python_names(source: str) -> set[str]:
    """Names bound in a module (a constant named COPILOT_X in ``__all__`` is not a variable)."""
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}


def _names_in_python_strings(path: Path) -> set[str]:
    source = path.read_text(encoding="utf-8")
    names: set[str] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1)):
            names |= _names_in(token.string)
    return names - _python_names(source)


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _env_reads(path: Path) -> set[str]:
    """Names read with os.environ.get / os.getenv / os.environ[...] / `in os.environ`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        key: ast.AST | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            func = node.func
            if (func.attr in ("get", "setdefault", "pop") and _is_environ(func.value)) or func.attr == "getenv":
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            key = node.left
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names |= _names_in(key.value)
    return names


def variables_read_by_the_code() -> dict[str, str]:
    """Every COPILOT_* name in the code's strings (source dirs, CI scripts) and in the tests' env reads -> a file."""
    found: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((REPO / folder).rglob("*.py")):
            if path.name == "gen_config_docs.py":  # the generator names them all: not a reader
                continue
            for name in _names_in_python_strings(path):
                found.setdefault(name, str(path.relative_to(REPO)))
    for path in sorted((REPO / "tests").rglob("*.py")):
        for name in _env_reads(path):
            found.setdefault(name, str(path.relative_to(REPO)))
    for relative in SHELL_FILES:
        for name in _names_in((REPO / relative).read_text(encoding="utf-8")):
            found.setdefault(name, relative)
    return found


def test_the_committed_reference_is_what_the_settings_model_generates() -> None:
    committed = gen_config_docs.OUTPUT.read_text(encoding="utf-8") if gen_config_docs.OUTPUT.exists() else ""
    assert committed == gen_config_docs.render(), "stale: run `python -m scripts.gen_config_docs`"


def test_every_setting_is_documented_with_its_default_and_meaning() -> None:
    text = gen_config_docs.render()
    for name, field in Settings.model_fields.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{ENV_PREFIX}{name.upper()}` |")), None)
        assert row is not None, name
        assert field.description and " ".join(field.description.split())[:40] in row


def test_every_copilot_variable_the_code_reads_is_in_the_reference() -> None:
    documented = set(re.findall(r"`(COPILOT_[A-Z0-9_]+)`", gen_config_docs.OUTPUT.read_text(encoding="utf-8")))
    read = variables_read_by_the_code()
    missing = {name: where for name, where in read.items() if name not in documented}
    assert not missing, f"COPILOT_* variables read by the code but missing from docs/configuration.md: {missing}"


def test_the_scan_finds_variables_read_outside_the_settings_model() -> None:
    read = variables_read_by_the_code()
    # read with os.environ in tests and CI, never through Settings
    outside = {"COPILOT_REQUIRE_SERVICES", "COPILOT_LIVE_APPROVER_LOGIN", "COPILOT_LIVE_SECOND_APPROVER_PASSWORD"}
    assert outside <= set(read)
    # named in messages and probes of the service
    assert {"COPILOT_API_TOKENS", "COPILOT_WEBHOOK_SECRETS", "COPILOT_DATA_DIR"} <= set(read)
    # a Python constant and a family prefix are not variables
    assert "COPILOT_SOURCES" not in read and "COPILOT_LLM" not in read


def test_the_check_mode_fails_on_a_stale_file(tmp_path: Path, monkeypatch) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text(gen_config_docs.render().replace("COPILOT_API_TOKENS", "COPILOT_API_TOKEN"), encoding="utf-8")
    monkeypatch.setattr(gen_config_docs, "OUTPUT", stale)
    assert gen_config_docs.main(["--check"]) == 1
    assert gen_config_docs.main([]) == 0
    assert gen_config_docs.main(["--check"]) == 0
