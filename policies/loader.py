"""Policies kept as readable YAML files (this package ships `default.yaml`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from domain.errors import InvalidInput
from domain.policy import BUILTIN_POLICY_ID
from policies.language import Policy, parse_policy

POLICY_DIR = Path(__file__).resolve().parent
DEFAULT_POLICY_ID = BUILTIN_POLICY_ID  # the bundled policy (domain/policy.py: its version 0)


def parse_yaml(text: str) -> Policy:
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"the policy is not valid YAML: {exc}", field="policy") from None
    return parse_policy(document)


def load_file(path: str | Path) -> Policy:
    return parse_yaml(Path(path).read_text(encoding="utf-8"))


def load_dir(directory: str | Path = POLICY_DIR) -> dict[str, Policy]:
    """Every `*.yaml` policy in a directory, by id."""
    out: dict[str, Policy] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        policy = load_file(path)
        out[policy.id] = policy
    return out


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The bundled workbook policy (version 0 until a version is adopted in the log)."""
    return load_file(POLICY_DIR / "default.yaml")
