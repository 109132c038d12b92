"""The Ed25519 key that signs log checkpoints, kept in a file outside the database.

Whoever can write the database but not read this file cannot forge a checkpoint,
which is the point: the key must not live where the log lives. The file is a PKCS #8
PEM, readable by its owner only (0600). The public key is published as 64 hex digits
(the raw 32 bytes) and as PEM (for `openssl pkeyutl -verify`).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(Exception):
    """The key file is missing, unreadable, not an Ed25519 key, or open to others."""


def create_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """Write a new key to `path` (mode 0600); refuses to replace an existing file."""
    path = Path(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name, then linked into place: a concurrent
    # reader never sees half a key, and of two creators racing one wins.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".slogov-key-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.link(tmp, path)
    except FileExistsError:
        raise KeyFileError(f"{path} exists: not replacing a signing key") from None
    finally:
        os.unlink(tmp)
    return key


def load_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(f"{path} is open to other users (mode {stat.S_IMODE(mode):o}); chmod 600 it")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no signing key (create one with `slogov audit keygen`)") from None
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a usable key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return key


def load_or_create_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """The key at `path`, created on first use."""
    if not Path(path).exists():
        try:
            return create_key(path)
        except KeyFileError:
            pass  # another process created it first
    return load_key(path)


def public_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_pem(public_key_hex: str) -> str:
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def signature_valid(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        public.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
