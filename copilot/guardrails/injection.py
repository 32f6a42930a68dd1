"""Prompt-injection detector for untrusted text (emails, tickets, attachments, chat messages).

``detect_injection(text, source=...)`` folds the text first (``normalize.fold``: NFKC, homoglyphs to the
Latin letters they imitate, no accents) and scores it in two layers:

1. **Heuristics** (``injection_rules``): regular expressions, in English, French, German, Spanish, Dutch and
   Italian, for the phrasings attacks use (overriding instructions, role play, addressing an AI, approval
   and tool commands, exfiltration requests, secrecy, chat-template markers). Each rule has a weight;
   strong rules flag on their own, weak ones (``do not mention``, a mention of a chatbot or of an API key)
   only in hidden text or together with another signal. The strong rules also read the text with
   spelled-out letters joined (``i g n o r e``), with ROT13 undone and with leetspeak read as letters
   (``1gn0r3``), and base64 payloads are decoded. In a subject or display name (``HEADER_SOURCES``) a claim
   that the change is approved or needs no review flags too.
2. **Embeddings**: the distinct sentences of the whole text (long ones in windows, at most
   ``MAX_SENTENCES``, the most instruction-like first) are compared (cosine similarity, all-MiniLM-L6-v2,
   local) with a library of known attack patterns (``data/attack_patterns.yaml``, grouped by goal). This
   catches paraphrases no regex anticipated. Only *instruction-like* sentences are embedded (``instruction_like``:
   a word, in any of the six languages, that addresses an assistant, names its instructions, or asks to approve,
   hide, send, list, apply, cancel ...), unless the text is hidden from readers or any rule found a signal in it,
   weak ones included: then every sentence is. Business mail that says nothing to an assistant is judged by the
   rules alone and never loads the model (PyTorch takes seconds to import, a sentence milliseconds to embed).
   A sentence closer to a legitimate look-alike (``data/benign_anchors.yaml``: confidential prices, bank
   notices, superseded delivery instructions) than to every attack pattern is not counted. The threshold is
   calibrated so urgent, angry or price-increase business mail stays below it; see ``EMBEDDING_THRESHOLD``.

Detection rates are measured in ``tests/unit/test_guardrails_detection_rates.py`` on an attack set and a
larger set of benign look-alikes (``tests/fixtures/guardrails``).

The embedding layer and an optional classifier (for instance an LLM call) belong to an ``InjectionDetector``
that the composition root builds and passes in (``detector=``); there is no process-wide state. The layer is
lazy (the model loads on the first text that needs it) and degrades to heuristics-only when the model is not
installed, when no detector is given, or when the settings turn it off (``COPILOT_INJECTION_EMBEDDINGS``).

A flagged text is still processed for its legitimate content; callers report the verdict and raise
the risk tier of anything proposed from it.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import logging
import re
import threading
from collections.abc import Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from copilot.guardrails.injection_rules import (
    ADDRESSED_STEMS,
    HEADER_RULES,
    IMPERATIVE_VERBS,
    INSTRUCTION_STEMS,
    INSTRUCTION_WORDS,
    POLITE_WORDS,
    RULES,
    SECOND_PERSON,
    Rule,
)
from copilot.guardrails.normalize import fold, rot13, unleet, unspace

if TYPE_CHECKING:
    from copilot.retrieval.embeddings import Embedder

__all__ = [
    "EMBEDDING_THRESHOLD",
    "FLAG_THRESHOLD",
    "HEADER_SOURCES",
    "InjectionDetector",
    "InjectionVerdict",
    "attack_patterns",
    "benign_anchors",
    "detect_injection",
    "instruction_like",
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
#: At most this many distinct sentences are embedded per text (the most instruction-like first when there are
#: more): a 10 KB email has about 100, so ordinary mail is read whole and a flood of sentences is never slow.
MAX_SENTENCES = 256
#: Longest window of a sentence embedded at once (longer sentences are read in overlapping windows).
SENTENCE_WORDS = 40
_SENTENCE_CHARS = 400
#: Sentence vectors kept per detector (a thread's quoted text and repeated checks are embedded once).
_CACHE_SIZE = 4_096


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
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")
_ENCODING_WORDS = re.compile(r"\b(?:base64|rot13|decode (?:this|the following)|hex-?encoded)\b", re.IGNORECASE)
#: Ways to hide a phrase from the rules, undone before the strong rules read the text again.
_OBFUSCATIONS: tuple[tuple[str, Callable[[str], str], str], ...] = (
    ("spaced_letters", unspace, "spells words out letter by letter"),
    ("rot13", rot13, "carries a ROT13-encoded text"),
    ("leetspeak", unleet, "writes letters as digits (leetspeak)"),
)
#: Sources that are a message's header fields (subject, sender's display name): approval claims flag there.
HEADER_SOURCES = frozenset({"email_header", "subject", "display_name"})


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


#: Frequent English words after ROT13 ("gur" is "the"): two of them make a text worth decoding.
_ROT13_WORDS = re.compile(
    r"\b(?:gur|naq|lbh|lbhe|nyy|gb|bs|sbe|guvf|vf|ner|jvgu|abg|qb|nv|nffvfgnag|vafgehpgvbaf|cerivbhf|vtaber)\b",
    re.IGNORECASE,
)


def _looks_rot13(text: str) -> bool:
    """True when ``text`` may hold ROT13 English (or says it does)."""
    if sum(1 for _ in itertools.islice(_ROT13_WORDS.finditer(text), 2)) >= 2:
        return True
    return _ENCODING_WORDS.search(text) is not None


def _rule_hits(text: str, rules: Sequence[Rule]) -> list[tuple[Rule, str]]:
    """The rules that match ``text``, each with a snippet around its first match."""
    hits: list[tuple[Rule, str]] = []
    for rule in rules:
        match = rule.pattern.search(text)
        if match is not None:
            hits.append((rule, _snippet(text, match.start(), match.end())))
    return hits


def _heuristics(text: str, *, header: bool = False) -> tuple[float, list[str], list[str], str | None]:
    """(score, reasons, matched rule names, evidence) of the rules on folded ``text`` and its de-obfuscations.

    ``header``: the text is a subject or display name, where the header rules (approval claims) apply too.
    """
    weights: list[float] = []
    reasons: list[str] = []
    matched: list[str] = []
    evidence = None
    rules = (*RULES, *HEADER_RULES) if header else RULES
    hits = _rule_hits(text, rules)
    for rule, snippet in hits:
        weights.append(rule.weight)
        matched.append(rule.name)
        reasons.append(f"{rule.reason}: {snippet!r}")
        evidence = evidence or snippet
    strong = [rule for rule in rules if rule.weight >= FLAG_THRESHOLD]
    found = {rule.name for rule, _ in hits}
    for name, undo, reason in _OBFUSCATIONS:
        if name == "rot13" and not _looks_rot13(text):
            continue
        variant = undo(text)
        if variant == text:
            continue
        for rule, snippet in _rule_hits(variant, strong):
            if rule.name in found:
                continue
            weights.append(max(0.7, rule.weight))  # hiding a strong phrase is a signal of its own
            matched += [name, f"{name}:{rule.name}"]
            reasons.append(f"{reason} that {rule.reason}: {snippet!r}")
            evidence = evidence or snippet
            break
    for payload in _decoded_payloads(text):
        inner, inner_reasons, inner_matched, _ = _heuristics(fold(payload))
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
class InjectionDetector:
    """The embedding layer of the detector: an embedder, the attack patterns it embedded and a sentence cache.

    Built by the composition root (``copilot.composition.Components.injection``) and passed to whoever screens
    text; two detectors share nothing. ``embedder=None`` (or ``use_embeddings=False``) runs the heuristics only
    and never loads a model. The patterns are embedded on the first text that needs them.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        use_embeddings: bool = True,
        classifier: Callable[[str, str], float | None] | None = None,
        every_sentence: bool = False,
    ) -> None:
        self.embedder = embedder
        self.use_embeddings = use_embeddings and embedder is not None
        #: Embed every sentence, not only the instruction-like ones (slower; to measure what the filter leaves out).
        self.every_sentence = every_sentence
        #: An extra classifier ``(text, source) -> probability of an injection`` (e.g. an LLM); one that raises
        #: or returns None is ignored for that text (the other layers still decide).
        self.classifier = classifier
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None
        self._anchors: np.ndarray | None = None
        self._labels: list[tuple[str, str]] = []
        self._failed: str | None = None
        self._cache: dict[str, np.ndarray] = {}

    def detect(
        self, text: str, *, source: str, hidden: bool | None = None, use_embeddings: bool = True
    ) -> InjectionVerdict:
        """``detect_injection`` with this detector's embedding layer and classifier."""
        return detect_injection(text, source=source, hidden=hidden, use_embeddings=use_embeddings, detector=self)

    def recall(self, text: str, source: str) -> InjectionVerdict | None:
        """A verdict already given on ``text`` from ``source`` (the pipeline's: ``ScreenedDetector``), or None."""
        return None

    def warm(self) -> bool:
        """Load the model and embed the patterns now (a worker's start), not inside the first check; False when off."""
        return self._ready()

    def clear_cache(self) -> None:
        """Forget the sentence vectors (the next text is embedded as new mail; for benchmarks)."""
        with self._lock:
            self._cache.clear()

    def _ready(self) -> bool:
        """Embed the patterns if needed; False when the embedding layer is off or unavailable."""
        if not self.use_embeddings or self._failed or self.embedder is None:
            return False
        if self._vectors is not None:
            return True
        with self._lock:
            if self._vectors is None and not self._failed:
                try:
                    labels = [(group, text) for group, texts in attack_patterns().items() for text in texts]
                    anchors = benign_anchors()
                    embedder = self.embedder
                    self._anchors = np.asarray(embedder.embed(anchors), dtype=np.float32) if anchors else None
                    self._vectors = np.asarray(embedder.embed([t for _, t in labels]), dtype=np.float32)
                    self._labels = labels
                except Exception as exc:  # the model is not installed or broken: heuristics only
                    self._failed = f"{type(exc).__name__}: {exc}"[:200]
                    log.warning("injection detector: embeddings unavailable (%s); heuristics only", self._failed)
        return self._vectors is not None

    def _embed(self, sentences: list[str]) -> np.ndarray:
        """The sentences' vectors in one batch; sentences seen before by this detector come from a small cache."""
        assert self.embedder is not None
        cache = self._cache
        with self._lock:  # one detector serves every thread of the service; the model runs outside the lock
            found = {s: cache[s] for s in dict.fromkeys(sentences) if s in cache}
        missing = [s for s in dict.fromkeys(sentences) if s not in found]
        if missing:
            found.update(zip(missing, np.asarray(self.embedder.embed(missing), dtype=np.float32), strict=True))
            with self._lock:
                if len(cache) + len(missing) > _CACHE_SIZE:  # a full cache starts again, after the lookups above
                    cache.clear()
                cache.update((s, found[s]) for s in missing)
        return np.stack([found[s] for s in sentences])

    def nearest(self, text: str, *, every_sentence: bool = True) -> tuple[float, str, str, str] | None:
        """(similarity, group, pattern, sentence) of the closest sentence/pattern pair, or None (no sentence to
        embed, or the layer is off).

        ``every_sentence=False``: only the instruction-like sentences (``instruction_like``) are embedded, and a
        text without one never loads the model.
        """
        if not self.use_embeddings:
            return None
        sentences = _sentences(text)
        if not (every_sentence or self.every_sentence):
            sentences = [s for s in sentences if instruction_like(s)]
        if not sentences or not self._ready():
            return None
        try:
            vectors = self._embed(sentences)
        except Exception as exc:  # pragma: no cover - a model that loaded but then fails
            log.warning("injection detector: embedding failed (%s)", exc)
            return None
        assert self._vectors is not None
        sims = vectors @ self._vectors.T
        if self._anchors is not None:  # closer to a legitimate look-alike than to any attack: not counted
            benign = (vectors @ self._anchors.T).max(axis=1)
            sims = np.where((benign >= sims.max(axis=1))[:, None], 0.0, sims)
        row, col = np.unravel_index(int(np.argmax(sims)), sims.shape)
        group, pattern = self._labels[int(col)]
        return float(sims[row, col]), group, pattern, sentences[int(row)]


def attack_patterns() -> dict[str, list[str]]:
    """The known attack patterns by goal, from ``copilot/guardrails/data/attack_patterns.yaml``."""
    text = resources.files("copilot.guardrails").joinpath("data/attack_patterns.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return {str(group): [str(p) for p in items or []] for group, items in (data.get("groups") or {}).items()}


def benign_anchors() -> list[str]:
    """Legitimate sentences that look like attacks to the embeddings (``data/benign_anchors.yaml``).

    A sentence closer to one of them than to every attack pattern is not counted as attack-like.
    """
    text = resources.files("copilot.guardrails").joinpath("data/benign_anchors.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return [str(a) for a in data.get("anchors") or []]


_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n+")
_DIGITS = re.compile(r"\d+")
#: Rules that only note a mention (of an AI, of instructions): not enough to make a weak similarity count.
_MENTIONS = frozenset({"ai_mentioned", "instructions_word"})
_WORD = re.compile(r"[a-z]+")
#: Words of instructions to an assistant: when a text has more distinct sentences than ``MAX_SENTENCES``, the
#: sentences with most of them are embedded first (the rules still read every sentence).
_CUES = frozenset(
    {
        *("you", "your", "assistant", "ai", "bot", "model", "copilot", "system", "prompt", "instruction"),
        *("instructions", "ignore", "disregard", "forget", "approve", "approval", "approved", "accept", "skip"),
        *("bypass", "review", "send", "forward", "reveal", "mention", "tell", "flag", "hidden", "secret"),
        *("pretend", "act", "treat", "override", "execute", "tool", "tools", "customers", "clients", "list"),
        *("rules", "guidelines", "human", "buyer", "silently", "automatically", "sign", "reply", "answer"),
        *("summary", "report", "email"),
    }
)


def _sentences(text: str) -> list[str]:
    """Distinct sentences worth embedding (4+ words), from the whole text.

    Long sentences are cut into overlapping windows of ``SENTENCE_WORDS`` words; a sentence that differs from
    another only in its numbers (order lines, tables) counts once. Beyond ``MAX_SENTENCES`` distinct sentences
    the most instruction-like ones are kept.
    """
    seen: dict[str, str] = {}
    for raw in _SPLIT.split(text[:MAX_SCAN_CHARS]):
        words = raw.strip(" >-*\t").split()
        for start in range(0, max(1, len(words) - SENTENCE_WORDS // 4), SENTENCE_WORDS * 3 // 4):
            window = words[start : start + SENTENCE_WORDS]
            if len(window) < 4:
                continue
            sentence = " ".join(window)[:_SENTENCE_CHARS]
            seen.setdefault(_DIGITS.sub("0", sentence.casefold()), sentence)
    sentences = list(seen.values())
    if len(sentences) <= MAX_SENTENCES:
        return sentences
    scores = [len(_CUES.intersection(_WORD.findall(s.lower()))) for s in sentences]
    keep = sorted(range(len(sentences)), key=lambda i: -scores[i])[:MAX_SENTENCES]
    return [sentences[i] for i in sorted(keep)]


#: Characters that render as nothing: removed before a sentence's words are read ("a\u200bpprove" is "approve").
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)


def instruction_like(sentence: str) -> bool:
    """True when ``sentence`` (folded) has a word that may speak to an assistant, in any of the six languages.

    The embedding layer reads only such sentences of a text with no rule signal (``INSTRUCTION_WORDS``,
    ``INSTRUCTION_STEMS``; a role or business verb with a "you": ``ADDRESSED_STEMS``, ``SECOND_PERSON``; an order's
    verb opening it: ``IMPERATIVE_VERBS``); one word is enough, so an attack split over sentences has each part read.
    """
    text = _INVISIBLE.sub("", sentence).lower()
    words = _WORD.findall(text)
    if "-" in text:  # "e-mail the list", "pre-approved": the parts and the joined word
        words += _WORD.findall(text.replace("-", ""))
    if any(word in INSTRUCTION_WORDS or word.startswith(INSTRUCTION_STEMS) for word in words):
        return True
    if any(word in SECOND_PERSON for word in words) and any(word.startswith(ADDRESSED_STEMS) for word in words):
        return True
    opening = _WORD.findall(text.replace("-", ""))
    first = next((word for word in opening if word not in POLITE_WORDS), "")
    return first in IMPERATIVE_VERBS


# --------------------------------------------------------------------------------------------------
# the verdict
# --------------------------------------------------------------------------------------------------
def detect_injection(
    text: str,
    *,
    source: str,
    hidden: bool | None = None,
    use_embeddings: bool = True,
    detector: InjectionDetector | None = None,
) -> InjectionVerdict:
    """Score ``text`` (untrusted) for prompt-injection; ``source`` says where it came from (``email``,
    ``email_hidden``, ``ticket``, ``customer_message``, ``attachment``, ...), for the record. A source in
    ``HEADER_SOURCES`` (``email_header``: subject and display name) also applies the header rules: a claim that
    the change is approved or needs no review flags there on its own.

    ``hidden`` (default: ``source == "email_hidden"``) marks text a human reader could not see: there a
    weak signal is enough, since legitimate senders have no reason to hide instructions.
    ``detector`` (built by the composition root) adds the embedding layer and any classifier; without one, or
    with ``use_embeddings=False``, the heuristics alone decide and no model is loaded. A detector that already
    holds a verdict on this text (``InjectionDetector.recall``: the pipeline's screening) answers with it.
    """
    if detector is not None and use_embeddings and hidden in (None, source == "email_hidden"):
        known = detector.recall(text or "", source)
        if known is not None:  # the pipeline screened this very text already
            return known
    hidden = source == "email_hidden" if hidden is None else hidden
    text = (text or "")[:MAX_SCAN_CHARS]
    if not text.strip():
        return InjectionVerdict(source=source, score=0.0, flagged=False)
    folded = fold(text)
    score, reasons, matched, evidence = _heuristics(folded, header=source in HEADER_SOURCES)
    weak_only = score < FLAG_THRESHOLD and any(name not in _MENTIONS for name in matched)
    engine = "heuristics"
    nearest_pattern = None
    similarity = None
    if use_embeddings and detector is not None:
        # a text the rules found anything in, or one hidden from readers, is read whole; any other only in its
        # instruction-like sentences (a business statement never reaches the model)
        found = detector.nearest(folded, every_sentence=hidden or bool(matched))
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
    classifier = detector.classifier if detector is not None else None
    if classifier is not None:
        try:
            extra = classifier(text, source)
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
