"""Files the CLI writes (`-o`/`--output`, `--html`): whole or not at all.

A rules file Prometheus reloads, a snippet a deploy copies or an audit export an auditor
keeps must never be found half written. So the text goes to a temporary file beside the
target (the same directory, hence the same file system), is flushed to disk, and only then
renamed over the target with `os.replace`, which is atomic: a reader sees the old file or
the new one. A failure before that (an error while generating or writing, an interrupt)
removes the temporary file and leaves any previous file untouched.
"""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import contextmanager
from typing import Iterator, Optional, TextIO


@contextmanager
def atomic_output(path: "str | os.PathLike[str]", newline: Optional[str] = None) -> Iterator[TextIO]:
    """A text handle whose content replaces `path` when the block ends without an exception."""
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        # A device or a pipe (`-o /dev/stdout`, a FIFO): there is no file to replace, and a
        # temporary one beside it would land in /dev. Write through, as before.
        with open(path, "w", encoding="utf-8", newline=newline) as out:
            yield out
        return
    # Through a symlink to the file it names, as open(path, "w") would write, rather than
    # replacing the link itself with a plain file.
    target = os.path.realpath(path)
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    # 0o666 less the umask: the mode open(path, "w") gives a new file (mkstemp's would be 0600).
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:  # name the file asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, os.fspath(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())  # the bytes are on disk before the name points at them
        if mode is not None:  # an existing file keeps its mode, as it would when rewritten in place
            os.chmod(temporary, stat.S_IMODE(mode))
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def write_text(path: "str | os.PathLike[str]", text: str) -> None:
    """Replace `path` with `text` (UTF-8) atomically."""
    with atomic_output(path) as out:
        out.write(text)
