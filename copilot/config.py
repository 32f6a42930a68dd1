"""All settings of the copilot, read from the environment (prefix ``COPILOT_``) and ``.env``."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from copilot.errors import ConfigError

__all__ = ["LLMPrice", "Settings", "get_settings", "load_settings"]

ENV_PREFIX = "COPILOT_"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "odoo-ops-copilot"


class LLMPrice(BaseModel):
    """What a chat model costs, in US dollars per million tokens (prompt and completion priced apart)."""

    model_config = {"frozen": True, "extra": "forbid"}

    prompt: float = Field(default=0.0, ge=0, description="USD per million prompt (input) tokens.")
    completion: float = Field(default=0.0, ge=0, description="USD per million completion (output) tokens.")


class Settings(BaseSettings):
    """Deployment settings. No Odoo URL means the embedded sandbox; no LLM model means the
    deterministic engine."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    odoo_url: AnyHttpUrl | None = Field(
        default=None,
        description="Base URL of the Odoo server, e.g. https://erp.example.com. Unset: the embedded sandbox.",
    )
    odoo_db: str | None = Field(default=None, description="Odoo database name (required with odoo_url).")
    odoo_login: str = Field(default="copilot", description="Login of the copilot's read-only Odoo user.")
    odoo_password: SecretStr | None = Field(default=None, description="Password of that user.")
    odoo_api_key: SecretStr | None = Field(
        default=None, description="API key of that user; preferred over the password when both are set."
    )
    odoo_timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds to wait for one Odoo call.")
    odoo_retries: int = Field(
        default=3, ge=0, le=10, description="Retries after a connection error or timeout (not after Odoo errors)."
    )
    odoo_backoff: float = Field(
        default=0.5, ge=0, le=30, description="First retry delay in seconds; doubles on each retry."
    )
    odoo_protocol: Literal["auto", "jsonrpc", "json2"] = Field(
        default="auto",
        description="How the copilot talks to Odoo: auto (JSON-2 on Odoo 19 or newer when COPILOT_ODOO_API_KEY is "
        "set, else JSON-RPC), jsonrpc (/jsonrpc, deprecated on 19, removed in 20) or json2 (/json/2, Odoo 19+, "
        "needs the API key).",
    )
    sandbox_odoo: Literal["odoo18", "odoo19"] = Field(
        default="odoo18",
        description="Odoo version the embedded sandbox serves (no Odoo URL): odoo18 (recorded Odoo 18) or odoo19 "
        "(recorded Odoo 19: its field names, version and the JSON-2 API with API keys).",
    )
    sandbox_helpdesk: Literal["oca", "enterprise", "none"] = Field(
        default="oca",
        description="Helpdesk app the embedded sandbox serves (no Odoo URL): oca (recorded OCA helpdesk_mgmt), "
        "enterprise (the same tickets shaped like Odoo Enterprise helpdesk) or none.",
    )
    sandbox_keep_writes: bool = Field(
        default=True,
        description="The embedded sandbox keeps its writes (approval requests, decisions, executed changes) in "
        "COPILOT_DATA_DIR/sandbox/ across commands; `copilot sandbox reset` restores the recording. "
        "false: every command starts from the recording.",
    )
    approval_model: str = Field(
        default="copilot.approval.request",
        description="The only Odoo model the copilot may create records on (the approval-request model).",
    )

    approval_backend: Literal["addon", "enterprise"] = Field(
        default="addon",
        description="Where approval requests go: the project's Odoo addon, or Enterprise Approvals "
        "(then also set COPILOT_APPROVAL_MODEL=approval.request).",
    )
    policy_file: Path | None = Field(
        default=None, description="The approval policy (YAML). Unset: every action is advisory (shown only)."
    )
    controls_file: Path | None = Field(
        default=None,
        description="The scheduled controls' settings (YAML: schedule, owner, thresholds, enabled per control), merged "
        "over the shipped defaults. Unset: controls.yaml in the data dir when it exists, else the defaults alone.",
    )
    controls_odoo: bool = Field(
        default=True,
        description="Mirror the controls' new and worsened exceptions into Odoo's Copilot > Exceptions menu (through "
        "the addon's copilot.exception.copilot_sync; copilot_approval 1.2.0 or later), read back what people "
        "acknowledge there, and close there what a run no longer finds. False: exceptions stay in the copilot.",
    )
    controls_scheduler: bool = Field(
        default=True,
        description="Run the enabled controls on their schedules: inside `copilot serve` (APScheduler), or sent as "
        "tasks by `copilot beat` when COPILOT_REDIS_URL is set. False: controls run only when asked "
        "(`copilot controls run`).",
    )
    executor_login: str = Field(default="executor", description="The executor's own Odoo user (not the copilot's).")
    executor_password: SecretStr | None = Field(default=None, description="Its password or API key.")
    executor_api_key: SecretStr | None = Field(
        default=None,
        description="The executor's own API key: with it, the executor talks JSON-2 to Odoo 19+ "
        "(COPILOT_ODOO_PROTOCOL decides as for the copilot).",
    )
    executor_interval: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds between executor polls for approved requests."
    )
    executor_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret of the executor's wake-up webhook from Odoo (the addon's system parameter "
        "copilot_approval.executor_webhook_secret). Unset: no listener; the executor only polls.",
    )
    executor_webhook_host: str = Field(
        default="127.0.0.1",
        description="Address the executor's webhook listens on (plain HTTP: keep it on loopback or behind TLS).",
    )
    executor_webhook_port: int = Field(
        default=8766, ge=0, le=65535, description="Port of the executor's webhook (0: any free port)."
    )

    api_tokens: SecretStr | None = Field(
        default=None,
        description="HTTP API clients: 'name:token:scope1,scope2;...' (token >= 24 chars, no ':' or ';'; scopes "
        "read, summarize, classify, draft, ask, propose or *). Unset: every /v1 call is refused (401).",
    )
    api_allow_anonymous: bool = Field(
        default=False,
        description="HTTP API: calls without an Authorization header get every scope (local testing only).",
    )

    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For/Forwarded "
        "headers name the client (e.g. '10.0.0.0/8'); from any other peer those headers are ignored. Only list "
        "proxies that append the address they saw.",
    )

    webhook_secrets: SecretStr | None = Field(
        default=None,
        description="Inbound webhooks (POST /v1/webhooks/{source}): 'source:secret;...' (secret >= 24 chars). "
        "Each call is signed with HMAC-SHA256 over '<timestamp>.<body>'. Unset: every webhook is refused (401).",
    )
    webhook_tolerance: int = Field(
        default=300, ge=10, le=3600, description="Seconds a signed webhook or Slack request stays valid."
    )
    http_max_body_bytes: int = Field(
        default=4_000_000,
        ge=1_024,
        le=100_000_000,
        description="Largest request body on /v1/* (413 above it), checked before the body is read and before "
        "authentication; a chunked body is counted while it streams.",
    )
    slack_max_body_bytes: int = Field(
        default=1_000_000,
        ge=1_024,
        le=100_000_000,
        description="Largest request body on /slack/events (413 above it), checked before the signature.",
    )
    http_skill_timeout: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="Seconds one skill call over HTTP (/v1 routes, webhook events) may take before the caller "
        "gets 504; the skill runs off the event loop, so /healthz keeps answering meanwhile.",
    )
    http_max_concurrent_skills: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Skill calls running at once in the HTTP service; one more gets 503 with Retry-After.",
    )

    slack_bot_token: SecretStr | None = Field(
        default=None, description="Slack bot token (xoxb-...). Unset: the Slack app is not mounted."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Slack signing secret; every request to /slack/events is verified with it."
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="Slack app-level token (xapp-...) for Socket Mode instead of HTTP (optional)."
    )
    slack_api_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://slack.com/api/"), description="Slack Web API base URL (tests point it at a fake)."
    )
    slack_buyer_channel: str | None = Field(
        default=None,
        description="Slack channel for supplier-email summaries whose buyer has no Slack account (e.g. #purchasing).",
    )
    slack_support_channel: str | None = Field(
        default=None, description="Slack channel where drafts for customer emails are posted (e.g. #customer-service)."
    )
    slack_owner_channels: dict[str, str] = Field(
        default_factory=dict,
        description="Slack channel of each control owner that is a role, as JSON, e.g. "
        '{"buyer": "#purchasing", "manager": "C0123ABCD"}: where that role\'s exception digest is posted. '
        "An owner written as a channel (#name or a channel id) needs no entry.",
    )

    imap_host: str | None = Field(default=None, description="IMAP server of the shared mailbox. Unset: no poller.")
    imap_port: int = Field(default=993, ge=1, le=65535, description="IMAP port (993 TLS, 143 plain/STARTTLS).")
    imap_tls: Literal["ssl", "starttls", "none"] = Field(
        default="ssl", description="IMAP transport security ('none' only on loopback)."
    )
    imap_user: str | None = Field(default=None, description="IMAP login of the shared mailbox.")
    imap_password: SecretStr | None = Field(default=None, description="Its password.")
    imap_folder: str = Field(default="INBOX", description="Folder the poller reads.")
    imap_poll_interval: float = Field(
        default=60.0, gt=0, le=3600, description="Seconds between polls when the server has no IDLE."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for answers by email. Unset: none sent.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_tls: Literal["ssl", "starttls", "none"] = Field(default="starttls", description="SMTP transport security.")
    smtp_user: str | None = Field(default=None, description="SMTP login (unset: no authentication).")
    smtp_password: SecretStr | None = Field(default=None, description="Its password.")
    mail_from: str | None = Field(
        default=None, description="From address of the copilot's email answers (default: the IMAP user)."
    )
    internal_domains: str | None = Field(
        default=None,
        description="Comma-separated email domains of the company's own staff: their emails are questions "
        "to answer, not supplier or customer mail (e.g. 'example.com').",
    )
    mail_trusted_authserv_ids: str | None = Field(
        default=None,
        max_length=1000,
        description="Comma-separated authserv-ids of our own receiving mail server(s): only their "
        "Authentication-Results headers (DMARC, DKIM or SPF pass aligned with From) authenticate a sender. "
        "Set: a vendor's or colleague's change needs a pass to be verified. Unset: From is taken as written "
        "and every summary with a verified change says sender authentication is not configured.",
    )

    roles_file: Path | None = Field(
        default=None,
        description="YAML mapping people (email or Odoo login) to roles: customer_service, buyer, manager, "
        "evaluator. Unset: roles come from the Odoo user's apps (sales, purchase, approver) only.",
    )
    rate_limit_per_minute: int = Field(
        default=30, ge=1, le=10_000, description="Requests one user may make per minute on one channel."
    )
    audit_enabled: bool = Field(
        default=True, description="Write a tamper-evident, PII-redacted audit record for every request."
    )
    audit_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Key of the audit trail's HMAC chain and signed anchors (>= 32 characters, from a secret "
        "store; never in the data dir). Unset: a random key in COPILOT_DATA_DIR/audit.key (mode 0600), with a "
        "warning.",
    )
    audit_anchor_interval: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="Seconds between signed audit anchors written to the log (0: after every record).",
    )

    llm_base_url: AnyHttpUrl | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, Azure, ...). "
        "Unset with a model set: OpenAI's own endpoint.",
    )
    llm_model: str | None = Field(default=None, description="Chat model name. Unset: the deterministic engine.")
    llm_api_key: SecretStr | None = Field(default=None, description="API key for the LLM endpoint.")
    llm_timeout: float = Field(default=60.0, gt=0, le=600, description="Seconds to wait for one LLM answer.")
    llm_max_retries: int = Field(default=2, ge=0, le=10, description="Retries of a failed LLM call.")
    llm_temperature: float = Field(default=0.0, ge=0, le=2, description="Sampling temperature.")
    llm_max_tokens: int = Field(
        default=1500, ge=64, le=32768, description="Cap on the tokens of one answer (a rambling model stops here)."
    )
    llm_prices: dict[str, LLMPrice] = Field(
        default_factory=dict,
        description="Price table of chat models for `copilot_llm_cost_usd_total`, JSON: model name to USD per million "
        'tokens, e.g. {"gpt-4o-mini": {"prompt": 0.15, "completion": 0.6}}. A model not listed (a local one) costs 0.',
    )

    eval_judge_model: str | None = Field(
        default=None,
        description="Evals: the pinned chat model of the optional LLM judge (tone, helpfulness), on the LLM "
        "endpoint; used with `copilot eval run --judge`.",
    )
    triage_min_confidence: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Triage: below this probability a label needs a person (the classification says needs_human).",
    )

    injection_embeddings: bool = Field(
        default=True,
        description="Injection detector: compare sentences with known attacks by embeddings (loads the local model). "
        "false: the rules alone, no model.",
    )

    chroma_url: AnyHttpUrl | None = Field(
        default=None, description="Chroma server URL. Unset: an embedded store under COPILOT_DATA_DIR/chroma."
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where reports, the audit log and indexes are written.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="The project's database (conversations, ledgers, dead letters, audit trail), an SQLAlchemy "
        "URL, e.g. postgresql+psycopg://copilot:...@db/copilot. Unset: the SQLite file "
        "COPILOT_DATA_DIR/state.sqlite.",
    )
    redis_url: SecretStr | None = Field(
        default=None,
        description="Redis for scale-out, e.g. redis://127.0.0.1:6379/0: the Celery broker of `copilot worker` and "
        "`copilot beat`, and the rate limits shared by every replica. Set: `copilot serve` runs no mail poller or "
        "executor itself and hands webhook events, Slack events and mail to the workers (see docs/scale-out.md). "
        "Unset: everything runs in the one `copilot serve` process.",
    )
    task_time_limit: int = Field(
        default=300,
        ge=5,
        le=3600,
        description="Seconds one worker task may run before it is killed; a claim on an email or an event lasts "
        "this plus 30 s, and a task of a worker that died is redelivered after this plus 60 s.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="WARNING", description="Log level.")

    otel_exporter: Literal["none", "console", "otlp"] = Field(
        default="none",
        description="OpenTelemetry traces (HTTP request -> facade use case -> skill -> each Odoo call): none (off), "
        "console (spans printed to stderr) or otlp (to OTEL_EXPORTER_OTLP_ENDPOINT, needs the package "
        "opentelemetry-exporter-otlp-proto-grpc).",
    )
    otel_service_name: str = Field(
        default="odoo-ops-copilot", min_length=1, description="The `service.name` resource attribute of the traces."
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`copilot worker`: serve the worker's Prometheus metrics (its pool processes' executor, webhook, "
        "Odoo and LLM metrics, and the Celery queue lengths) on this port. Unset: no exporter.",
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1",
        description="Address the worker's metrics exporter listens on (it has no authentication: keep it on "
        "loopback or a private network).",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for raw in value.split(","):
            entry = raw.strip()
            if entry:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"not an IP address or network: {entry!r}") from None
        return value

    @model_validator(mode="after")
    def _check_cross_fields(self) -> Settings:
        if self.odoo_url is not None:
            if not self.odoo_db:
                raise ValueError("odoo_db: required when COPILOT_ODOO_URL is set")
            if self.odoo_protocol == "json2" and self.odoo_api_key is None:
                raise ValueError("odoo_api_key: COPILOT_ODOO_PROTOCOL=json2 needs COPILOT_ODOO_API_KEY")
            if self.odoo_password is None and self.odoo_api_key is None:
                raise ValueError(
                    "odoo_password: COPILOT_ODOO_PASSWORD or COPILOT_ODOO_API_KEY is required "
                    "when COPILOT_ODOO_URL is set"
                )
        if self.llm_base_url is not None and not self.llm_model:
            raise ValueError("llm_model: required when COPILOT_LLM_BASE_URL is set")
        return self

    @property
    def sandbox(self) -> bool:
        """True when no Odoo URL is configured: the embedded sandbox serves the data."""
        return self.odoo_url is None

    @property
    def sandbox_writes_file(self) -> Path:
        """The file in which the sandbox keeps its writes (see ``sandbox_keep_writes``): one per Helpdesk
        flavour and Odoo version, since their records differ."""
        name = "writes" if self.sandbox_helpdesk == "oca" else f"writes-{self.sandbox_helpdesk}"
        if self.sandbox_odoo != "odoo18":  # another recording: other ids
            name += f"-{self.sandbox_odoo}"
        name += ".sqlite"
        return self.data_dir / "sandbox" / name

    @property
    def sandbox_state_file(self) -> Path | None:
        """The embedded sandbox's writes file, or None (a real Odoo, or writes kept in memory only)."""
        return self.sandbox_writes_file if self.sandbox and self.sandbox_keep_writes else None

    @property
    def llm_enabled(self) -> bool:
        """True when a chat model is configured; otherwise the deterministic engine runs."""
        return bool(self.llm_model)

    @property
    def llm_deadline(self) -> float:
        """Seconds one LLM answer may take in all: every attempt's timeout plus the retries' backoff."""
        return self.llm_timeout * (self.llm_max_retries + 1) + 2.0 * self.llm_max_retries

    @property
    def odoo_secret(self) -> SecretStr | None:
        """The credential sent to Odoo: the API key if set, else the password."""
        return self.odoo_api_key or self.odoo_password


def _env_name(loc: tuple[object, ...], message: str) -> str:
    field = str(loc[0]) if loc else ""
    if not field and ":" in message:  # cross-field errors name the field at the start of the message
        field = message.split(":", 1)[0].removeprefix("Value error, ").strip()
    return ENV_PREFIX + field.upper() if field else ENV_PREFIX + "*"


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; a bad value raises ``ConfigError`` naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first.get("msg", "invalid value"))
        name = _env_name(tuple(first.get("loc", ())), message)
        if ":" in message and message.removeprefix("Value error, ").split(":", 1)[0].strip().isidentifier():
            message = message.split(":", 1)[1].strip()
        raise ConfigError(f"{name}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
