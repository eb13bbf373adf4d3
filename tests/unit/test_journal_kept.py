"""What the journal keeps of a result: all of it up to the limit, else a note."""

from __future__ import annotations

from flexorm.journal.kept import keep


def test_a_result_up_to_the_limit_is_kept_whole():
    kept = keep({"a": "é"}, 10)  # {"a":"é"}: 10 bytes, é being two
    assert (kept.result, kept.size, kept.note, kept.whole) == ({"a": "é"}, 10, None, True)
    assert kept.encoded == '{"a":"é"}'.encode()


def test_a_larger_result_is_not_kept_and_the_note_says_why():
    kept = keep(["x" * 2_000_000], 1_048_576)
    assert (kept.result, kept.size, kept.whole) == (None, 2_000_004, False)
    assert kept.note == ("result of 2,000,004 bytes not kept: larger than journal_result_limit "
                         "(1,048,576)")


def test_a_limit_of_0_keeps_nothing():
    assert keep(True, 0).note == "result of 4 bytes not kept: larger than journal_result_limit (0)"
