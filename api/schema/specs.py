"""OpenSLO and Sloth specs in the API (``service.specs``; the YAML is read and rendered in
``api.specs``).

Mutation: importSpecs(input: {documents, apply, reason}) -- documents (a name and the YAML
text each) planned against the current state; with ``apply: true`` appended as one all-or-nothing batch under the
caller's name and roles (a dry run otherwise, which appends nothing). New targets are
proposals by the caller. Errors name the document, the YAML document in it, the field
path and the line, and append nothing.
Query: specsExport -- OpenSLO v1 YAML of what is agreed (``includeDrafts``: and what is
under negotiation), as of a log position or time, with provenance annotations.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema.shared import AsOf, measured
from api.specs.openslo_export import render
from api.specs.reader import SpecErrors, read_texts
from domain.errors import InvalidInput
from service import audit
from service import specs as specs_service

MAX_DOCUMENTS = 200
MAX_DOCUMENT_CHARS = 1_000_000


@strawberry.input(description="One spec file: its name (used in errors) and its YAML text.")
class SpecDocumentInput:
    name: str
    text: str


@strawberry.input(description="importSpecs: the spec files, whether to append the plan, and why. The "
                              "import is one batch over many streams, so it takes no expectedVersion: a stream "
                              "that changed since the plan was made refuses it with CONFLICT.")
class ImportSpecsInput:
    documents: list[SpecDocumentInput] = strawberry.field(description=f"1 to {MAX_DOCUMENTS} spec files.")
    apply: bool = strawberry.field(default=False, description="Append the plan (default: a dry run that appends "
                                                              "nothing).")
    reason: str | None = strawberry.field(default=None, description="Why, recorded on the events (default: "
                                                                    f"{specs_service.REASON!r}).")


@strawberry.type(description="One line of an import plan.")
class SpecPlanStep:
    action: str = strawberry.field(description="CREATE, PROPOSE, CHANGE or UNCHANGED.")
    subject: str = strawberry.field(description='What it is about, e.g. "objective checkout-availability".')
    detail: str
    place: str | None = strawberry.field(default=None, description="Where the spec says it (file, document, path, line).")


@strawberry.type(description="An event the import appended (or, in a dry run, would append).")
class SpecEvent:
    position: int
    type: str
    stream_id: str


@strawberry.type(description="An import's plan, what was not carried, the checks' findings, and the events.")
class SpecImport:
    applied: bool = strawberry.field(description="False for a dry run: nothing was appended.")
    steps: list[SpecPlanStep]
    notes: list[str] = strawberry.field(description="What was read but has no place in slogov (yet).")
    findings: list[str] = strawberry.field(description="CEILING, RESOLUTION and UNKNOWN_SOURCE findings.")
    events: list[SpecEvent]


def _read(documents: list[SpecDocumentInput]):  # type: ignore[no-untyped-def]
    if not documents or len(documents) > MAX_DOCUMENTS:
        raise InvalidInput(f"documents: 1 to {MAX_DOCUMENTS} spec files", field="documents")
    for index, d in enumerate(documents):
        if len(d.text) > MAX_DOCUMENT_CHARS:
            raise InvalidInput(f"documents[{index}].text: at most {MAX_DOCUMENT_CHARS} characters",
                               field=f"documents[{index}].text")
    try:
        return read_texts([(d.name, d.text) for d in documents])
    except SpecErrors as e:
        raise InvalidInput(str(e), places=[str(x.where) for x in e.errors]) from None


@strawberry.type
class SpecsMutation:
    @strawberry.mutation(description="Import OpenSLO or Sloth spec files: a plan, and with apply: true, the "
                                     "plan appended as one all-or-nothing batch (new targets are proposals).")
    async def import_specs(self, info: Info, input: ImportSpecsInput) -> SpecImport:
        principal = current_principal(info)
        documents, apply = input.documents, input.apply
        specs = _read(documents)
        container = info.context["container"]
        source = ", ".join(d.name for d in documents[:5]) + (" ..." if len(documents) > 5 else "")
        result = await measured("importSpecs", lambda: specs_service.import_specs(
            container, specs, actor=principal.actor, roles=principal.roles, apply=apply, source=source,
            reason=input.reason))
        return SpecImport(
            applied=result.applied,
            steps=[SpecPlanStep(action=s.action, subject=s.subject, detail=s.detail,
                                place=str(s.where) if s.where else None) for s in result.plan.steps],
            notes=list(result.plan.notes),
            findings=[str(f) for f in result.findings],
            events=[SpecEvent(position=e.position, type=e.type, stream_id=e.stream_id)
                    for r in result.results for e in r.events],
        )


@strawberry.type
class SpecsQuery:
    @strawberry.field(description="OpenSLO v1 multi-document YAML of what is agreed (includeDrafts: objectives "
                                  "under negotiation too), deterministic, each document annotated with the log "
                                  "position and its chain hash, each SLO with its agreements and policy version.")
    async def specs_export(self, info: Info, as_of: AsOf | None = None, include_drafts: bool = False) -> str:
        current_principal(info)
        container = info.context["container"]
        position = None
        if as_of is not None:
            position = await audit.resolve_as_of(container, as_of.position, as_of.time)
        specs, provenance = await specs_service.export_specs(container, position, include_drafts=include_drafts)
        return render(specs, provenance)
