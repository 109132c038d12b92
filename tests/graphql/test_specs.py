"""importSpecs and specsExport over HTTP: a dry run, the import under the caller's name,
errors with the spec's place and nothing appended, the export at a position."""

from __future__ import annotations

from tests.specs.support import FIXTURES

IMPORT = """mutation($input: ImportSpecsInput!) {
  importSpecs(input: $input) { applied steps { action subject place } notes findings
    events { position type streamId } } }"""
EXPORT = "query($asOf: AsOf, $drafts: Boolean!) { specsExport(asOf: $asOf, includeDrafts: $drafts) }"


async def test_import_dry_run_apply_errors_and_export(api):
    documents = [{"name": "myservice.yaml", "text": (FIXTURES / "sloth/myservice.yaml").read_text()}]
    before = await api.head()
    dry = (await api.ok(IMPORT, {"input": {"documents": documents}}, role="admin"))["importSpecs"]
    assert not dry["applied"] and await api.head() == before and dry["events"]
    assert dry["steps"][1] == {"action": "CREATE", "subject": "objective myservice-requests-availability",
                               "place": "myservice.yaml: document 1, slos[0].objective (line 9)"}
    done = (await api.ok(IMPORT, {"input": {"documents": documents, "apply": True, "reason": "adopting Sloth"}},
                         role="admin"))["importSpecs"]
    assert done["applied"] and await api.head() == before + len(done["events"])
    appended = await api.container.store.read_all(before)
    assert {(e.metadata["actor"], e.metadata["reason"]) for e in appended} == {("admin-person", "adopting Sloth")}

    broken = [{"name": "bad.yaml", "text": "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec: {}\n"}]
    body = await api.post(IMPORT, {"input": {"documents": broken, "apply": True}}, role="admin")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"].startswith("bad.yaml: document 1, spec.")
    assert await api.head() == before + len(done["events"])

    drafts = (await api.ok(EXPORT, {"drafts": True}, role="auditor"))["specsExport"]
    assert "name: myservice-requests-latency" in drafts and "target: 0.99\n" in drafts
    assert (await api.ok(EXPORT, {"drafts": False}, role="auditor"))["specsExport"] == ""
    empty = (await api.ok(EXPORT, {"drafts": True, "asOf": {"position": before}}, role="auditor"))["specsExport"]
    assert empty == ""
