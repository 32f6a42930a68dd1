"""Prompt-injection detector for untrusted text (emails, tickets, attachments, chat messages).

``detect_injection(text, source=...)`` scores a text in two layers:

1. **Heuristics**: regular expressions for the phrasings attacks use (overriding instructions, role
   play, addressing an AI, approval and tool commands, exfiltration requests, secrecy, chat-template
   markers, encoded payloads). Each rule has a weight; strong rules flag on their own, weak ones
   (``do not mention``, ``without asking``) only in hidden text or together with another signal.
2. **Embeddings**: each sentence is compared (cosine similarity, all-MiniLM-L6-v2, local) with a library
   of known attack patterns (``data/attack_patterns.yaml``, grouped by goal). This catches paraphrases
   no regex anticipated. The threshold is calibrated so urgent, angry or price-increase business mail
   stays below it; see ``EMBEDDING_THRESHOLD``.

An optional classifier (for instance an LLM call) can be plugged in with ``set_classifier``; its
score is combined with the others. The embedding layer is lazy (the model loads on first use and is
shared with the rest of the process) and degrades to heuristics-only when the model is not installed
or when ``set_embeddings_enabled(False)`` was called.

A flagged text is still processed for its legitimate content; callers report the verdict and raise
the risk tier of anything proposed from it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "EMBEDDING_THRESHOLD",
    "FLAG_THRESHOLD",
    "InjectionVerdict",
    "attack_patterns",
    "detect_injection",
    "set_classifier",
    "set_embedder",
    "set_embeddings_enabled",
]

log = logging.getLogger(__name__)


#: A score at or above this flags the text.
FLAG_THRESHOLD = 0.5
#: Cosine similarity of a sentence to a known attack pattern that flags on its own. Calibrated on about
#: 1,150 legitimate sentences (the security suite's hard negatives, the supplier-email, triage, drafts and
#: answers datasets, the email fixtures): the highest scored 0.59, so 0.62 leaves a margin; paraphrased
#: attacks mostly score 0.65 and above (``tests/unit/test_guardrails_injection.py``).
EMBEDDING_THRESHOLD = 0.62
#: Similarity that counts as a weak signal (flags together with a weak heuristic, or in hidden text).
EMBEDDING_WEAK = 0.55
#: Text beyond this is not scanned (``parse_email`` keeps at most this much of a body).
MAX_SCAN_CHARS = 200_000
#: At most this many sentences are embedded per text (a flood of sentences is cut, never slow).
MAX_SENTENCES = 80
_SENTENCE_CHARS = 400


class InjectionVerdict(BaseModel):
    """What the detector found in one text."""

    model_config = ConfigDict(frozen=True)

    source: str
    score: float = Field(ge=0.0, le=1.0, description="0 = nothing suspicious, 1 = certainly an injection")
    flagged: bool
    reasons: list[str] = Field(default_factory=list, description="Why, one line per signal")
    matched: list[str] = Field(default_factory=list, description="Names of the rules or attack patterns that matched")
    nearest_pattern: str | None = Field(default=None, description="The most similar known attack pattern")
    similarity: float | None = Field(default=None, description="Its cosine similarity (None: embeddings not used)")
    evidence: str | None = Field(default=None, description="The sentence that scored highest")
    engine: str = "heuristics"


# --------------------------------------------------------------------------------------------------
# heuristics
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rule:
    name: str
    weight: float  # >= FLAG_THRESHOLD: flags alone
    pattern: re.Pattern[str]
    reason: str


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.MULTILINE)


_RULES: tuple[_Rule, ...] = (
    _Rule(
        "instruction_override",
        0.95,
        _rx(
            r"\b(?:ignore|disregard|forget|override|bypass|skip)\s++(?:(?:all|any|the|your|of)\s++)*+"
            r"(?:(?:previous|prior|above|earlier|preceding|original|existing|system|safety|standing)\s*+)?"
            r"(?:instructions|prompts?|rules|guidelines|guardrails|directives|programming|messages)\b"
            r"(?!\s+(?:we|i|our \w+) (?:sent|gave|emailed|wrote|mentioned)|\s+(?:about|regarding|on|for) (?:the|our|"
            r"this|that) (?:old|previous|delivery|shipment|pallets?|dock|warehouse|address|invoice|order))"
            r"|\bnew (?:system )?instructions? for (?:the|you|any)\b|\bsystem prompt\b"
            r"|\b(?:these|the following) instructions (?:take|have) (?:priority|precedence)\b"
        ),
        "tries to override the assistant's instructions",
    ),
    _Rule(
        "role_play",
        0.9,
        _rx(
            r"\byou are now\b|\bfrom now on,? you (?:are|will|must)\b|\bpretend (?:to be|you are)\b"
            r"|\b(?:act|behave|respond) as (?:if you were |an? |the )?(?:unrestricted|admin|administrator|system|"
            r"developer|manager|director|jailbroken)\b|\bdeveloper mode\b|\bjailbreak|\bDAN mode\b"
        ),
        "asks the assistant to play another role",
    ),
    _Rule(
        "ai_addressed",
        0.9,
        _rx(
            r"\b(?:AI|A\.I\.)\s+(?:assistant|agent|model|bot)s?\b|\b(?:virtual|automated|digital)\s+"
            r"(?:assistant|agent)s?\b|\b(?:language model|LLM|chat ?GPT|GPT-?\d|chatbot|assistant processing"
            r"|AI processing)\b|\bnote (?:to|for) the (?:AI|assistant|model|bot|copilot)\b"
            r"|\b(?:dear|hey|attention|to the|for the|instructions? (?:to|for) the)\s+(?:AI|bot|copilot)\b"
            r"|^[^\S\n]*+(?:assistant|copilot|bot)\s*+[:,]"
            r"|\b(?:AI|assistant|copilot|bot|model|agent)s? (?:reading|processing|handling|summari[sz]ing|parsing|that "
            r"(?:reads|processes|handles)) (?:this|these|the|our)\b"
        ),
        "addresses instructions to an AI assistant",
    ),
    _Rule(
        "chat_markup",
        0.9,
        _rx(
            r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?INST\]|<</?SYS>>"
            r"|^[^\S\n]*+#{2,}+\s*+(?:system|instruction|assistant)\b"
        ),
        "contains chat-template markers",
    ),
    _Rule(
        "role_marker",
        0.45,
        _rx(r"^[^\S\n]*+\[?(?:system|assistant|developer)\]?\s*+:"),
        "contains a line that imitates a chat role",
    ),
    _Rule(
        "approval_bypass",
        0.7,
        _rx(
            r"\b(?:auto-?approve|approve (?:it |this |them |the (?:request|change|increase|price) )?"
            r"(?:automatically|silently|without)|mark (?:it |the request |this )?as approved"
            r"|set (?:the )?(?:risk )?tier to|bypass (?:the )?(?:approval|policy|review|check)"
            r"|skip (?:the )?(?:approval|review|verification|sign-?off)|without (?:human|manager|any) "
            r"(?:review|approval|sign-?off)|(?:accept|apply|update) (?:it |the (?:new )?price |this )?silently)\b"
        ),
        "asks to approve or apply a change without review",
    ),
    _Rule(
        "tool_command",
        0.7,
        _rx(
            r"/copilot\s+\w+|\bwrite (?:to )?(?:odoo|the database)\b|\b(?:sale|purchase)\.order\b\s+\S+\s+\w+="
            r"|\b(?:call|invoke|use|run) (?:your|the) (?:\w+ )?(?:tools?|functions?|executor)\b"
        ),
        "tries to make the assistant use its tools",
    ),
    _Rule(
        "command_words",
        0.25,
        _rx(r"\b(?:execute|perform) the following (?:actions?|steps|commands?)\b|\bAPI\b"),
        "reads like a command to a program",
    ),
    _Rule(
        "exfiltration",
        0.7,
        _rx(
            r"\b(?:send|forward|email|export|give|share|list|paste|include|attach|reply with|tell me)\b[^.\n]{0,40}\b"
            r"(?:all|every|full|whole|complete|your|the)\s+(?:\w+\s+){0,2}"
            r"(?:customers|clients|vendors|suppliers|contacts|customer list|client list|vendor list"
            r"|bank details of|email addresses|phone numbers|credentials|api keys?|passwords?|database)\b"
            r"|\b(?:orders?|prices?|invoices?|addresses|details|data|names)\s+of\s+(?:your|all|every|the)\s+other\s+"
            r"(?:customers?|clients?|vendors?|suppliers?|companies)\b"
            r"|\b(?:reveal|print|repeat|show|output)\b[^.\n]{0,20}\b(?:your|the)\s+(?:system |hidden |original )?"
            r"(?:prompt|instructions|configuration|rules)\b"
            r"|!\[[^\]]*\]\(https?://[^)]*[?&][^)]*\)"
        ),
        "asks for data to be sent out or revealed",
    ),
    _Rule(
        "secrecy",
        0.35,
        _rx(
            r"\bdo not (?:mention|tell|reveal|disclose|inform|flag|warn|show)\b|\bdon'?t (?:mention|tell|flag)\b"
            r"|\bwithout (?:asking|telling|checking with|notifying)\b|\bsilently\b"
            r"|\bkeep (?:this|it) (?:hidden|secret)\b"
            r"|\b(?:leave|keep) (?:it|this|that) out of (?:the|your) (?:summary|report|answer|reply)\b|\bquietly\b"
        ),
        "asks to keep something from the people reading",
    ),
    _Rule(
        "instructions_word",
        0.2,
        _rx(r"\bnew instructions?\b|\binstructions?\b"),
        "talks about instructions",
    ),
)
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")
_ENCODING_WORDS = _rx(r"\b(?:base64|rot13|decode (?:this|the following)|hex-?encoded)\b")


def _decoded_payloads(text: str) -> list[str]:
    """Readable text hidden in base64 runs (at most a few, each short)."""
    out: list[str] = []
    for match in _BASE64.finditer(text[:MAX_SCAN_CHARS]):
        chunk = match.group(0)
        try:
            raw = base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            continue
        printable = sum(ch.isprintable() or ch.isspace() for ch in decoded)
        if decoded and printable / len(decoded) > 0.95 and re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}", decoded):
            out.append(decoded[:500])
        if len(out) >= 5:
            break
    return out


def _heuristics(text: str) -> tuple[float, list[str], list[str], str | None]:
    """(score, reasons, matched rule names, evidence) of the regular expressions."""
    weights: list[float] = []
    reasons: list[str] = []
    matched: list[str] = []
    evidence = None
    for rule in _RULES:
        match = rule.pattern.search(text)
        if match is None:
            continue
        weights.append(rule.weight)
        matched.append(rule.name)
        reasons.append(f"{rule.reason}: {_snippet(text, match.start(), match.end())!r}")
        evidence = evidence or _snippet(text, match.start(), match.end())
    for payload in _decoded_payloads(text):
        inner, inner_reasons, inner_matched, _ = _heuristics(payload)
        weights.append(max(0.6, inner))
        matched.append("encoded_payload")
        reasons.append("carries an encoded (base64) text" + (f" that {inner_reasons[0]}" if inner_reasons else ""))
        matched.extend(f"encoded:{m}" for m in inner_matched)
        break
    if _ENCODING_WORDS.search(text):
        weights.append(0.3)
        matched.append("encoding_words")
        reasons.append("mentions an encoding (base64, rot13, decode)")
    return _combine(weights), reasons, matched, evidence


def _combine(weights: Sequence[float]) -> float:
    """Noisy-or of independent signals: two weak signals make a stronger one."""
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - max(0.0, min(1.0, w))
    return round(1.0 - remaining, 4)


def _snippet(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 30) : min(len(text), end + 30)].split())[:160]


# --------------------------------------------------------------------------------------------------
# embeddings
# --------------------------------------------------------------------------------------------------
class _Library:
    """The attack patterns, embedded once per process (after the first text that needs them)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.enabled = True
        self.embedder: Any = None  # an ``Embedder``; None: the process-wide local model
        self.vectors: np.ndarray | None = None
        self.labels: list[tuple[str, str]] = []
        self.failed: str | None = None
        self.classifier: Callable[[str, str], float | None] | None = None

    def get_embedder(self) -> Any:
        if self.embedder is None:
            from copilot.retrieval.embeddings import get_embedder

            self.embedder = get_embedder()
        return self.embedder

    def ready(self) -> bool:
        """Embed the patterns if needed; False when the embedding layer is off or unavailable."""
        if not self.enabled or self.failed:
            return False
        if self.vectors is not None:
            return True
        with self.lock:
            if self.vectors is None and not self.failed:
                try:
                    labels = [(group, text) for group, texts in attack_patterns().items() for text in texts]
                    self.vectors = np.asarray(self.get_embedder().embed([t for _, t in labels]), dtype=np.float32)
                    self.labels = labels
                except Exception as exc:  # the model is not installed or broken: heuristics only
                    self.failed = f"{type(exc).__name__}: {exc}"[:200]
                    log.warning("injection detector: embeddings unavailable (%s); heuristics only", self.failed)
        return self.vectors is not None


_LIBRARY = _Library()


def attack_patterns() -> dict[str, list[str]]:
    """The known attack patterns by goal, from ``copilot/guardrails/data/attack_patterns.yaml``."""
    text = resources.files("copilot.guardrails").joinpath("data/attack_patterns.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return {str(group): [str(p) for p in items or []] for group, items in (data.get("groups") or {}).items()}


def set_embeddings_enabled(enabled: bool) -> None:
    """Turn the embedding layer on or off for this process (off: heuristics only)."""
    _LIBRARY.enabled = enabled


def set_embedder(embedder: Any | None) -> None:
    """Use this embedder (anything with ``embed(texts) -> normalised rows``); None: the shared local model."""
    with _LIBRARY.lock:
        _LIBRARY.embedder = embedder
        _LIBRARY.vectors = None
        _LIBRARY.failed = None


def set_classifier(classifier: Callable[[str, str], float | None] | None) -> None:
    """An extra classifier ``(text, source) -> probability of an injection`` (e.g. an LLM); None removes it.

    A classifier that raises or returns None is ignored for that text (the other layers still decide).
    """
    _LIBRARY.classifier = classifier


_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n+")


def _sentences(text: str) -> list[str]:
    """Distinct sentences worth embedding (4+ words), at most ``MAX_SENTENCES``."""
    seen: dict[str, None] = {}
    for raw in _SPLIT.split(text[:MAX_SCAN_CHARS]):
        sentence = " ".join(raw.strip(" >-*\t").split())
        if len(sentence.split()) < 4:
            continue
        seen.setdefault(sentence[:_SENTENCE_CHARS], None)
        if len(seen) >= MAX_SENTENCES:
            break
    return list(seen)


def _nearest(text: str) -> tuple[float, str, str, str] | None:
    """(similarity, group, pattern, sentence) of the closest sentence/pattern pair, or None."""
    if not _LIBRARY.ready():
        return None
    sentences = _sentences(text)
    if not sentences:
        return None
    try:
        vectors = np.asarray(_LIBRARY.get_embedder().embed(sentences), dtype=np.float32)
    except Exception as exc:  # pragma: no cover - a model that loaded but then fails
        log.warning("injection detector: embedding failed (%s)", exc)
        return None
    assert _LIBRARY.vectors is not None
    sims = vectors @ _LIBRARY.vectors.T
    row, col = np.unravel_index(int(np.argmax(sims)), sims.shape)
    group, pattern = _LIBRARY.labels[int(col)]
    return float(sims[row, col]), group, pattern, sentences[int(row)]


# --------------------------------------------------------------------------------------------------
# the verdict
# --------------------------------------------------------------------------------------------------
def detect_injection(
    text: str,
    *,
    source: str,
    hidden: bool | None = None,
    use_embeddings: bool = True,
) -> InjectionVerdict:
    """Score ``text`` (untrusted) for prompt-injection; ``source`` says where it came from (``email``,
    ``email_hidden``, ``ticket``, ``customer_message``, ``attachment``, ...), for the record.

    ``hidden`` (default: ``source == "email_hidden"``) marks text a human reader could not see: there a
    weak signal is enough, since legitimate senders have no reason to hide instructions.
    ``use_embeddings=False`` runs the heuristics only.
    """
    hidden = source == "email_hidden" if hidden is None else hidden
    text = (text or "")[:MAX_SCAN_CHARS]
    if not text.strip():
        return InjectionVerdict(source=source, score=0.0, flagged=False)
    score, reasons, matched, evidence = _heuristics(text)
    weak_only = bool(matched) and score < FLAG_THRESHOLD
    engine = "heuristics"
    nearest_pattern = None
    similarity = None
    if use_embeddings:
        found = _nearest(text)
        if found is not None:
            engine = "heuristics+embeddings"
            similarity, group, nearest_pattern, sentence = found
            similarity = round(similarity, 4)
            if similarity >= EMBEDDING_THRESHOLD or (similarity >= EMBEDDING_WEAK and (weak_only or hidden)):
                # above the threshold: a flag on its own, more certain the closer it is; between the weak level
                # and the threshold: a weak signal that flags only with another one (or in hidden text)
                emb = 0.5 + 0.5 * min(1.0, (similarity - EMBEDDING_WEAK) / (1.0 - EMBEDDING_WEAK))
                if similarity < EMBEDDING_THRESHOLD:
                    emb = 0.35
                score = _combine([score, emb])
                matched.append(f"pattern:{group}")
                reasons.append(
                    f"close to a known {group.replace('_', ' ')} attack ({similarity:.2f}): {sentence[:120]!r}"
                )
                evidence = evidence or sentence[:160]
    if _LIBRARY.classifier is not None:
        try:
            extra = _LIBRARY.classifier(text, source)
        except Exception as exc:  # the optional classifier never breaks the detector
            log.warning("injection detector: classifier failed (%s)", exc)
            extra = None
        if extra is not None:
            engine += "+classifier"
            if extra >= FLAG_THRESHOLD:
                reasons.append(f"the classifier rates it an injection ({extra:.2f})")
                matched.append("classifier")
            score = max(score, float(extra)) if extra >= FLAG_THRESHOLD else score
    if hidden and matched:
        score = _combine([score, 0.3])  # hidden text that carries any signal at all
        reasons.append("the text was hidden from human readers")
    score = round(min(1.0, score), 4)
    return InjectionVerdict(
        source=source,
        score=score,
        flagged=score >= FLAG_THRESHOLD,
        reasons=reasons,
        matched=list(dict.fromkeys(matched)),
        nearest_pattern=nearest_pattern,
        similarity=similarity,
        evidence=evidence,
        engine=engine,
    )
