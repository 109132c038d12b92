"""Random (version 4) UUIDs for event, command, correlation and request ids.

`uuid.uuid4()` asks the kernel for 16 random bytes on every call; a recorded deploy
decision takes four ids, and on a sandboxed host that system call was 4% of the
server's CPU per decision. These are the same UUIDs (as random, from the same
source), drawn from a buffer refilled 4 KiB at a time.
"""

from __future__ import annotations

import os
import threading

_REFILL = 4096
_lock = threading.Lock()
_buffer = b""
_offset = _REFILL


def new_id() -> str:
    """A random UUID (RFC 4122 version 4) as its canonical 36-character string."""
    global _buffer, _offset
    with _lock:
        if _offset >= len(_buffer):
            _buffer, _offset = os.urandom(_REFILL), 0
        raw = bytearray(_buffer[_offset:_offset + 16])
        _offset += 16
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
