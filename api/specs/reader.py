"""Reading spec files: each document (or list item) goes to the reader its version names
(OpenSLO's `apiVersion`, the Sloth CRD's `apiVersion`, or a Sloth file's `version`), and
everything read lands in one SpecSet. All errors of the read are reported together,
each with its file, document, field path and line; a read with any error gives no SpecSet,
so an import built on it is all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from domain.budget.calendar import Duration

from . import openslo, sloth
from .builder import Builder
from domain.specs.model import SpecSet
from .yaml_source import Item, SpecError, SpecErrors, Where, documents

SUFFIXES = (".yaml", ".yml")


def read_texts(sources: Iterable[tuple[str, str]], *, sloth_period: Duration = sloth.DEFAULT_PERIOD) -> SpecSet:
    """`sources`: (file name, text) pairs."""
    builder = Builder()
    for file, text in sources:
        try:
            for item in documents(text, file):
                builder.read(item, lambda i, b: _read_one(i, b, sloth_period))
        except SpecError as e:  # not YAML: the file's remaining documents cannot be found
            builder.errors.append(e)
    return builder.build()


def read_paths(paths: Iterable[str | Path], **options: Duration) -> SpecSet:
    """Files, and directories searched for *.yaml and *.yml (recursively, in name order)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        else:
            files.append(path)
    return read_texts(((str(p), _text(p)) for p in files), **options)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecErrors([SpecError(Where(str(path), 0, "", 0), f"cannot be read: {e}")]) from None


def _read_one(item: Item, builder: Builder, sloth_period: Duration) -> None:
    if not item.is_mapping:
        raise item.error("expected an OpenSLO or Sloth object (a mapping)")
    fields = item.mapping()
    version = fields["apiVersion"].scalar() if "apiVersion" in fields else None
    if version in openslo.VERSIONS:
        openslo.read_object(item, builder)
    elif version == sloth.CRD:
        sloth.read_crd(item, builder, sloth_period)
    elif version is None and "version" in fields and fields["version"].scalar() == sloth.PLAIN:
        sloth.read_plain(item, builder, sloth_period)
    elif version is not None:
        raise fields["apiVersion"].error(
            f"unknown apiVersion {version!r} (one of {', '.join(openslo.VERSIONS)}, {sloth.CRD})")
    elif "version" in fields:
        raise fields["version"].error(f"unknown Sloth version {fields['version'].scalar()!r} (expected {sloth.PLAIN})")
    else:
        raise item.error("neither apiVersion (OpenSLO, Sloth CRD) nor version (Sloth) is given")


__all__ = ["SpecErrors", "read_paths", "read_texts"]
