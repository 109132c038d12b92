"""YAML read with places: documents, list items, field paths and lines."""

from __future__ import annotations

import pytest

from api.specs.yaml_source import SpecError, documents

TEXT = """\
a: 1
---
- x: 1
- x: 2
  y:
    - z: [1, 2]
---
---
b: 2
"""


def test_documents_and_list_items_are_numbered_as_editors_show_them() -> None:
    items = list(documents(TEXT, "f.yaml"))
    assert [(i.document, i.path, i.where.line) for i in items] == [
        (1, "", 1), (2, "[0]", 3), (2, "[1]", 4), (4, "", 9)]  # document 3 is empty
    y = items[2].mapping()["y"].sequence()[0].mapping()["z"].sequence()[1]
    assert (y.path, y.where.line, y.scalar()) == ("[1].y[0].z[1]", 6, 2)
    assert str(y.error("bad")) == "f.yaml: document 2, [1].y[0].z[1] (line 6): bad"


def test_a_duplicate_key_is_an_error_at_the_second_one() -> None:
    (item,) = documents("a: 1\nb:\n  c: 1\n  c: 2\n", "f.yaml")
    with pytest.raises(SpecError) as caught:
        item.plain()
    assert (caught.value.where.path, caught.value.where.line) == ("b.c", 4)


def test_broken_yaml_names_its_document_and_line() -> None:
    with pytest.raises(SpecError) as caught:
        list(documents("a: 1\n---\nb: [1,\n", "f.yaml"))
    assert caught.value.where.document == 2
    assert caught.value.where.line == 4
    assert "not valid YAML" in caught.value.message


def test_scalars_keep_their_yaml_types() -> None:
    (item,) = documents("n: 0.999\nb: true\ns: '0.999'\n", "f.yaml")
    m = item.mapping()
    assert (m["n"].number(), m["b"].boolean(), m["s"].text()) == (0.999, True, "0.999")
    with pytest.raises(SpecError, match="expected a number"):
        m["s"].number()
