"""A data source: where SLI queries are sent (name, kind, URL, headers).

Secrets are never stored: a header's value is named by the environment variable
that holds it (`{"Authorization": "PROM_AUTH"}`), read by the adapter when it
connects. A URL with credentials in it (`https://user:pw@...`, a query string) is
refused for the same reason. Pure: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from domain.commands import require_id
from domain.errors import InvalidInput

KINDS: tuple[str, ...] = ("prometheus",)
# scheme://host[:port][/path]; a userinfo part, query or fragment are caught before this.
URL = re.compile(r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?(?P<path>/[^\s?#]*)?")
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,99}")
MAX_HEADERS = 20


@dataclass(frozen=True, slots=True)
class DataSource:
    name: str
    kind: str
    url: str  # the base URL, without a trailing slash
    headers_from_env: tuple[tuple[str, str], ...] = field(default=())  # (header, env var), sorted

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "url": self.url, "headers_from_env": dict(self.headers_from_env)}


def parse_source(data: Any, field_name: str = "source") -> DataSource:
    if isinstance(data, DataSource):
        return data
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{field_name} must be an object", field=field_name)
    unknown = sorted(set(data) - {"name", "kind", "url", "headers_from_env"})
    if unknown:
        raise InvalidInput(f"{field_name}.{unknown[0]}: not a field of a data source", field=f"{field_name}.{unknown[0]}")
    name = require_id(data.get("name"), f"{field_name}.name")
    kind = data.get("kind")
    if kind not in KINDS:
        raise InvalidInput(f"{field_name}.kind must be one of {', '.join(KINDS)}, got {kind!r}", field=f"{field_name}.kind")
    return DataSource(name, kind, _url(data.get("url"), f"{field_name}.url"), _headers(data.get("headers_from_env"), f"{field_name}.headers_from_env"))


def _url(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        raise InvalidInput(f"{field_name}: an http(s) URL is required", field=field_name)
    authority = value.split("://", 1)[-1].split("/", 1)[0]
    if "@" in authority or "?" in value or "#" in value:
        raise InvalidInput(
            f"{field_name}: no credentials, query or fragment in the URL (secrets are never stored; "
            "name an environment variable in headers_from_env instead)",
            field=field_name,
        )
    m = URL.fullmatch(value)
    if m is None or (m.group("port") is not None and not 0 < int(m.group("port")) < 65536):
        raise InvalidInput(f"{field_name}: an http(s) URL with a host (and optional port and path), got {value!r}", field=field_name)
    return value.rstrip("/")


def _headers(value: Any, field_name: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping) or len(value) > MAX_HEADERS:
        raise InvalidInput(f"{field_name}: an object of header name -> environment variable (at most {MAX_HEADERS})", field=field_name)
    out = []
    for header, env in value.items():
        if not isinstance(header, str) or not HEADER_NAME.fullmatch(header):
            raise InvalidInput(f"{field_name}: {header!r} is not a header name", field=field_name)
        if not isinstance(env, str) or not ENV_NAME.fullmatch(env):
            raise InvalidInput(
                f"{field_name}.{header}: the name of an environment variable (A-Z, 0-9, _), not a value", field=f"{field_name}.{header}"
            )
        out.append((header, env))
    return tuple(sorted(out, key=lambda kv: kv[0].lower()))
