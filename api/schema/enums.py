"""GraphQL enums. Names are UPPER_SNAKE; values are what the domain stores,
so converting an input is ``member.value`` and an output is ``Enum(domain_value)``."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Where a journey is in its life.")
class JourneyStatus(Enum):
    PROPOSED = "PROPOSED"
    PRIORITIZED = "PRIORITIZED"
    RETIRED = "RETIRED"


@strawberry.enum(description="DRAFT -> NEGOTIATING -> AGREED (informational) -> ACTIVE (formalized) -> RETIRED.")
class ObjectiveStatus(Enum):
    DRAFT = "DRAFT"
    NEGOTIATING = "NEGOTIATING"
    AGREED = "AGREED"
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


@strawberry.enum
class ProposalStatus(Enum):
    OPEN = "OPEN"
    AGREED = "AGREED"
    WITHDRAWN = "WITHDRAWN"
    DEFERRED = "DEFERRED"
    SUPERSEDED = "SUPERSEDED"


@strawberry.enum
class Stance(Enum):
    ENDORSED = "ENDORSED"
    OBJECTED = "OBJECTED"


@strawberry.enum(description="The four parties of a target negotiation.")
class Party(Enum):
    PRODUCT = "product"
    SRE = "sre"
    ENGINEERING = "engineering"
    LEADERSHIP = "leadership"


@strawberry.enum
class ObjectionKind(Enum):
    TOO_STRICT = "too_strict"
    TOO_LOOSE = "too_loose"
    OTHER = "other"


@strawberry.enum(description="What an SLI measures.")
class SliKind(Enum):
    AVAILABILITY = "availability"
    LATENCY = "latency"
    QUALITY = "quality"
    FRESHNESS = "freshness"


@strawberry.enum(description="ROLLING: days or a duration; CALENDAR: a period (duration) from a local start in a "
                             "time zone; CALENDAR_MONTH, CALENDAR_QUARTER: UTC, from the 1st.")
class WindowKind(Enum):
    ROLLING = "rolling"
    CALENDAR = "calendar"
    CALENDAR_MONTH = "calendar_month"
    CALENDAR_QUARTER = "calendar_quarter"


@strawberry.enum
class BudgetingMethod(Enum):
    OCCURRENCES = "occurrences"
    TIMESLICES = "timeslices"
    RATIO_TIMESLICES = "ratio_timeslices"


@strawberry.enum
class DependencyKind(Enum):
    SERVICE = "service"
    DATABASE = "database"
    VECTOR_STORE = "vector_store"
    INFERENCE_ENDPOINT = "inference_endpoint"
    AUTH = "auth"
    EXTERNAL_API = "external_api"


@strawberry.enum(description="How urgent a burn-rate alert tier is.")
class AlertSeverity(Enum):
    PAGE = "page"
    TICKET = "ticket"


@strawberry.enum(description="EXCLUDE an interval from the budget (counts as neither good nor bad), or RESTORE an exclusion.")
class BudgetAction(Enum):
    EXCLUDE = "EXCLUDE"
    RESTORE = "RESTORE"


@strawberry.enum(description="Token roles. auditor is read only; ci evaluates deploys.")
class Role(Enum):
    PRODUCT = "product"
    SRE = "sre"
    ENGINEERING = "engineering"
    LEADERSHIP = "leadership"
    AUDITOR = "auditor"
    CI = "ci"
    ADMIN = "admin"


def value_of(member: Enum | None) -> str | None:
    """A GraphQL enum input as the domain's string (None stays None)."""
    return None if member is None else member.value


def optional(enum_type: type[Enum], value: str | None) -> Enum | None:
    return None if value is None else enum_type(value)
