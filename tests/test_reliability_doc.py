"""docs/reliability.md's fault matrix is the one the fault tests declare."""

from __future__ import annotations

import pytest

from tests.reliability import DOC, Fault, documented, fault, matrix, rows


def test_the_documented_fault_matrix_is_the_one_the_tests_declare() -> None:
    found = rows()
    assert found, "no test is marked as a row of the fault matrix"
    assert documented(DOC.read_text(encoding="utf-8")) == matrix(found), (
        "docs/reliability.md is out of date: run `python -m tests.reliability --write`"
    )


def test_every_row_says_what_the_user_sees_and_what_is_kept() -> None:
    for row in rows():
        assert row.fault and row.sees and row.kept, row.test
        assert "|" not in row.fault + row.sees + row.kept, row.test  # breaks the table


def test_a_row_in_an_unknown_area_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="unknown fault area"):
        fault("elsewhere", "x", sees="y", kept="z")


def test_the_matrix_groups_rows_by_area() -> None:
    table = matrix(
        [
            Fault("store", "corrupt file", "a sentence", "the file", "tests.a::t1"),
            Fault("process", "kill -9", "nothing lost", "everything", "tests.b::t2"),
        ]
    )
    assert table.index("kill -9") < table.index("corrupt file")
    assert "`b::t2`" in table
