"""The leadership report as JSON: the dataclass as plain data (times ISO 8601 with zone)."""

from __future__ import annotations

import json
from typing import Any

from domain import codec
from service.reports.model import LeadershipReport


def to_data(report: LeadershipReport) -> dict[str, Any]:
    data = codec.encode(report)
    for tier in data["tiers"]:
        for journey in tier["journeys"]:
            for objective in journey["objectives"]:
                objective["chart"] = [{"at": at, "remaining": remaining} for at, remaining in objective["chart"]]
    return data


def render_json(report: LeadershipReport) -> str:
    return json.dumps(to_data(report), indent=2, allow_nan=False) + "\n"
