"""Runbooks, part of an agreement: one URL per alert tier, linked from each generated alert.

An agreement names them by tier key (`domain.monitoring.tier_key`: `page_1h_5m`), for
the tiers it agrees to (its policy version's, or the workbook's). All or none: an
agreement either names a runbook for every tier or for none (the rules generated for
it then wait for one). A runbook URL is a link people click from a page at 3 a.m.:
http or https with a host, no whitespace or control characters, and no credentials,
neither `user:password@` nor a secret-looking query parameter (the URL is copied into
every rules file and alert).
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from domain.budget.burn import AlertTier
from domain.errors import InvalidInput
from domain.monitoring import tier_key

MAX_URL_LENGTH = 2000
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\s]")
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?(?:#.*)?")
_HOST = re.compile(r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")
_SECRET_PARAM = re.compile(r"(?:.*[_.-])?(?:token|secret|passw(?:or)?d|pwd|api_?key|access_?key|key|sig|signature|auth|credentials?)",
                           re.I)


def check_url(value: Any, field: str) -> str:
    """`value` if it is a runbook URL one may publish, else InvalidInput naming `field`."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field}: an http(s) URL is required", field=field)
    if len(value) > MAX_URL_LENGTH:
        raise InvalidInput(f"{field}: at most {MAX_URL_LENGTH} characters", field=field)
    bad = _UNSAFE.search(value)
    if bad is not None:
        raise InvalidInput(f"{field}: whitespace or a control character (U+{ord(bad.group()):04X} at index {bad.start()}) "
                           "has no place in a URL", field=field)
    url = _URL.fullmatch(value)
    if url is None or url["scheme"].lower() not in ("http", "https"):
        raise InvalidInput(f"{field}: an http or https URL is required", field=field)
    if "@" in url["authority"]:
        raise InvalidInput(f"{field}: a URL with credentials (user@ or user:password@) would publish them "
                           "in every rules file; link the runbook without them", field=field)
    host = _HOST.fullmatch(url["authority"])
    if host is None or (host["port"] is not None and not 0 < int(host["port"]) < 65536):
        raise InvalidInput(f"{field}: the URL needs a host name (and an optional port), got {url['authority']!r}",
                           field=field)
    for pair in (url["query"] or "").split("&"):
        name = pair.split("=", 1)[0]
        if _SECRET_PARAM.fullmatch(name):
            raise InvalidInput(f"{field}: the query parameter {name!r} looks like a credential; "
                               "link the runbook without it", field=field)
    return value


def parse_runbooks(value: Mapping[str, Any] | None, tiers: Sequence[AlertTier], field: str = "runbooks") -> dict[str, str]:
    """{tier key: URL} for every tier, or {} when none is named; sorted by the tiers' order."""
    if value is None or (isinstance(value, Mapping) and not value):
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field}: a runbook URL per alert tier, by tier key", field=field)
    keys = [tier_key(t) for t in tiers]
    for key in value:
        if key not in keys:
            raise InvalidInput(f"{field}: {key!r} is not one of the agreement's alert tiers ({', '.join(keys)})",
                               field=f"{field}.{key}" if isinstance(key, str) else field)
    missing = [k for k in keys if k not in value]
    if missing:
        raise InvalidInput(f"{field}: a runbook for every alert tier, or none; missing {', '.join(missing)}",
                           field=f"{field}.{missing[0]}")
    return {k: check_url(value[k], f"{field}.{k}") for k in keys}
