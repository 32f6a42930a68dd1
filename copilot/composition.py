"""The composition root: the one place that builds what a process uses, from its settings.

``Components`` are the heavy parts (the embedder, the injection detector, the vector store and its knowledge
base). ``Root`` adds the process's connections: the Odoo session, the ``Database`` and the stores on it
(conversations, audit trail, dead letters) and the chat model. Whoever starts the work (a CLI command through
``copilot.cli._root.command_root``, the HTTP lifespan for the service and its workers) opens one root with
``open_root(settings)`` and passes its parts down; nothing is cached at module
level, so two roots share nothing, and code given no component (the deterministic extractor) never loads a
model. Every part is built on first use and closed with the root: opening a root imports neither NumPy,
PyTorch, Chroma nor SQLAlchemy and connects to nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from copilot.config import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from copilot.audit import AuditTrail
    from copilot.controls.engine import ControlEngine
    from copilot.controls.model import ExceptionSink
    from copilot.guardrails.injection import InjectionDetector
    from copilot.observability import CopilotMetrics
    from copilot.observability.tracing import Tracing
    from copilot.odoo.session import OdooSession
    from copilot.retrieval import KnowledgeBase, VectorStore
    from copilot.retrieval.embeddings import Embedder
    from copilot.state import ConversationStore, Database, DeadLetterStore
    from copilot.text.language import LanguageDetector

__all__ = ["Components", "Root", "exception_sinks", "new_metrics", "open_root"]

log = logging.getLogger(__name__)


def new_metrics(settings: Settings | None = None) -> CopilotMetrics:
    """A process's metrics on a registry of its own (never prometheus_client's global one), with the settings' LLM
    price table."""
    from prometheus_client import CollectorRegistry

    from copilot.observability import CopilotMetrics
    from copilot.observability.controls import control_metrics

    metrics = CopilotMetrics(CollectorRegistry(), llm_prices=settings.llm_prices if settings is not None else None)
    control_metrics(metrics)  # registered from the start: a scrape before the first control run lists them too
    return metrics


def exception_sinks(root: Root) -> list[ExceptionSink]:
    """Where the controls' new and worsened exceptions go in a process built from ``root.settings``.

    Odoo's Copilot > Exceptions menu unless ``COPILOT_CONTROLS_ODOO=false`` (the copilot's own Odoo client; it
    also reads back what people acknowledge there). The Slack digest is added by the process that runs the Slack
    channel (``channels.serve``, the workers), which owns the Slack client. Without sinks the exceptions are only
    tracked (``copilot controls``, ``/v1/exceptions``).
    """
    if not root.settings.controls_odoo:
        return []
    from copilot.controls.odoo_sink import OdooExceptionSink

    session = root.odoo
    url = None if session.sandbox or root.settings.odoo_url is None else str(root.settings.odoo_url)
    return [OdooExceptionSink(session.client, odoo_url=url)]


class Components:
    """The embedder, injection and language detectors, vector store and knowledge base of one root, each built once,
    on first use."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._embedder = embedder
        self._injection: InjectionDetector | None = None
        self._languages: LanguageDetector | None = None
        self._vectors: VectorStore | None = None
        self._knowledge: KnowledgeBase | None = None

    @property
    def embedder(self) -> Embedder:
        """The local sentence embedder (the model itself loads on the first text it embeds)."""
        with self._lock:
            if self._embedder is None:
                from copilot.retrieval.embeddings import LocalEmbedder

                self._embedder = LocalEmbedder()
            return self._embedder

    @property
    def injection(self) -> InjectionDetector:
        """The injection detector; its embedding layer is off when ``COPILOT_INJECTION_EMBEDDINGS=false``."""
        with self._lock:
            if self._injection is None:
                from copilot.guardrails.injection import InjectionDetector  # NumPy and the rules: on first use

                use = self.settings.injection_embeddings
                self._injection = InjectionDetector(self.embedder if use else None, use_embeddings=use)
            return self._injection

    @property
    def languages(self) -> LanguageDetector:
        """The language detector of supplier mail (lingua's models load on the first text it reads)."""
        with self._lock:
            if self._languages is None:
                from copilot.text.language import LanguageDetector

                self._languages = LanguageDetector()
            return self._languages

    def vector_store(self) -> VectorStore:
        """The Chroma store of the settings (embedded under the data dir, or ``COPILOT_CHROMA_URL``), opened once."""
        with self._lock:
            if self._vectors is None:
                from copilot.retrieval import VectorStore

                self._vectors = VectorStore.from_settings(self.settings, embedder=self.embedder)
            return self._vectors

    def knowledge_base(self) -> KnowledgeBase:
        """The knowledge base of the settings, opened (and filled with the shipped sample if empty) once."""
        with self._lock:
            if self._knowledge is None:
                from copilot.retrieval import KnowledgeBase, index_folder, sample_kb_path

                kb = KnowledgeBase(self.vector_store())
                if kb.count() == 0:
                    log.info("the knowledge base is empty; indexing the sample knowledge base")
                    index_folder(sample_kb_path(), kb)
                self._knowledge = kb
            return self._knowledge


class Root(Components):
    """A process's composition root: the components plus the Odoo session, the database, its stores and the LLM.

    Each part is built on first use, once, and closed (in reverse order) by ``close``; parts given to the
    constructor (a database the caller owns, a chat model) are used as they are and never closed here.
    ``migrate=False`` opens the database as it is (``copilot db current`` reports its revision unchanged).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        llm: BaseChatModel | None = None,
        db: Database | None = None,
        odoo: OdooSession | None = None,
        migrate: bool = True,
        metrics: CopilotMetrics | None = None,
        tracing: Tracing | None = None,
        sinks: list[ExceptionSink] | None = None,
    ) -> None:
        super().__init__(settings, embedder=embedder)
        self._sinks = sinks
        self._controls: ControlEngine | None = None
        self._metrics = metrics
        self._tracing = tracing
        self._migrate = migrate
        self._stack = ExitStack()
        self._llm = llm
        self._llm_built = llm is not None
        self._db = db
        self._odoo = odoo
        self._conversations: ConversationStore | None = None
        self._deadletters: DeadLetterStore | None = None
        self._audit: AuditTrail | None = None
        self._audit_built = False
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once ``close`` ran: the root opens nothing more."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this composition root is closed")

    @property
    def odoo(self) -> OdooSession:
        """The Odoo session: the configured Odoo, or the embedded sandbox (started here) without a URL."""
        with self._lock:
            if self._odoo is None:
                self._check_open()
                from copilot.odoo.session import odoo_session

                self._odoo = self._stack.enter_context(odoo_session(self.settings))
                self._odoo.client.instrument(self.metrics, self.tracing.tracer)
            return self._odoo

    @property
    def tracing(self) -> Tracing:
        """This process's tracing (given, e.g. the HTTP app's, or built here from ``COPILOT_OTEL_EXPORTER`` and shut
        down with the root); off by default."""
        with self._lock:
            if self._tracing is None:
                from copilot.observability.tracing import build_tracing

                self._tracing = build_tracing(self.settings)
                self._stack.callback(self._tracing.shutdown)
            return self._tracing

    @property
    def metrics(self) -> CopilotMetrics:
        """This process's metrics (given, e.g. the HTTP app's, or built here on a registry of its own)."""
        with self._lock:
            if self._metrics is None:
                self._metrics = new_metrics(self.settings)
            return self._metrics

    @property
    def db(self) -> Database:
        """The project's database (``COPILOT_DATABASE_URL``, else SQLite in the data dir), opened and migrated."""
        with self._lock:
            if self._db is None:
                self._check_open()
                from copilot.state.database import Database, database_url

                db = Database.from_settings(self.settings) if self._migrate else Database(database_url(self.settings))
                self._db = self._stack.enter_context(db)
            return self._db

    @property
    def conversations(self) -> ConversationStore:
        """Question threads, in the root's database."""
        with self._lock:
            if self._conversations is None:
                from copilot.state import ConversationStore

                self._conversations = ConversationStore(self.db)
            return self._conversations

    @property
    def deadletters(self) -> DeadLetterStore:
        """Work that failed for good, kept for a person, in the root's database."""
        with self._lock:
            if self._deadletters is None:
                from copilot.state import DeadLetterStore

                self._deadletters = DeadLetterStore(self.db)
            return self._deadletters

    @property
    def audit(self) -> AuditTrail | None:
        """The audit trail in the root's database (None when ``COPILOT_AUDIT_ENABLED=false``)."""
        with self._lock:
            if not self._audit_built:
                self._check_open()
                if self.settings.audit_enabled:
                    from copilot.audit import AuditTrail

                    trail = AuditTrail.from_settings(self.settings, self.db)
                    self._stack.callback(trail.close)
                    self._audit = trail
                self._audit_built = True
            return self._audit

    @property
    def control_sinks(self) -> list[ExceptionSink]:
        """The controls' sinks: those given to the root, else ``exception_sinks(root)`` (a list; others may append)."""
        with self._lock:
            if self._sinks is None:
                self._sinks = exception_sinks(self)
            return self._sinks

    @property
    def controls(self) -> ControlEngine:
        """The scheduled controls' engine: the registry, ``controls.yaml``, the exception store in the root's database,
        the sinks and the control metrics on the root's registry (``ConfigError`` for a bad ``controls.yaml``)."""
        with self._lock:
            if self._controls is None:
                self._check_open()
                from copilot.controls.definitions import load_definitions
                from copilot.controls.engine import ControlEngine
                from copilot.controls.registry import ControlRegistry
                from copilot.controls.store import ExceptionStore
                from copilot.observability.controls import control_metrics

                registry = ControlRegistry.default()
                definitions = load_definitions(self.settings, thresholds=registry.thresholds_models())
                self._controls = ControlEngine(
                    ExceptionStore(self.db),
                    registry=registry,
                    definitions=definitions,
                    sinks=self.control_sinks,
                    metrics=control_metrics(self.metrics),
                )
            return self._controls

    @property
    def llm(self) -> BaseChatModel | None:
        """The configured chat model, or None (the deterministic engine)."""
        with self._lock:
            if not self._llm_built:
                from copilot.llm import build_chat_model, llm_callbacks

                self._llm = build_chat_model(self.settings, callbacks=llm_callbacks(self.settings, self.metrics))
                self._llm_built = True
            return self._llm

    def close(self) -> None:
        """Close what this root opened, newest first (the audit trail before its database, Odoo last opened)."""
        with self._lock:
            self._closed = True
            self._stack.close()

    def __enter__(self) -> Root:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def open_root(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    llm: BaseChatModel | None = None,
    db: Database | None = None,
    odoo: OdooSession | None = None,
    migrate: bool = True,
    metrics: CopilotMetrics | None = None,
    tracing: Tracing | None = None,
    sinks: list[ExceptionSink] | None = None,
) -> Iterator[Root]:
    """The composition root of ``settings``, closed on exit; ``llm``, ``db`` and ``odoo`` replace what it would build
    (``migrate=False``: the database is opened as it is, not migrated); ``sinks`` replace ``exception_sinks(root)``.

    Nothing is opened until asked for: ``root.odoo`` starts the session, ``root.db`` opens and migrates the
    database, ``root.injection`` builds the detector, ``root.knowledge_base()`` opens the knowledge base.
    """
    with Root(
        settings,
        embedder=embedder,
        llm=llm,
        db=db,
        odoo=odoo,
        migrate=migrate,
        metrics=metrics,
        tracing=tracing,
        sinks=sinks,
    ) as root:
        yield root
