"""The pieces of a dry run that need no database: preview tokens, the preview parameter, the
declaration's options, the text answer."""

from __future__ import annotations

import base64

import pytest

from flexorm.actions._dry_run import previewing, split_preview, summary
from flexorm.actions.changes import Changes, RowChange, TableChanges
from flexorm.actions.declaration import declare
from flexorm.actions.preview import binding, issue, read
from flexorm.auth.caller import Caller
from flexorm.exceptions import (
    ConfigurationError,
    PreviewMismatch,
    RequestError,
    TooManyChanges,
    ValidationError,
)
from flexorm.protocol.requests import ExecuteRequest

COUNTS = {"orders": {"inserted": 0, "updated": 3, "deleted": 0}}


def test_a_token_binds_the_request_and_the_counts():
    request = ExecuteRequest("ship", model="orders", ids=(1, 2), params={"carrier": "ups"})
    caller = Caller(kind="key", key_name="key-1")
    bound = binding(request, caller)
    preview = read(issue(bound, COUNTS))
    preview.check(bound, {"orders": {"updated": 3, "inserted": 0, "deleted": 0},
                          "empty": {"inserted": 0, "updated": 0, "deleted": 0}})
    with pytest.raises(PreviewMismatch, match="preview showed orders \\(3 updated\\)"):
        preview.check(bound, {"orders": {"inserted": 0, "updated": 4, "deleted": 0}})
    for other in (binding(request, Caller(kind="key", key_name="key-2")),
                  binding(ExecuteRequest("ship", model="orders", ids=(2, 1),
                                         params={"carrier": "ups"}), caller),
                  binding(request, caller, {"carrier": "dhl"})):
        with pytest.raises(PreviewMismatch, match="made for another action"):
            preview.check(other, COUNTS)


@pytest.mark.parametrize("token", [
    "not base64 !", base64.urlsafe_b64encode(b"[1]").decode(),
    base64.urlsafe_b64encode(b'{"v": 2, "b": "x", "c": {}}').decode(),
    base64.urlsafe_b64encode(b'{"v": 1, "b": "x", "c": {"t": {"updated": "3"}}}').decode(),
    base64.urlsafe_b64encode(b'{"v": 1, "b": 5, "c": {}}').decode(),
])
def test_a_token_that_no_dry_run_made_is_a_400(token):
    with pytest.raises(RequestError) as refused:
        read(token)
    assert refused.value.field == "preview_token"


def test_the_preview_parameter_is_checked_unless_sent_unchecked():
    assert split_preview({"preview": False, "reason": "x"}) == (False, {"reason": "x"})
    assert [previewing(v) for v in (None, "", True, "true", "1")] == [True] * 5
    assert [previewing(v) for v in (False, "false", "0", "off")] == [False] * 4
    with pytest.raises(ValidationError):
        previewing(2)


def test_declarations_check_preview_and_max_affected():
    def body(order: object, preview: bool = False) -> None: ...

    with pytest.raises(ConfigurationError, match="already has one"):
        declare(body, model="orders", for_instance=True, preview=True)
    for bad in (-1, True, 2.5, "5"):
        with pytest.raises(ConfigurationError, match="max_affected must be a number of rows"):
            declare(body, model="orders", for_instance=True, max_affected=bad)
    with pytest.raises(ConfigurationError, match="preview must be True or False"):
        declare(body, model="orders", for_instance=True, preview="yes")
    declared = declare(body, model="orders", for_instance=True, max_affected=0)
    assert (declared.max_affected, declared.preview) == (0, False)


def test_the_cap_message_groups_thousands():
    assert TooManyChanges("orders", 1234, 500).message == (
        "would change 1,234 rows of orders; this action may change at most 500")


def test_a_preview_reads_as_text_and_says_when_nothing_changes():
    changes = Changes({
        "notes": TableChanges(inserted=1, deleted=2, rows=[
            RowChange(7, "inserted", {"text": [None, "hi"]}),
            RowChange([1, "a"], "deleted", {"text": ["old", None]})]),
        "empty": TableChanges(),
    })
    assert summary(None, changes) == (
        "Preview only: nothing was saved.\n"
        "notes: 1 inserted, 2 deleted\n"
        "  7: inserted\n"
        "  1/a: deleted\n"
        "  (1 more)")
    assert summary("done", Changes({})) == (
        "Preview only: nothing was saved.\nNo rows would change.\nThe action answered: done")
