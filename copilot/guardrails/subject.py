"""The subject of an emailed answer: the question's subject in a safe form, or a neutral one.

The subject is the sender's text, and the answer goes out under the copilot's name: a lure such as "your
Odoo password expires - re-login at https://..." must not come back from a trusted address. So:

* control and format characters (bidi overrides, zero-width spaces) go, NFKC folds look-alike forms;
* a subject with letters outside the Latin script is not reflected (homoglyphs cannot be ruled out);
* every link, domain or e-mail address becomes ``[link removed]``;
* a telephone number, or phishing phrasing in what remains (password, log in / re-login, verify or confirm your account,
  credentials, expiry, suspension, reset, a link spelt out in pieces...) in English, French, German,
  Spanish, Dutch or Italian, with separators, leetspeak or diacritics in between, gives the neutral
  subject; otherwise the text is cut to ``MAX_REFLECTED_CHARS``.

No regular expression: every step is one pass over at most ``MAX_INPUT_CHARS`` characters.
"""

from __future__ import annotations

import unicodedata

import phonenumbers

__all__ = ["LINK", "MAX_REFLECTED_CHARS", "NEUTRAL_SUBJECT", "reflected_subject", "reply_subject"]

#: The subject when the question's one is not reflected.
NEUTRAL_SUBJECT = "Re: your question to the Odoo Ops Copilot"
#: What a link, domain or address becomes.
LINK = "[link removed]"
#: Longest reflected text (after "Re: ").
MAX_REFLECTED_CHARS = 72
#: Characters of the original subject read at all (RFC 5322 line limit).
MAX_INPUT_CHARS = 998

_REPLY_PREFIXES = ("re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "sv:", "vs:", "antw:", "r:", "rif:", "rv:")
#: Lure words and phrases, written as letters only (what remains after folding).
_LURES = (
    # credentials and log-in
    "password", "passwd", "passcode", "passwort", "kennwort", "motdepasse", "contrasena", "wachtwoord",
    "paroladordine", "login", "logon", "signin", "signon", "reauth", "authenticat", "credential", "anmeld",
    "connexion", "connectez", "identifiant", "inloggen", "aanmelden", "iniciarsesion", "iniciesesion",
    "accedi", "twofactor", "verificationcode", "securitycode", "onetimecode",
    # account threats and calls to act
    "account", "konto", "compte", "cuenta", "verify", "verifi", "confirmyour", "validateyour", "bestatig",
    "bestaetig", "suspend", "suspens", "locked", "unlock", "deactivat", "disabled", "expire", "expiry", "expiring",
    "ablauf", "lauftab", "laeuftab", "caduc", "verloop", "scadenz", "scade", "reset", "unusual", "suspicious",
    "securityalert", "mailbox", "quotaexceed", "overquota", "clickhere", "click", "urgent", "actnow", "immediately",
    # money lures
    "bankdetail", "paymentdetail", "wiretransfer", "giftcard", "iban",
    # links spelt out
    "http", "hxxp", "www", "dotcom",
)  # fmt: skip
_LEET_I = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"})
_LEET_L = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "l", "|": "l", "3": "e", "$": "s", "5": "s", "7": "t"})
_DOTS = ("[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", "\u3002", "\uff61")
_EDGE = "()[]{}<>\"'.,;:!?*"
_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_LATIN_END = 0x250  # Basic Latin, Latin-1, Latin Extended-A and -B


def _clean(subject: str) -> str:
    """NFKC, without control or format characters, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", subject[:MAX_INPUT_CHARS])
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())


def _without_prefixes(text: str) -> str:
    while True:
        lowered = text.lower()
        prefix = next((p for p in _REPLY_PREFIXES if lowered.startswith(p)), None)
        if prefix is None:
            return text
        text = text[len(prefix) :].lstrip()


def _latin_only(text: str) -> bool:
    return all(ord(ch) < _LATIN_END for ch in text if ch.isalpha())


def _letters(text: str, table: dict[int, str]) -> str:
    """Lower case, diacritics and leetspeak folded, only the letters a-z kept."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(table))
    return "".join(ch for ch in decomposed if "a" <= ch <= "z")


def _lure(text: str) -> bool:
    """True when the text carries phishing phrasing in any of the folded spellings."""
    for table in (_LEET_I, _LEET_L):
        letters = _letters(text, table)
        if any(word in letters for word in _LURES):
            return True
    return False


def _is_link(token: str) -> bool:
    core = token.strip(_EDGE).lower()
    for dot in _DOTS:
        core = core.replace(dot, ".")
    if not core:
        return False
    if "://" in core or "@" in core or core.startswith(("www.", "mailto:", "http", "hxxp", "ftp")):
        return True
    host = core.split("/", 1)[0].split("?", 1)[0]
    labels = host.split(".")
    if len(labels) < 2 or not all(labels) or not all(set(label) <= _DOMAIN_CHARS for label in labels):
        return False
    top = labels[-1]
    return len(top) >= 2 and top.isalpha()


def _without_links(text: str) -> str:
    out: list[str] = []
    for token in text.split(" "):
        word = LINK if _is_link(token) else token
        if not (word == LINK and out and out[-1] == LINK):
            out.append(word)
    return " ".join(out)


def _cut(text: str) -> str:
    if len(text) <= MAX_REFLECTED_CHARS:
        return text
    head = text[: MAX_REFLECTED_CHARS - 1]
    space = head.rfind(" ")
    return (head[:space] if space > MAX_REFLECTED_CHARS // 2 else head).rstrip() + "…"


def _phone(text: str) -> bool:
    """True when the text holds a telephone number (a lure's "call us now"; numbers with a + in any country)."""
    return any(True for _ in phonenumbers.PhoneNumberMatcher(text, "US"))


def reflected_subject(subject: str | None) -> str | None:
    """The part of ``subject`` safe to repeat in an answer, or ``None`` when none is."""
    text = _without_prefixes(_clean(subject or ""))
    if not text or not _latin_only(text):
        return None
    text = _without_links(text)
    rest = text.replace(LINK, " ")
    if not rest.strip(" " + _EDGE + "-") or _lure(rest) or _phone(rest):  # a link spelt out in pieces is a lure too
        return None
    return _cut(text)


def reply_subject(subject: str | None) -> str:
    """``Re: <the safe form of subject>``, or the neutral subject."""
    safe = reflected_subject(subject)
    return f"Re: {safe}" if safe else NEUTRAL_SUBJECT
