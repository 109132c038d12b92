"""schema.graphql at the repo root must be the schema the code builds."""

from __future__ import annotations

from pathlib import Path

from api.schema.export import sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"

MUTATIONS = (
    "proposeJourney", "prioritizeJourney", "documentJourneyScope", "mapDependency", "removeDependency",
    "recordInstrumentationGap", "closeInstrumentationGap", "retireJourney", "draftObjective", "recordBaseline",
    "proposeTarget", "endorseProposal", "objectToProposal", "reviseProposal", "withdrawProposal",
    "deferNegotiation", "formalizeAgreement", "retireObjective",
)


def test_committed_schema_matches_the_code():
    assert SCHEMA_FILE.exists(), "schema.graphql is missing; run: python -m api.schema.export > schema.graphql"
    committed = SCHEMA_FILE.read_text()
    assert committed == sdl(), (
        "schema.graphql differs from the schema the code builds; regenerate it with "
        "`python -m api.schema.export > schema.graphql` and commit the result"
    )


def test_every_command_has_a_mutation_with_guards():
    text = sdl()
    for name in MUTATIONS:
        assert f"  {name}(input: {name[0].upper()}{name[1:]}Input!)" in text, name
    assert text.count("  expectedVersion: Int") >= len(MUTATIONS) or "input CommandGuards" in text
    for enum_value in ("TOO_STRICT", "VECTOR_STORE", "CALENDAR_QUARTER", "TIMESLICES", "LEADERSHIP"):
        assert enum_value in text
