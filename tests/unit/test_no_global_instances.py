"""No module holds a client, model, connection or store at module level: the composition root builds them.

Every module of the product (``copilot``, ``channels``, ``odoo_sandbox``) is imported, then each module's globals
are checked for an instance of a class that talks to something or holds a model: the Odoo client and session,
the database and its stores, the audit trail, embedders, the injection detector, the vector store and knowledge
base, a Chroma client, a chat model, a SQLAlchemy engine, the composition root itself, the facade.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

import pytest

PACKAGES = ("copilot", "channels", "odoo_sandbox")
#: Modules that cannot be imported without an optional extra or a running server (none today).
SKIP: frozenset[str] = frozenset()


def _modules() -> list[ModuleType]:
    found = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if info.name in SKIP or ".migrations." in info.name or info.name.endswith("__main__"):
                continue
            found.append(importlib.import_module(info.name))
    return found


def _forbidden() -> tuple[type, ...]:
    from chromadb.api import ClientAPI
    from langchain_core.language_models import BaseChatModel
    from sqlalchemy.engine import Engine

    from copilot.audit import AuditTrail
    from copilot.composition import Components
    from copilot.guardrails.injection import InjectionDetector
    from copilot.odoo import OdooClient
    from copilot.odoo.session import OdooSession
    from copilot.retrieval import KnowledgeBase, TicketIndex, VectorStore
    from copilot.retrieval.embeddings import LocalEmbedder
    from copilot.service import Copilot
    from copilot.state import Database
    from copilot.state.database import Store

    return (
        ClientAPI, BaseChatModel, Engine, AuditTrail, Components, InjectionDetector, OdooClient, OdooSession,
        KnowledgeBase, TicketIndex, VectorStore, LocalEmbedder, Copilot, Database, Store,
    )  # fmt: skip


def _holders(modules: list[ModuleType], forbidden: tuple[type, ...]) -> list[str]:
    held: list[str] = []
    for module in modules:
        for name, value in vars(module).items():
            values: list[Any] = [value]
            if isinstance(value, dict | list | tuple | set | frozenset):  # a registry of instances is a cache too
                values += list(value.values()) if isinstance(value, dict) else list(value)
            for item in values:
                if isinstance(item, forbidden):
                    held.append(f"{module.__name__}.{name}: {type(item).__name__}")
    return held


def test_no_module_holds_a_client_model_connection_or_store() -> None:
    modules = _modules()
    assert len(modules) > 100  # the whole product was imported, not a part of it
    assert _holders(modules, _forbidden()) == []


def test_the_scan_finds_an_instance_held_at_module_level(monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot import config
    from copilot.state import Database

    monkeypatch.setattr(config, "_SHARED_DB", Database("sqlite://"), raising=False)
    monkeypatch.setattr(config, "_BY_URL", {"sqlite://": Database("sqlite://")}, raising=False)
    assert _holders([config], _forbidden()) == [
        "copilot.config._SHARED_DB: Database",
        "copilot.config._BY_URL: Database",
    ]
