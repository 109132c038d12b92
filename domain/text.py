"""What text the log accepts: no control characters but tab and newline, no lone surrogates.

One rule for every string a caller sends (names, ids, reasons, idempotency keys,
filters, policy documents, gate fields), on SQLite and PostgreSQL alike: PostgreSQL
cannot store U+0000 in text at all, SQLite would keep it, and the other C0/C1
controls (a carriage return, an escape sequence) and unpaired UTF-16 surrogates
(which no UTF-8 encoder writes) only ever arrive by mistake or on purpose to break
a log line, a terminal or a database. The API applies it at its edge; the domain's
text helpers and the event store apply it again behind that.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from domain.errors import InvalidInput

ALLOWED_CONTROLS = "tab and newline"
# C0 controls but tab (U+0009) and newline (U+000A), DEL and the C1 controls, and the
# surrogate code points (a Python str holds one only when it came unpaired).
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def forbidden_char(text: str) -> tuple[int, str] | None:
    """(index, character) of the first character the rule refuses, or None."""
    found = _FORBIDDEN.search(text)
    return None if found is None else (found.start(), found.group())


def problem(text: str) -> str | None:
    """Why `text` is refused (naming the character, never echoing it), or None."""
    found = forbidden_char(text)
    if found is None:
        return None
    index, char = found
    kind = "a lone surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "a control character"
    return f"contains {kind} (U+{ord(char):04X} at index {index}); only {ALLOWED_CONTROLS} are allowed"


def check_text(value: str, field: str) -> str:
    """`value`, or InvalidInput naming `field` when the rule refuses it."""
    why = problem(value)
    if why is not None:
        raise InvalidInput(f"{field} {why}", field=field)
    return value


def strings_in(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, string) for every string in plain JSON data, keys included (a key comes
    before its value): `input.steps[2]`, `input.sli.description`."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):  # named by its parent: a refused key is not echoed
                yield f"a key of {path}" if path else "a key", key
            yield from strings_in(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            yield from strings_in(item, f"{path}[{n}]")


def check_texts(value: Any, path: str = "") -> None:
    """Refuse the first string in `value` (plain JSON data) the rule refuses, naming its path."""
    for where, text in strings_in(value, path):
        check_text(text, where)
