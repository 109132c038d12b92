from __future__ import annotations

from pathlib import Path

from domain.specs.model import SpecSet
from api.specs.reader import read_paths, read_texts

FIXTURES = Path(__file__).parent / "fixtures"


def read(*names: str) -> SpecSet:
    return read_paths([FIXTURES / name for name in names])


def read_text(text: str, file: str = "inline.yaml") -> SpecSet:
    return read_texts([(file, text)])
