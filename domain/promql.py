"""A small PromQL check, and the one PromQL form slogov reads counts from.

`check(text, field)` is a syntax check, not a full parser: brackets nest and close,
label matchers are `name op "string"`, every `name(` is a function or aggregation
Prometheus knows, a range or subquery in `[...]` is a valid duration, a bare `{...}`
selector has a matcher that does not match the empty string. What it cannot judge
(operator placement, types) the source's own `/api/v1/query` can, at definition time.

`parse_counters(text, field)` reads the form a count is taken from: one or more
counter selectors joined by `or` (`a_total{code!~"5.."} or b_total`), meaning the
union of their series (a series two of them select counts once; unlike PromQL's own
`or`, a series of b is kept when its labels but the name equal one of a's). Anything
else -- `rate(...)`, `sum(...)`, arithmetic -- is refused, because slogov takes the
per-minute deltas of each counter series itself (resets handled series by series);
a sum of raw counters would turn one instance's restart into a reset of the sum.

Errors are `InvalidInput` naming the field and the column (1-based) of the fault.
Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.errors import InvalidInput

FUNCTIONS: frozenset[str] = frozenset(
    """abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil
    changes clamp clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week
    day_of_year days_in_month deg delta deriv exp floor histogram_count histogram_fraction
    histogram_quantile histogram_sum holt_winters hour idelta increase irate label_join
    label_replace last_over_time ln log10 log2 mad_over_time max_over_time min_over_time
    minute month pi predict_linear present_over_time quantile_over_time rad rate resets
    round scalar sgn sin sinh sort sort_desc sqrt stddev_over_time stdvar_over_time
    sum_over_time tan tanh time timestamp vector year
    start end""".split()  # start() and end() follow an @ modifier
)
AGGREGATIONS: frozenset[str] = frozenset(
    "sum avg min max count group stddev stdvar topk bottomk quantile count_values".split()
)
# Words before a "(" that open a label list or an operand, not a call.
KEYWORDS: frozenset[str] = frozenset(
    "by without on ignoring group_left group_right offset bool and or unless".split()
)

LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
METRIC_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
DURATION = re.compile(r"(?:[0-9]+(?:ms|[smhdwy]))+")
_DURATION_PART = re.compile(r"([0-9]+)(ms|[smhdwy])")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "y": 31_536_000_000}
_UNIT_ORDER = ("y", "w", "d", "h", "m", "s", "ms")
MATCH_OPS = ("=~", "!~", "!=", "=")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:[0-9]+(?:ms|[smhdwy]))+(?![A-Za-z0-9_.]))
  | (?P<number>0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=,@:])
  | (?P<open>[({\[])
  | (?P<close>[)}\]])
    """,
    re.VERBOSE,
)
_PAIRS = {"(": ")", "{": "}", "[": "]"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string | duration | number | ident | op | open | close
    text: str
    col: int  # 1-based


@dataclass(frozen=True, slots=True)
class Matcher:
    label: str
    op: str  # = != =~ !~
    value: str  # unquoted

    def promql(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True, slots=True)
class Selector:
    """An instant-vector selector: `metric{matchers}`; `metric` may be None ({__name__=~...})."""

    metric: str | None
    matchers: tuple[Matcher, ...] = ()
    # Remembered: a collection round hashes every selector several times (its batch's
    # grouping, the union text's cache), and a frozen dataclass's hash is recomputed,
    # through each matcher's, every time.
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.metric, self.matchers)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple:
        # Rebuilt from its fields, so the hash is this process's (text hashes differ by process).
        return (Selector, (self.metric, self.matchers))

    def promql(self, extra: tuple[Matcher, ...] = ()) -> str:
        matchers = self.matchers + extra
        inner = "{" + ",".join(m.promql() for m in matchers) + "}" if matchers or not self.metric else ""
        return (self.metric or "") + inner


def quote(value: str) -> str:
    """A PromQL double-quoted string (Go escapes for backslash, quote and newline)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _fail(field: str, col: int, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: column {col}: {message}", field=field, column=col)


def tokenize(text: str, field: str) -> list[Token]:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{field}: a PromQL expression is required", field=field)
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _fail(field, pos + 1, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind not in ("space", "comment"):
            out.append(Token(kind, m.group(), pos + 1))
        pos = m.end()
    return out


def unquote(token: Token, field: str) -> str:
    body = token.text[1:-1]
    if token.text[0] == "`":
        return body
    out, i = [], 0
    escapes = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt not in escapes:
                raise _fail(field, token.col + i + 1, f"unknown escape \\{nxt} in a string")
            out.append(escapes[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def duration_ms(text: str, field: str, col: int = 1) -> int:
    """Milliseconds of a Prometheus duration (`5m`, `1h30m`); units in decreasing order, > 0."""
    if not DURATION.fullmatch(text):
        raise _fail(field, col, f"{text!r} is not a duration (like 5m, 1h30m, 1d)")
    total, last = 0, -1
    for amount, unit in _DURATION_PART.findall(text):
        rank = _UNIT_ORDER.index(unit)
        if rank <= last:
            raise _fail(field, col, f"duration {text!r}: units must go from largest to smallest, once each")
        last = rank
        total += int(amount) * _UNIT_MS[unit]
    if total <= 0:
        raise _fail(field, col, f"duration {text!r} must be longer than zero")
    return total


def duration_text(ms: int) -> str:
    """The canonical Prometheus spelling of a duration in milliseconds (90 min -> 1h30m)."""
    parts = []
    for unit in _UNIT_ORDER:
        n, ms = divmod(ms, _UNIT_MS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts) or "0s"


# --- the syntax check ----------------------------------------------------------


def check(text: str, field: str) -> list[Token]:
    """Raise `InvalidInput` for the faults described in the module doc; return the tokens."""
    tokens = tokenize(text, field)
    stack: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "open":
            if tok.text == "{":
                i = _check_matchers(tokens, i, field, named=_follows_metric(tokens, i))
                continue
            if tok.text == "[":
                i = _check_range(tokens, i, field)
                continue
            stack.append(tok)
        elif tok.kind == "close":
            if not stack:
                raise _fail(field, tok.col, f"unexpected {tok.text!r}: nothing is open")
            opened = stack.pop()
            if _PAIRS[opened.text] != tok.text:
                raise _fail(field, tok.col, f"{tok.text!r} closes the {opened.text!r} at column {opened.col}")
        elif tok.kind == "ident" and tok.text not in KEYWORDS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.text == "(" and tok.text not in FUNCTIONS and tok.text not in AGGREGATIONS:
                raise _fail(field, tok.col, f"unknown function {tok.text!r}")
        i += 1
    if stack:
        opened = stack[-1]
        raise _fail(field, opened.col, f"{opened.text!r} is never closed")
    return tokens


def _follows_metric(tokens: list[Token], i: int) -> bool:
    return i > 0 and tokens[i - 1].kind == "ident" and tokens[i - 1].text not in KEYWORDS


def _check_matchers(tokens: list[Token], i: int, field: str, *, named: bool) -> int:
    """Check `{ label op "value", ... }` starting at tokens[i] == "{"; return the index after "}"."""
    opened = tokens[i]
    i += 1
    matchers: list[Matcher] = []
    while True:
        if i >= len(tokens):
            raise _fail(field, opened.col, "'{' is never closed")
        tok = tokens[i]
        if tok.text == "}":
            break
        if tok.kind != "ident" or not LABEL_NAME.fullmatch(tok.text):
            raise _fail(field, tok.col, f"expected a label name in the matchers, got {tok.text!r}")
        if i + 2 >= len(tokens):
            raise _fail(field, opened.col, "'{' is never closed")
        op, value = tokens[i + 1], tokens[i + 2]
        if op.text not in MATCH_OPS:
            raise _fail(field, op.col, f"expected one of = != =~ !~ after label {tok.text!r}, got {op.text!r}")
        if value.kind != "string":
            raise _fail(field, value.col, f"label {tok.text!r} must be matched against a quoted string, got {value.text!r}")
        text = unquote(value, field)
        if op.text in ("=~", "!~"):
            try:
                re.compile(text)
            except re.error as exc:
                raise _fail(field, value.col, f"invalid regular expression for {tok.text!r}: {exc}") from None
        matchers.append(Matcher(tok.text, op.text, text))
        i += 3
        if i < len(tokens) and tokens[i].text == ",":
            i += 1
        elif i < len(tokens) and tokens[i].text != "}":
            raise _fail(field, tokens[i].col, f"expected ',' or '}}' after a matcher, got {tokens[i].text!r}")
    if not named and not any(_matches_nonempty(m) for m in matchers):
        raise _fail(field, opened.col, "a selector without a metric name needs a matcher that does not match the empty string")
    return i + 1


def _matches_nonempty(m: Matcher) -> bool:
    if m.op == "=":
        return m.value != ""
    if m.op == "=~":
        return re.fullmatch(m.value, "") is None
    if m.op == "!=":
        return m.value == ""
    return re.fullmatch(m.value, "") is not None  # !~ excluding the empty string


def _check_range(tokens: list[Token], i: int, field: str) -> int:
    """`[5m]` or a subquery `[1h:5m]` / `[1h:]` at tokens[i] == "["; return the index after "]"."""
    opened = tokens[i]
    j = i + 1
    if j >= len(tokens) or tokens[j].kind not in ("duration", "number"):
        raise _fail(field, opened.col, "a range needs a duration, like [5m]")
    duration_ms(tokens[j].text, field, tokens[j].col)
    j += 1
    if j < len(tokens) and tokens[j].text == ":":
        j += 1
        if j < len(tokens) and tokens[j].kind in ("duration", "number"):
            duration_ms(tokens[j].text, field, tokens[j].col)
            j += 1
    if j >= len(tokens) or tokens[j].text != "]":
        col = tokens[j].col if j < len(tokens) else opened.col
        raise _fail(field, col, "expected ']' to close the range")
    return j + 1


# --- counters: selectors joined by `or` ------------------------------------------


def parse_selector(tokens: list[Token], i: int, field: str) -> tuple[Selector, int]:
    metric = None
    if i < len(tokens) and tokens[i].kind == "ident":
        tok = tokens[i]
        if tok.text in KEYWORDS or tok.text in AGGREGATIONS or (i + 1 < len(tokens) and tokens[i + 1].text == "("):
            raise _fail(field, tok.col, f"expected a counter selector, got {tok.text!r} (give the counter itself; slogov takes its per-minute deltas)")
        if not METRIC_NAME.fullmatch(tok.text):
            raise _fail(field, tok.col, f"{tok.text!r} is not a metric name")
        metric = tok.text
        i += 1
    matchers: tuple[Matcher, ...] = ()
    if i < len(tokens) and tokens[i].text == "{":
        start = i
        i = _check_matchers(tokens, i, field, named=metric is not None)
        matchers = _matchers_between(tokens, start, i, field)
    if metric is None and not matchers:
        col = tokens[i].col if i < len(tokens) else (tokens[-1].col if tokens else 1)
        got = tokens[i].text if i < len(tokens) else "the end"
        raise _fail(field, col, f"expected a counter selector, got {got!r}")
    return Selector(metric, matchers), i


def _matchers_between(tokens: list[Token], start: int, end: int, field: str) -> tuple[Matcher, ...]:
    out = []
    k = start + 1
    while k < end - 1:
        out.append(Matcher(tokens[k].text, tokens[k + 1].text, unquote(tokens[k + 2], field)))
        k += 3
        if tokens[k].text == ",":
            k += 1
    return tuple(out)


def parse_counters(text: str, field: str) -> tuple[Selector, ...]:
    """`sel or sel or ...` -> the selectors; anything else is refused (see the module doc)."""
    tokens = check(text, field)
    selectors = []
    i = 0
    while True:
        sel, i = parse_selector(tokens, i, field)
        if i < len(tokens) and tokens[i].text == "[":
            raise _fail(field, tokens[i].col, "give the counter without a range; slogov takes its per-minute deltas itself")
        selectors.append(sel)
        if i == len(tokens):
            return tuple(selectors)
        if tokens[i].text != "or":
            raise _fail(
                field, tokens[i].col,
                f"unexpected {tokens[i].text!r}: a count is read from counter selectors joined by 'or' "
                "(no functions, aggregations or arithmetic: resets are handled per series)",
            )
        i += 1


def counters_promql(selectors: tuple[Selector, ...], extra: tuple[Matcher, ...] = ()) -> str:
    return " or ".join(s.promql(extra) for s in selectors)
