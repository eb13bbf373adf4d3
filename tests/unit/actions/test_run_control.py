"""A run's progress between its body, the watcher that writes it now and then, and the run's
end: the last progress always lands in the journal with the end, whatever the watcher's write
is doing at that moment."""

from __future__ import annotations

from flexorm.actions.run_control import Progress, RunControl


def test_progress_a_watcher_is_still_writing_when_the_run_ends_is_written_with_the_end() -> None:
    control = RunControl(1)
    control.progress(3, 3, "last")
    in_flight = control.unwritten_progress()  # the watcher's write starts (SQLite: it waits)
    assert in_flight == Progress(3, 3, "last")
    # the run ends now: its completion must still write the progress with its status
    assert control.unwritten_progress() == Progress(3, 3, "last")


def test_progress_a_watcher_failed_to_write_is_offered_again() -> None:
    control = RunControl(1)
    control.progress(1, 5)
    assert control.unwritten_progress() == Progress(1, 5)  # its write fails: nothing said
    assert control.unwritten_progress() == Progress(1, 5)


def test_written_progress_is_not_written_again_until_the_body_reports_more() -> None:
    control = RunControl(1)
    assert control.unwritten_progress() is None
    control.progress(1, 5)
    written = control.unwritten_progress()
    assert written is not None
    control.progress_written(written)
    assert control.unwritten_progress() is None
    control.progress(2, 5)
    assert control.unwritten_progress() == Progress(2, 5)
    control.progress_written(written)  # a late confirmation of the older one
    assert control.unwritten_progress() == Progress(2, 5)
    assert control.latest == Progress(2, 5)
