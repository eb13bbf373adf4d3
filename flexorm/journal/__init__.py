"""The action journal and idempotency keys, stored in flexorm's own tables.

- :mod:`flexorm.journal.tables`: the ``Table`` definitions (``flexorm_action_runs``,
  ``flexorm_idempotency``) on flexorm's own ``MetaData``.
- :class:`RunEntry` and :class:`JournalStore`: one row per ``execute_action``.
- :class:`IdempotencyStore`, :func:`fingerprint`, :class:`Claim`: one key runs its action once.
- :class:`Journal`: both, for one runtime, in the order one request needs them.

Every store method runs on the connection or session it is given and never commits; see
``docs/journal.md`` for the transactions the action layer uses.
"""

from flexorm.journal.entry import REDACTED, RunEntry, RunStatus, redact
from flexorm.journal.idempotency import Claim, IdempotencyStore, fingerprint
from flexorm.journal.recorder import Journal
from flexorm.journal.store import JournalStore

__all__ = [
    "REDACTED",
    "Claim",
    "IdempotencyStore",
    "Journal",
    "JournalStore",
    "RunEntry",
    "RunStatus",
    "fingerprint",
    "redact",
]
