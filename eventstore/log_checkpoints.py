"""Signed checkpoints: (position, head hash, time) signed with the key kept outside the
database (eventstore/signing_key.py), and the proof that a log still extends them.

A checkpoint is one JSON line (docs/audit-checkpoints.md):

    {"at":"2026-12-04T15:40:00.123456+00:00","head_hash":"<64 hex>","position":1234,
     "public_key":"<64 hex>","signature":"<128 hex>"}

The signature is Ed25519 over the UTF-8 bytes of the canonical JSON (eventstore/codec.py)
of the other four keys. The signer signs a head only after recomputing the chain to it
from the newest checkpoint of its own that the database holds, so the key never vouches
for a chain it has not recomputed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from eventstore.codec import GENESIS_HASH, canonical, iso
from eventstore.engine import Engines
from eventstore.signing_key import public_hex, signature_valid
from eventstore.tables import log_checkpoints
from eventstore.verify import ChainReport, verify_chain

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")


@dataclass(frozen=True)
class Checkpoint:
    position: int
    head_hash: str
    at: str  # as signed: ISO 8601 in UTC with microseconds
    public_key: str
    signature: str

    @property
    def message(self) -> bytes:
        return canonical({"at": self.at, "head_hash": self.head_hash, "position": self.position,
                          "public_key": self.public_key}).encode("utf-8")

    @property
    def line(self) -> str:
        return canonical(asdict(self))

    def signed_by(self, public_key: str) -> bool:
        return self.public_key == public_key and signature_valid(public_key, self.signature, self.message)


class NotSigned(Exception):
    """The signer found that the log does not extend its previous checkpoint."""


def sign(key: Ed25519PrivateKey, position: int, head_hash: str, at: datetime) -> Checkpoint:
    unsigned = Checkpoint(position, head_hash, iso(at), public_hex(key), "")
    return Checkpoint(**{**asdict(unsigned), "signature": key.sign(unsigned.message).hex()})


def parse(line: str) -> Checkpoint:
    """A checkpoint from its JSON line; ValueError saying what is wrong with it."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    fields = ("at", "head_hash", "position", "public_key", "signature")
    if not isinstance(value, dict) or sorted(value) != list(fields):
        raise ValueError(f"a checkpoint has exactly the keys {', '.join(fields)}")
    c = Checkpoint(**value)
    if type(c.position) is not int or c.position < 1:
        raise ValueError("position must be a whole number from 1")
    if not all(isinstance(v, str) for v in (c.at, c.head_hash, c.public_key, c.signature)):
        raise ValueError("at, head_hash, public_key and signature are strings")
    if not (_HEX64.match(c.head_hash) and _HEX64.match(c.public_key) and _HEX128.match(c.signature)):
        raise ValueError("head_hash and public_key are 64 lowercase hex digits, signature 128")
    return c


# --- the published copy -----------------------------------------------------------


def _row(row) -> Checkpoint:
    return Checkpoint(row.position, row.head_hash, row.at, row.public_key, row.signature)


async def record(engines: Engines, c: Checkpoint) -> Checkpoint:
    """Store `c` unless a checkpoint at its position is stored already; the stored one."""
    dialect = postgresql if engines.write.dialect.name == "postgresql" else sqlite
    async with engines.write.begin() as conn:
        await conn.execute(dialect.insert(log_checkpoints).values(**asdict(c)).on_conflict_do_nothing())
        row = (await conn.execute(select(log_checkpoints).where(log_checkpoints.c.position == c.position))).one()
    return _row(row)


async def published(engines: Engines, after: int = 0, limit: int | None = None) -> list[Checkpoint]:
    """Stored checkpoints after position `after`, oldest first."""
    query = select(log_checkpoints).where(log_checkpoints.c.position > after).order_by(log_checkpoints.c.position)
    async with engines.read.connect() as conn:
        rows = (await conn.execute(query if limit is None else query.limit(limit))).all()
    return [_row(r) for r in rows]


async def published_count(engines: Engines) -> int:
    async with engines.read.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(log_checkpoints)))


async def latest_signed_by(engines: Engines, public_key: str) -> Checkpoint | None:
    """The newest stored checkpoint whose signature this key made (a row without one is skipped)."""
    query = (select(log_checkpoints).where(log_checkpoints.c.public_key == public_key)
             .order_by(log_checkpoints.c.position.desc()).limit(100))
    async with engines.read.connect() as conn:
        for row in (await conn.execute(query)).all():
            c = _row(row)
            if c.signed_by(public_key):
                return c
    return None


async def sign_head(engines: Engines, key: Ed25519PrivateKey, at: datetime) -> Checkpoint | None:
    """Check the chain from the newest checkpoint this key signed to the head, then sign
    the head (or return that checkpoint when the head has not moved; None: empty log)."""
    previous = await latest_signed_by(engines, public_hex(key))
    start = (previous.position, previous.head_hash) if previous else (0, GENESIS_HASH)
    chain = await verify_chain(engines, start=start)
    if not chain.ok:
        raise NotSigned(f"the log does not extend the checkpoint at position {start[0]}: {chain.problem}")
    if chain.head_position == 0:
        return None
    if previous is not None and previous.position == chain.head_position:
        return previous
    return await record(engines, sign(key, chain.head_position, chain.head_hash, at))


# --- the proof --------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    position: int
    at: str
    problem: str | None  # None: the log still extends this checkpoint


def judge(checkpoints: Iterable[Checkpoint], public_key: str, chain: ChainReport) -> list[Finding]:
    """Each checkpoint against a chain walked from the genesis keeping the hashes at their positions.

    A rewrite is bounded by the checkpoints around it: it lies after the last one that
    holds and at or before the first that does not.
    """
    findings: list[Finding] = []
    holds_through = 0
    for c in sorted(checkpoints, key=lambda c: c.position):
        p = c.position
        if c.public_key != public_key:
            problem = f"position {p}: forged: signed by key {c.public_key}, not the published {public_key}"
        elif not c.signed_by(public_key):
            problem = f"position {p}: forged: the signature does not match the checkpoint"
        elif p <= chain.verified_through:
            found = chain.hashes_at.get(p)
            if found == c.head_hash:
                holds_through = p
                problem = None
            else:
                problem = (f"position {p}: rewritten or reordered: the chain hash there is {found}, the checkpoint "
                           f"signed at {c.at} says {c.head_hash}; events after position {holds_through} and at or "
                           f"before {p} were changed, reordered, inserted or removed since")
        elif chain.reached_end:
            problem = (f"position {p}: truncated: the log ends at position {chain.verified_through}, before the "
                       f"checkpoint signed at {c.at}; events were removed from its end")
        else:
            problem = (f"position {p}: not verified: the chain breaks at position {chain.first_broken_position}, "
                       "before it")
        findings.append(Finding(p, c.at, problem))
    return findings


async def verify_against(
    engines: Engines, checkpoints: list[Checkpoint], public_key: str
) -> tuple[ChainReport, list[Finding]]:
    chain = await verify_chain(engines, keep={c.position for c in checkpoints})
    return chain, judge(checkpoints, public_key, chain)
