"""Whether an HTML element's text is visible, judged from its inline style and the document's ``<style>`` rules.

A mail client shows text that the HTML-to-text conversion must not take as read by a person when it is hidden
by CSS: ``display:none``, ``visibility:hidden``, opacity near 0, a font smaller than 4 px, a colour that is
transparent or nearly the background's, ``clip``/``clip-path`` to nothing, ``transform: scale(0)``,
``mso-hide:all`` (Outlook), off-screen positioning, or a zero-size box with ``overflow:hidden``. Rules may come
from a ``<style>`` element through a class, id, tag or attribute selector.

CSS is parsed with ``tinycss2`` (no hand-written CSS parser, no regular expressions). Selectors are matched
approximately and in constant time per element: the subject of a selector exactly, its ancestors by "some open
element has this class/id/tag" counters; pseudo-classes (``:hover``) are not matched, and rules inside
``@media`` queries on the screen size (a mobile layout) are ignored. Colours use ``tinycss2.color3``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser

import tinycss2
import tinycss2.color3

__all__ = [
    "MAX_RULES",
    "MAX_RULE_CHECKS",
    "Element",
    "StyleSheet",
    "declarations",
    "hidden_reason",
    "style_sheet",
    "styles_in_html",
]

#: Style rules read from one document, and the longest ``<style>`` text read; beyond them rules are ignored (a
#: mail's CSS is a few KB; text that a later rule would hide is then read as visible, and checked as such).
MAX_RULES = 2_000
#: Rule-against-element checks one document may cost (rules x elements could reach ~10^8 on 1 MB of HTML);
#: past it, elements get no style-sheet style, so their text counts as visible and is checked as such.
MAX_RULE_CHECKS = 200_000
MAX_CSS_CHARS = 100_000
#: Longest inline style read.
MAX_INLINE_CHARS = 4_000
#: Properties that can hide text; rules that set none of them are not kept.
_RELEVANT = frozenset(
    {
        "display",
        "visibility",
        "opacity",
        "font-size",
        "font",
        "color",
        "background",
        "background-color",
        "clip",
        "clip-path",
        "transform",
        "mso-hide",
        "position",
        "left",
        "top",
        "right",
        "bottom",
        "text-indent",
        "margin-left",
        "margin-top",
        "height",
        "width",
        "max-height",
        "max-width",
        "overflow",
    }
)
#: Smallest readable font size in px, lowest opacity a reader sees, lowest contrast a reader can read.
MIN_FONT_PX = 4.0
MIN_OPACITY = 0.1
MIN_CONTRAST = 1.25
#: Positions further than this off the page (in px) are off-screen.
OFF_SCREEN_PX = -500.0
_PX = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "em": 16.0, "rem": 16.0, "ex": 8.0, "ch": 8.0, "in": 96.0, "cm": 37.8}
_PX["mm"] = 3.78
_PX["q"] = 0.945
_SCREEN_QUERIES = ("width", "height", "orientation", "aspect-ratio", "print", "prefers", "resolution")


@dataclass(frozen=True)
class Element:
    """What a selector can match on one element."""

    tag: str
    classes: frozenset[str] = frozenset()
    id: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Compound:
    tag: str | None
    classes: frozenset[str]
    id: str | None
    attributes: tuple[tuple[str, str | None], ...]  # (name, exact value or None for presence)

    def matches(self, element: Element) -> bool:
        if self.tag is not None and self.tag != element.tag:
            return False
        if self.id is not None and self.id != element.id:
            return False
        if not self.classes <= element.classes:
            return False
        for name, value in self.attributes:
            if name not in element.attributes or (value is not None and element.attributes[name] != value):
                return False
        return True

    def selector_keys(self) -> list[str]:
        """The open-element counters this compound needs (``class:x``, ``tag:div``, ...)."""
        keys = [f"tag:{self.tag}"] if self.tag else []
        keys += [f"class:{c}" for c in self.classes]
        keys += [f"id:{self.id}"] if self.id else []
        keys += [f"attr:{name}" for name, _ in self.attributes]
        return keys


@dataclass(frozen=True)
class _Rule:
    subject: _Compound
    ancestors: tuple[_Compound, ...]
    declarations: tuple[tuple[str, str], ...]
    order: int


@dataclass
class StyleSheet:
    """The hiding-relevant rules of a document's ``<style>`` elements, indexed by their subject's id/class/tag."""

    by_key: dict[str, list[_Rule]] = field(default_factory=dict)
    universal: list[_Rule] = field(default_factory=list)
    count: int = 0
    checks: int = 0  # rule-against-element checks spent, bounded by MAX_RULE_CHECKS

    def add(self, rule: _Rule) -> None:
        """Index one rule under the most selective part of its subject."""
        subject = rule.subject
        if subject.id:
            key = f"id:{subject.id}"
        elif subject.classes:
            key = f"class:{min(subject.classes)}"
        elif subject.tag:
            key = f"tag:{subject.tag}"
        elif subject.attributes:
            key = f"attr:{subject.attributes[0][0]}"
        else:
            self.universal.append(rule)
            self.count += 1
            return
        self.by_key.setdefault(key, []).append(rule)
        self.count += 1

    def style_of(self, element: Element, open_keys: Counter[str]) -> dict[str, str]:
        """The declarations the sheet gives ``element`` (later rules win), with ``open_keys`` its ancestors."""
        if not self.count or self.checks > MAX_RULE_CHECKS:  # past the budget: no candidate list is even built
            return {}
        keys = [f"tag:{element.tag}"]
        if element.id:
            keys.append(f"id:{element.id}")
        keys += [f"class:{c}" for c in list(element.classes)[:32]]
        keys += [f"attr:{name}" for name in list(element.attributes)[:32]]
        candidates = [rule for key in keys for rule in self.by_key.get(key, ())] + self.universal
        self.checks += len(candidates)
        if self.checks > MAX_RULE_CHECKS:
            return {}
        found: dict[str, str] = {}
        for rule in sorted(candidates, key=lambda r: r.order):
            if rule.subject.matches(element) and all(
                all(open_keys[k] > 0 for k in ancestor.selector_keys()) for ancestor in rule.ancestors
            ):
                found.update(rule.declarations)
        return found


class _StyleCollector(HTMLParser):
    """The text of every ``<style>`` element of a document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []
        self.size = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() == "style":
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag.lower() == "style":
            self.depth = max(0, self.depth - 1)

    def handle_data(self, data: str) -> None:
        if self.depth and self.size < MAX_CSS_CHARS:
            self.parts.append(data)
            self.size += len(data)


def styles_in_html(html: str) -> str:
    """The CSS of the document's ``<style>`` elements (empty when it has none)."""
    if "<style" not in html.lower():
        return ""
    collector = _StyleCollector()
    with contextlib.suppress(Exception):  # html.parser is lenient; on a rare failure keep what was read
        collector.feed(html)
        collector.close()
    return "".join(collector.parts)[:MAX_CSS_CHARS]


def style_sheet(css: str) -> StyleSheet:
    """The hiding-relevant rules of ``css`` (at most ``MAX_RULES``), ready to match elements."""
    sheet = StyleSheet()
    if not css.strip():
        return sheet
    _add_rules(sheet, tinycss2.parse_stylesheet(css[:MAX_CSS_CHARS], skip_comments=True, skip_whitespace=True))
    return sheet


def _add_rules(sheet: StyleSheet, nodes: Iterable[object], depth: int = 0) -> None:
    for node in nodes:
        if sheet.count >= MAX_RULES:
            return
        if isinstance(node, tinycss2.ast.AtRule):
            query = tinycss2.serialize(node.prelude).lower()
            screen_only = any(word in query for word in _SCREEN_QUERIES)  # "@media all/screen" applies everywhere
            if node.lower_at_keyword == "media" and node.content and depth < 3 and not screen_only:
                _add_rules(sheet, tinycss2.parse_rule_list(node.content, True, True), depth + 1)
            continue
        if not isinstance(node, tinycss2.ast.QualifiedRule):
            continue
        found = _declarations_of(tinycss2.parse_declaration_list(node.content, True, True))
        if not found:
            continue
        for selector in _selectors(node.prelude):
            sheet.add(_Rule(selector[-1], tuple(selector[:-1]), tuple(found.items()), sheet.count))
            if sheet.count >= MAX_RULES:
                return


def _selectors(prelude: list[object]) -> list[list[_Compound]]:
    """The selectors of a rule's prelude; a selector with a pseudo-class or an unknown part is left out."""
    out: list[list[_Compound]] = []
    current: list[_Compound] = []
    tag: str | None = None
    classes: set[str] = set()
    ident: str | None = None
    attributes: list[tuple[str, str | None]] = []
    started = False
    broken = False
    expect_class = False

    def close() -> None:
        nonlocal tag, classes, ident, attributes, started
        if started:
            current.append(_Compound(tag, frozenset(classes), ident, tuple(attributes)))
        tag, classes, ident, attributes, started = None, set(), None, [], False

    for token in [*prelude, None]:
        if token is None or (isinstance(token, tinycss2.ast.LiteralToken) and token.value == ","):
            close()
            if current and not broken:
                out.append(current)
            current, broken, expect_class = [], False, False
            continue
        if broken:
            continue
        if isinstance(token, tinycss2.ast.WhitespaceToken) or (
            isinstance(token, tinycss2.ast.LiteralToken) and token.value in (">", "+", "~")
        ):
            close()
        elif isinstance(token, tinycss2.ast.LiteralToken) and token.value == ".":
            expect_class = True
        elif isinstance(token, tinycss2.ast.LiteralToken) and token.value == "*":
            started = True
        elif isinstance(token, tinycss2.ast.IdentToken):
            if expect_class:
                classes.add(token.value)
                expect_class = False
            else:
                tag = token.lower_value
            started = True
        elif isinstance(token, tinycss2.ast.HashToken):
            ident, started = token.value, True
        elif isinstance(token, tinycss2.ast.SquareBracketsBlock):
            attribute = _attribute(token.content)
            if attribute is None:
                broken = True
            else:
                attributes.append(attribute)
                started = True
        else:  # ":" (pseudo-classes), functions, anything else: not matched
            broken = True
    return out


def _attribute(tokens: list[object]) -> tuple[str, str | None] | None:
    parts = [t for t in tokens if not isinstance(t, tinycss2.ast.WhitespaceToken)]
    if len(parts) == 1 and isinstance(parts[0], tinycss2.ast.IdentToken):
        return parts[0].lower_value, None
    if (
        len(parts) == 3
        and isinstance(parts[0], tinycss2.ast.IdentToken)
        and isinstance(parts[1], tinycss2.ast.LiteralToken)
        and parts[1].value == "="
        and isinstance(parts[2], tinycss2.ast.IdentToken | tinycss2.ast.StringToken)
    ):
        return parts[0].lower_value, parts[2].value
    return None


def _declarations_of(nodes: Iterable[object]) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, tinycss2.ast.Declaration) and node.lower_name in _RELEVANT:
            found[node.lower_name] = tinycss2.serialize(node.value).strip().lower()
    return found


def declarations(style: str) -> dict[str, str]:
    """The hiding-relevant declarations of an inline ``style`` attribute, values lower case."""
    if not style or ":" not in style:
        return {}
    return _declarations_of(tinycss2.parse_declaration_list(style[:MAX_INLINE_CHARS], True, True))


# -- judging one element ------------------------------------------------------------------------------------
@lru_cache(maxsize=4_096)
def _tokens(value: str) -> tuple[object, ...]:
    """The component values of a declaration value, without whitespace (cached: mail repeats its values)."""
    if not value:
        return ()
    return tuple(
        t for t in tinycss2.parse_component_value_list(value) if not isinstance(t, tinycss2.ast.WhitespaceToken)
    )


def _length_px(token: object) -> float | None:
    """A length in px (percent of a 16 px font for font sizes), or None when it is not a length."""
    if isinstance(token, tinycss2.ast.DimensionToken):
        factor = _PX.get(token.lower_unit)
        return None if factor is None else float(token.value) * factor
    if isinstance(token, tinycss2.ast.PercentageToken):
        return float(token.value) * 0.16
    if isinstance(token, tinycss2.ast.NumberToken):
        return float(token.value)
    return None


def _first_length(value: str) -> float | None:
    for token in _tokens(value):
        found = _length_px(token)
        if found is not None:
            return found
    return None


def _font_px(style: Mapping[str, str]) -> float | None:
    if "font-size" in style:
        return _first_length(style["font-size"])
    if "font" in style:  # the shorthand: the first length is the size ("font: 0/0 a")
        return _first_length(style["font"])
    return None


def _opacity(value: str) -> float | None:
    for token in _tokens(value):
        if isinstance(token, tinycss2.ast.NumberToken):
            return float(token.value)
        if isinstance(token, tinycss2.ast.PercentageToken):
            return float(token.value) / 100
    return None


def _clipped(style: Mapping[str, str]) -> bool:
    clip = style.get("clip", "")
    if clip.startswith("rect("):
        numbers = [_length_px(t) for t in _function_args(clip)]
        lengths = [n for n in numbers if n is not None]
        if lengths and max(abs(n) for n in lengths) <= 1:
            return True
    path = style.get("clip-path", "")
    if path.startswith("inset("):
        args = [t for t in _function_args(path) if isinstance(t, tinycss2.ast.PercentageToken)]
        return any(float(t.value) >= 50 for t in args)
    if path.startswith(("circle(", "ellipse(")):
        lengths = [_length_px(t) for t in _function_args(path)]
        first = next((n for n in lengths if n is not None), None)
        return first is not None and first <= 0
    return False


def _function_args(value: str) -> list[object]:
    """The arguments of the first function in ``value`` (``rect(0 0 0 0)``), without separators."""
    for token in _tokens(value):
        if isinstance(token, tinycss2.ast.FunctionBlock):
            return [
                t
                for t in token.arguments
                if not isinstance(t, tinycss2.ast.WhitespaceToken | tinycss2.ast.LiteralToken)
            ]
    return []


def _scaled_to_zero(value: str) -> bool:
    for token in _tokens(value):
        if not isinstance(token, tinycss2.ast.FunctionBlock):
            continue
        name = token.lower_name
        numbers = [
            float(t.value)
            for t in token.arguments
            if isinstance(t, tinycss2.ast.NumberToken | tinycss2.ast.PercentageToken)
        ]
        if name in ("scale", "scalex", "scaley", "scale3d") and numbers and min(abs(n) for n in numbers) == 0:
            return True
        if name == "matrix" and len(numbers) == 6 and numbers[0] == 0 and numbers[3] == 0:
            return True
    return False


def _off_screen(style: Mapping[str, str]) -> bool:
    indent = _first_length(style.get("text-indent", ""))
    if indent is not None and indent <= OFF_SCREEN_PX:
        return True
    if style.get("position") in ("absolute", "fixed", "relative"):
        for side in ("left", "top", "right", "bottom", "margin-left", "margin-top"):
            offset = _first_length(style.get(side, ""))
            if offset is not None and offset <= OFF_SCREEN_PX:
                return True
    return False


def _zero_box(style: Mapping[str, str]) -> bool:
    if style.get("overflow", "").split()[:1] != ["hidden"]:
        return False
    for prop in ("height", "max-height", "width", "max-width"):
        size = _first_length(style.get(prop, ""))
        if size is not None and size <= 1:
            return True
    return False


def _rgba(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    for token in _tokens(value):  # "background: #fff url(...)": the first colour
        try:
            color = tinycss2.color3.parse_color(token)
        except Exception:
            color = None
        if color is not None and not isinstance(color, str):
            return (color.red, color.green, color.blue, color.alpha)
    return None


def _luminance(rgb: tuple[float, float, float, float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])


def _contrast(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


_WHITE = (1.0, 1.0, 1.0, 1.0)


def colour_reason(color: str | None, background: str | None) -> str | None:
    """Why text of ``color`` on ``background`` (None: a white page) cannot be read, or None."""
    text = _rgba(color)
    if text is None:
        return None
    if text[3] <= MIN_OPACITY:
        return "transparent text"
    back = _rgba(background) or _WHITE
    if back[3] <= MIN_OPACITY:
        back = _WHITE
    if _contrast(text, back) >= MIN_CONTRAST:
        return None
    if _luminance(text) > 0.9 and _luminance(back) > 0.9:
        return "white-on-white text"
    return "text colour equals background"


def hidden_reason(style: Mapping[str, str], background: str | None) -> str | None:
    """Why an element with these declarations hides its text (``display:none``, ...), or None when visible.

    ``background`` is the background colour in effect (the element's own or inherited); None is a white page.
    """
    if not style:
        return None
    if style.get("display", "").split()[:1] == ["none"]:
        return "display:none"
    if style.get("visibility", "").split()[:1] in (["hidden"], ["collapse"]):
        return "visibility:hidden"
    opacity = _opacity(style.get("opacity", ""))
    if opacity is not None and opacity <= MIN_OPACITY:
        return "opacity:0"
    if style.get("mso-hide", "").startswith("all"):
        return "mso-hide:all"
    font = _font_px(style)
    if font is not None and font < MIN_FONT_PX:
        return "zero or tiny font size"
    if _zero_box(style):
        return "zero-size box"
    if _clipped(style):
        return "clipped to nothing"
    if _scaled_to_zero(style.get("transform", "")):
        return "scaled to zero"
    if _off_screen(style):
        return "positioned off-screen"
    return colour_reason(style.get("color"), background)
