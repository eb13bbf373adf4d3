"""``ActionService``: every action bound to the schema once, answering the protocol's messages.

Built at startup by :func:`flexorm.runtime.open_runtime`; the server and the CLI call
:meth:`ActionService.action_list`, :meth:`ActionService.execute` and
:meth:`ActionService.field_options`.

Execution rules, in the order they apply:

- the action is found by ``(name, model)``; a request without a model finds a common action of
  that name, or the one collection action of that name;
- a ``read_only`` caller is refused an action declared ``writes=True`` (the default) before
  anything else is looked at (:func:`~flexorm.actions.policies.is_write_allowed`);
- parameters are validated (``""`` and ``null`` mean "not sent");
- a ``for_instance`` action needs ids, or ``inverseIds``; ids are coerced to the key's type
  (``"5"`` → 5) and duplicates dropped; a full key (``{"countrycode": "NLD", "language":
  "Dutch"}``) names one row of a composite key; a collection or common action ignores ids,
  and refuses ``inverseIds``;
- the records are loaded in one query per ``chunk_size`` ids; missing ids and unknown related
  ids are reported together and the body does not run;
- a bulk action gets the list of records (in the request's order; an inverse selection is
  loaded whole before the call); otherwise the body is called once per record, all in the same
  transaction, and the answer is that call's result for one record, else the list of results;
- the ``allow`` policy runs with the loaded records' context, before the body; anything but
  ``True`` (or an exception) refuses, and nothing is written;
- ``None`` answers ``true``; the result is JSON-encoded inside the transaction (Decimals as
  strings, see :mod:`flexorm.protocol.encoding`); with a journal, also written as JSON there,
  to measure it (:mod:`flexorm.journal.kept`), and the answer sends those bytes;
- with a journal, every run leaves one row (:mod:`flexorm.actions._recording`): a success's in
  the action's own transaction, a failure's or rejection's after the rollback. An idempotency
  key is claimed after the write floor and before validation; a replay answers the stored
  answer without running anything (409, when the answer was too large to keep);
- a dry run (``"dry_run": true``, or an action declared ``preview=True`` whose ``preview``
  box is checked) runs exactly as a real one, then rolls back and answers what it would
  change and a ``preview_token``; its journal row, marked as a dry run, is written after the
  rollback. A request with that token commits only if it changes the same counts (else 409);
  an action's ``max_affected`` refuses a run that changes more rows of a table (400). Work a
  body registered with ``ctx.after_commit`` runs after a real commit only.

- an id naming more than one row (the first column of a composite key, of a table without a
  key) is refused with how many rows it matched and which columns make the key;

Limitations: a table without a declared key pages its inverse selections by offset, and its
rows sharing a first column cannot be told apart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from flexorm.actions._background import ChunkDone, Completion, payload, request_of
from flexorm.actions._dry_run import (
    Safeguards,
    no_dry_run,
    previewing,
    split_preview,
    summary,
)
from flexorm.actions._listing import ActionListing
from flexorm.actions._recording import Recording, run_status
from flexorm.actions._rows import RowClasses
from flexorm.actions._runner import Invocation, OnSuccess, Runner
from flexorm.actions.binding import BoundAction, bind, resolve_collection
from flexorm.actions.declaration import ActionDeclaration
from flexorm.actions.params.columns import column_param
from flexorm.actions.params.ids import id_coercer, record_id_coercer
from flexorm.actions.params.options import hook_options, related_options, select_options
from flexorm.actions.params.spec import ParamSpec
from flexorm.actions.policies import PolicyChecker, denied, read_only_refusal, write_allowed
from flexorm.actions.preview import Preview, binding, issue, read
from flexorm.actions.run_control import RunControl
from flexorm.auth.caller import Caller
from flexorm.database import Database
from flexorm.db_errors import outage
from flexorm.exceptions import (
    ConfigurationError,
    DatabaseError,
    DatabaseUnavailable,
    RequestError,
    UnknownActionError,
    UnknownCollectionError,
    ValidationError,
)
from flexorm.journal import Journal
from flexorm.journal.entry import Interface, utcnow
from flexorm.journal.runs import queued_answer
from flexorm.journal.tables import is_own_table
from flexorm.protocol.encoding import Answer, encode
from flexorm.protocol.headers import IDEMPOTENCY_KEY_LENGTH
from flexorm.protocol.requests import ExecuteRequest, FieldOptionsRequest
from flexorm.reflection.records import CollectionInfo, SchemaInfo
from flexorm.settings import Settings

__all__ = ["ActionService", "Dispatcher"]

logger = logging.getLogger("flexorm.actions")

_SHOWN = 100


def _shown(text: object) -> str:
    """A value a client sent, quoted and cut short: a full key (an object) as its JSON."""
    if isinstance(text, Mapping):
        return json.dumps(text, default=str)[:_SHOWN]
    return repr(str(text)[:_SHOWN])


class Dispatcher(Protocol):
    """Hands a queued background run to whatever runs it (the queue, or the server's own
    runner), once its row is committed."""

    async def queued(self, run_id: int) -> None:
        """The run ``run_id`` is committed as ``queued``."""


class ActionService:
    """The bound actions of one runtime."""

    def __init__(self, actions: Sequence[BoundAction], *, schema: SchemaInfo, database: Database,
                 settings: Settings, rows: RowClasses, journal: Journal | None = None,
                 dispatcher: Dispatcher | None = None) -> None:
        self._actions = tuple(actions)
        self._dispatcher = dispatcher
        self._schema = schema
        self._database = database
        self._settings = settings
        self._journal = journal
        self._by_key: dict[tuple[str, str | None], BoundAction] = {}
        self._by_name: dict[str, list[BoundAction]] = {}
        for bound in self._actions:
            key = (bound.name, bound.collection.name if bound.collection else None)
            if key in self._by_key:
                where = f"collection {key[1]!r}" if key[1] else "the common actions"
                raise ConfigurationError(f"action {bound.name!r} is declared twice for {where}")
            self._by_key[key] = bound
            self._by_name.setdefault(bound.name, []).append(bound)
            if bound.declaration.background and journal is None:
                raise ConfigurationError(
                    f"action {bound.name!r} runs in the background, which needs flexorm's "
                    "journal (FLEXORM_JOURNAL is off)")
        self._descriptors = [bound.descriptor for bound in self._actions]
        policies = PolicyChecker()
        self._listing = ActionListing(self._actions, database=database, policies=policies)
        self._runner = Runner(database, rows, settings.chunk_size, policies=policies)

    @classmethod
    def build(cls, declarations: Sequence[ActionDeclaration], *, schema: SchemaInfo,
              database: Database, settings: Settings,
              models: Sequence[type[Any]] = (), journal: Journal | None = None,
              dispatcher: Dispatcher | None = None) -> ActionService:
        """Bind every declaration to ``schema``, once.

        ``journal`` records every ``execute_action`` and honours idempotency keys; without it
        nothing is recorded and a request with a key is refused.

        Raises:
            ConfigurationError: an unknown collection or column, an unsupported parameter, a
                duplicate action, an action on one of flexorm's own tables; the message names
                the action.
        """
        bound: list[BoundAction] = []
        for declaration in declarations:
            if not declaration.models:
                bound.append(bind(declaration, None, schema))
                continue
            for target in declaration.models:
                collection = resolve_collection(schema, target, action=declaration.name)
                if is_own_table(collection.table):
                    raise ConfigurationError(
                        f"action {declaration.name!r}: {collection.name!r} is one of flexorm's "
                        "own tables; actions cannot run on them")
                bound.append(bind(declaration, collection, schema))
        return cls(bound, schema=schema, database=database, settings=settings,
                   rows=RowClasses(schema, models), journal=journal, dispatcher=dispatcher)

    @property
    def actions(self) -> tuple[BoundAction, ...]:
        """Every (action, collection) pair, in declaration order."""
        return self._actions

    def takes_idempotency_keys(self, bound: BoundAction) -> bool:
        """Whether a call of ``bound`` may carry an idempotency key: with a journal, for an
        action it records."""
        return self._journal is not None and bound.declaration.recorded

    # -- get_action_list ----------------------------------------------------------------------

    def action_list(self, caller: Caller | None = None) -> list[dict[str, Any]]:
        """Every action's descriptor, unfiltered: one per (action, collection).

        This is the list a caller allowed everything sees; :meth:`action_list_for` leaves out
        what a given caller may not run. ``caller`` is ignored. The descriptors are built once
        at startup and shared: do not modify them.
        """
        return list(self._descriptors)

    def action_list_json(self, caller: Caller | None = None) -> bytes:
        """:meth:`action_list` as JSON bytes (serialised once at startup)."""
        return self._listing.full

    async def action_list_for(self, caller: Caller) -> list[dict[str, Any]]:
        """The ``get_action_list`` answer for ``caller``: the actions it may run.

        Left out: actions declared ``writes=True`` for a ``read_only`` caller, and actions
        whose ``allow`` policy refuses the caller (asked without records or parameters).
        """
        visible = await self._listing.visible(caller)
        return [d for d, shown in zip(self._descriptors, visible, strict=True) if shown]

    async def may_follow(self, caller: Caller, action: str, collection: str | None) -> bool:
        """Whether ``caller`` may follow (read, cancel) a run of the action ``action`` on
        ``collection``: it may run that action, as :meth:`action_list_for` tells. A run of an
        action this service no longer has is nobody's to follow here."""
        bound = self._by_key.get((action, collection))
        return bound is not None and await self._listing.allows(bound, caller)

    async def visible_actions(self, caller: Caller) -> list[BoundAction]:
        """The bound actions ``caller`` may run, as :meth:`action_list_for` filters them."""
        visible = await self._listing.visible(caller)
        return [bound for bound, shown in zip(self._actions, visible, strict=True) if shown]

    async def action_list_json_for(self, caller: Caller) -> bytes:
        """:meth:`action_list_for` as JSON bytes; prepared once when nothing is left out."""
        return await self._listing.answer(caller)

    # -- execute_action -----------------------------------------------------------------------

    def find(self, name: str, model: str | None = None) -> BoundAction:
        """The action ``name`` for ``model``.

        Raises:
            UnknownActionError: no such action, or not for that collection.
        """
        if model is not None:
            found = self._by_key.get((name, model)) or self._by_key.get((name, None))
            if found is not None:
                return found
            if name in self._by_name:
                raise UnknownActionError(
                    f"action {_shown(name)} does not run on collection {_shown(model)}",
                    field="model",
                )
            raise UnknownActionError(f"unknown action {_shown(name)}", field="name")
        common = self._by_key.get((name, None))
        if common is not None:
            return common
        candidates = self._by_name.get(name, [])
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            names = ", ".join(b.collection.name for b in candidates if b.collection)
            raise UnknownActionError(
                f"action {_shown(name)} runs on several collections ({names}); name the model",
                field="model",
            )
        raise UnknownActionError(f"unknown action {_shown(name)}", field="name")

    def _coerce_ids(self, collection: CollectionInfo, raw: Sequence[Any]) -> tuple[Any, ...]:
        """Ids of the first key column's type; a full key (an object naming every key column)
        as a tuple of the key's values, in key order."""
        dialect = self._schema.dialect
        if not any(isinstance(value, Mapping) for value in raw):
            coerce = id_coercer(collection.columns[collection.primary_key_field], dialect)
            try:
                return tuple(dict.fromkeys(map(coerce, raw)))
            except ValueError:
                pass  # again, one by one, to name the bad ids
        coerce = record_id_coercer(collection, dialect)
        ids: dict[Any, None] = {}
        bad: list[str] = []
        for value in raw:
            try:
                ids[coerce(value)] = None
            except ValueError as exc:
                if len(bad) < 5:
                    bad.append(f"{_shown(value)} is not a valid {collection.name} id ({exc})")
        if bad:
            raise ValidationError({"ids": bad})
        return tuple(ids)

    async def execute(self, request: ExecuteRequest, *, caller: Caller, raw_request: Any = None,
                      request_id: str | None = None,
                      idempotency_key: str | None = None,
                      interface: Interface = "messages") -> dict[str, Any]:
        """Run an action: ``{"result": value}``, and record the run in the journal.

        Every call leaves one journal row (when the runtime has a journal): ``succeeded``,
        written in the action's own transaction; ``failed`` or ``rejected``, written after the
        rollback (a failure to write that row is logged, and the original error raised). A
        replay of an idempotency key answers the stored answer without running the body and
        writes no row: the run it replays has one.

        Args:
            request: the parsed request.
            caller: who sent it.
            raw_request: the HTTP request, for ``ctx.request``.
            request_id: the id of the request, for the journal (generated when ``None``).
            idempotency_key: the request's key: the same key with the same action, payload and
                caller answers the stored answer.
            interface: what the request came through (``messages``: Jet Admin's
                ``/api/messages/``; ``mcp``: an MCP tool; ``http``: an action's HTTP
                operation), kept in the journal.

        Raises:
            UnknownActionError: no such action for that model.
            RequestError: a record action without ids; an idempotency key without a journal,
                or a key longer than 255 characters.
            ValidationError: bad parameters, bad or missing ids, unknown related ids.
            ActionError: raised by the body.
            PermissionDenied: a ``read_only`` caller and an action that writes, or the
                action's ``allow`` policy said no; the body does not run.
            IdempotencyConflict: the key was used for another payload or caller, a request
                holding it is still running, or its action ran but its answer was too large
                to keep (it cannot be replayed).

        Any other exception from the body propagates after the rollback.
        """
        if self._journal is None or not self._recorded(request):
            if idempotency_key is not None:
                raise RequestError(
                    "idempotency keys need flexorm's journal, which this server runs without "
                    "(FLEXORM_JOURNAL is off)" if self._journal is None else
                    f"action {_shown(request.action)} is not recorded in the journal, so it "
                    "takes no idempotency key", field="idempotency_key")
            if request.refusal is not None:
                raise request.refusal
            return await self._execute(request, caller, raw_request, None)
        recording = Recording(self._journal, request, caller, utcnow(),
                              request_id or uuid.uuid4().hex, idempotency_key,
                              interface=interface)
        try:
            answer, ran = await self._execute_recorded(recording, raw_request)
        except Exception as exc:
            try:
                await recording.failure(exc)
            except Exception as unrecorded:
                down = outage(unrecorded)
                if down is None:
                    logger.exception("could not record the %s run of action %r in the "
                                     "journal", run_status(exc), request.action)
                else:  # the same outage the answer reports: one line
                    logger.warning("could not record the %s run of action %r in the "
                                   "journal: %s", run_status(exc), request.action, down)
            raise
        if ran and recording.queued is not None:
            return await self._queued(recording)
        if ran and answer.get("dry_run"):
            try:
                await recording.rolled_back(answer["result"])
            except Exception:
                logger.exception("could not record the dry run of action %r", request.action)
        elif ran:
            try:
                await recording.committed(answer["result"])
            except Exception:
                logger.exception("action %r committed, but its journal row could not be "
                                 "written to the state database", request.action)
        return answer

    def _recorded(self, request: ExecuteRequest) -> bool:
        """Whether a call of the action ``request`` names leaves a journal row (one naming no
        action does: it is recorded as rejected)."""
        try:
            return self.find(request.action, request.model).declaration.recorded
        except UnknownActionError:
            return True

    async def _queued(self, recording: Recording) -> dict[str, Any]:
        """A background action's checks passed: its run committed as queued; hand it on."""
        if recording.run_id is None:
            try:
                await recording.committed(None)
            except Exception as exc:
                if outage(exc) is not None or isinstance(exc, OSError | TimeoutError):
                    logger.warning("action %r: its run could not be queued: the state "
                                   "database cannot be reached", recording.request.action)
                    raise DatabaseUnavailable("the run could not be queued: the state database "
                                              "cannot be reached right now; try again shortly"
                                              ) from exc
                logger.exception("action %r: its run could not be queued in the state "
                                 "database", recording.request.action)
                raise DatabaseError("the run could not be queued: the state database "
                                    "refused it") from exc
        assert recording.run_id is not None
        if self._dispatcher is not None:
            try:
                await self._dispatcher.queued(recording.run_id)
            except Exception:  # the run is committed: a worker's sweep finds it
                logger.exception("run %s is queued, but handing it to the queue failed",
                                 recording.run_id)
        return queued_answer(recording.run_id)

    async def _execute_recorded(self, recording: Recording,
                                raw_request: Any) -> tuple[dict[str, Any], bool]:
        """Find the action, claim the key, run: the answer, and whether the body ran (false:
        the key replayed a stored answer)."""
        refusal = recording.request.refusal
        if refusal is not None:  # recorded as rejected, with the values scrubbed
            with contextlib.suppress(UnknownActionError):
                recording.secret = _secret_params(self.find(recording.request.action,
                                                            recording.request.model))
            raise refusal
        key = recording.idempotency_key
        if key is not None and len(key) > IDEMPOTENCY_KEY_LENGTH:
            recording.idempotency_key = None  # not stored: it does not fit the journal
            raise RequestError(f"an idempotency key has at most {IDEMPOTENCY_KEY_LENGTH} "
                               "characters",
                               field="idempotency_key")
        request = recording.request
        if key is not None and request.dry_run:
            recording.idempotency_key = None  # never claimed
            raise RequestError("a dry run saves nothing, so it takes no idempotency key",
                               field="idempotency_key")
        bound = self.find(request.action, request.model)
        if bound.collection is not None and request.model != bound.collection.name:
            request = dataclasses.replace(request, model=bound.collection.name)
            recording.request = request
        recording.secret = _secret_params(bound)
        recording.writes = bound.declaration.writes
        if not write_allowed(bound, recording.caller):
            raise read_only_refusal(bound)
        if key is not None:
            claim = await recording.journal.claim(key, request, recording.caller)
            if claim.kind == "replay":
                logger.info("action %r: idempotency key replayed (request %s)", request.action,
                            recording.request_id)
                return dict(claim.response), False
            if not claim.owned:
                raise claim.conflict()
            recording.claimed = True
        queue = bound.declaration.background and not request.dry_run  # a dry run answers now
        if queue:
            if not bound.declaration.atomic and request.inverse:
                raise RequestError(f"action {bound.name!r} commits chunk by chunk: select the "
                                   "records by their ids, not as every record but some",
                                   field="ids")
            if not bound.declaration.atomic and request.preview_token is not None:
                raise RequestError(f"action {bound.name!r} commits chunk by chunk, so a "
                                   "preview cannot hold its run back: send it without "
                                   "preview_token", field="preview_token")
            recording.queued = payload(bound, request, recording.caller, recording.request_id)
        answer = await self._execute(request, recording.caller, raw_request, recording,
                                     bound=bound, defer=queue)
        return answer, True

    async def run_queued(self, stored: Mapping[str, Any], control: RunControl,
                         started_at: dt.datetime) -> Any:
        """Run a claimed background run from its stored payload, through the same checks and
        transaction as a direct run; its result. The run is marked ``succeeded`` in the
        run's transaction (a separate state database: right after).

        Raises whatever a direct run raises (the caller records the failure), and
        :class:`~flexorm.exceptions.RunStopped` when it was cancelled or passed its deadline.
        """
        if self._journal is None:
            raise ConfigurationError("background runs need flexorm's journal")
        request, caller = request_of(stored)
        bound = self.find(request.action, request.model)
        completion = Completion(self._journal, control, started_at,
                                writes=bound.declaration.writes)
        if not bound.declaration.atomic and request.ids is not None:
            return await self._run_in_chunks(request, caller, bound, control, completion)
        answer = await self._execute(request, caller, None, completion, bound=bound,
                                     control=control)
        await completion.committed(answer["result"])
        return answer["result"]

    async def _run_in_chunks(self, request: ExecuteRequest, caller: Caller, bound: BoundAction,
                             control: RunControl, completion: Completion) -> Any:
        """``atomic=False``: each chunk of ``chunk_size`` ids in a transaction of its own,
        through the same checks, with the chunk recorded in it; chunks committed by an earlier
        attempt are skipped. The result: a bulk body's result per chunk, or every record's."""
        assert self._journal is not None
        assert request.ids is not None
        committed = {_key(value) for value in control.checkpoint["ids"]}
        left = [value for value in dict.fromkeys(request.ids) if _key(value) not in committed]
        size = self._settings.chunk_size
        for start in range(0, len(left), size):
            chunk = tuple(left[start:start + size])
            step = ChunkDone(self._journal, control, chunk, bulk=bound.declaration.bulk)
            await self._execute(dataclasses.replace(request, ids=chunk, single=False), caller,
                                None, step, bound=bound, control=control)
            await step.committed()
        results = control.checkpoint["results"]
        result = results if bound.declaration.bulk else [
            item for chunk_result in results for item in chunk_result]
        await completion.finish(result)
        return result

    async def _execute(self, request: ExecuteRequest, caller: Caller, raw_request: Any,
                       on_success: OnSuccess | None, *,
                       bound: BoundAction | None = None, defer: bool = False,
                       control: RunControl | None = None) -> dict[str, Any]:
        if bound is None:
            bound = self.find(request.action, request.model)
            if not write_allowed(bound, caller):
                raise read_only_refusal(bound)
        recording = on_success if isinstance(on_success, Recording) else None
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        params = dict(request.params)
        preview_on = False
        if bound.declaration.preview:
            sent, params = split_preview(params)
            try:
                preview_on = previewing(sent)
            except ValidationError as exc:
                errors.update(exc.errors)
        try:
            values = bound.validator.validate(params)
        except ValidationError as exc:
            errors.update(exc.errors)
        ids: tuple[Any, ...] | None = None
        declaration = bound.declaration
        if declaration.effects_elsewhere:
            errors.update(no_dry_run(bound.name, dry_run=request.dry_run, preview=preview_on,
                                     token=request.preview_token is not None))
        if request.inverse and not declaration.for_instance:
            errors["inverseIds"] = [f"action {bound.name!r} runs on no records: inverseIds "
                                    "selects records, leave it out"]
        if declaration.for_instance:
            assert bound.collection is not None
            if not request.ids and not request.inverse:
                if errors:
                    raise ValidationError(errors)
                raise RequestError(f"action {bound.name!r} runs on records: send their ids",
                                   field="ids")
            try:
                ids = self._coerce_ids(bound.collection, request.ids or ())
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationError(errors)
        dry_run = request.dry_run or preview_on
        if recording is not None and dry_run:
            recording.dry_run = True
        preview = self._preview(request, dry_run=dry_run)
        bound_to = ""  # what a preview token binds: only digested when one is made or read
        if dry_run or preview is not None:
            bound_to = binding(dataclasses.replace(
                request, model=bound.collection.name if bound.collection else None), caller,
                params)
        if defer and preview is not None:  # its counts are checked when the queued run runs
            preview.check_request(bound_to)
            preview = None
        invocation = Invocation(
            bound=bound, values=values, ids=ids, inverse=request.inverse,
            one_result=request.single or (not request.inverse and ids is not None
                                          and len(ids) == 1),
            caller=caller, raw_request=raw_request, on_success=on_success,
            guards=Safeguards(dry_run=dry_run, max_affected=bound.declaration.max_affected,
                              preview=preview, binding=bound_to,
                              shown=self._settings.dry_run_rows),
            control=control, defer=defer,
        )
        outcome = await self._runner.run(invocation)
        if not outcome.dry_run:
            if recording is not None and recording.kept is not None:  # its JSON is written
                return Answer(outcome.result, recording.kept.encoded)
            return {"result": outcome.result}
        assert outcome.changes is not None
        changes = outcome.changes
        if recording is not None:
            recording.changes = changes.counts()
        return {
            "result": summary(outcome.result, changes) if preview_on else outcome.result,
            "dry_run": True,
            "changes": changes.as_json(encode),
            # a run committing chunk by chunk has no one transaction a token could hold back
            **({} if declaration.background and not declaration.atomic
               else {"preview_token": issue(bound_to, changes.counts())}),
        }

    @staticmethod
    def _preview(request: ExecuteRequest, *, dry_run: bool) -> Preview | None:
        if request.preview_token is None:
            return None
        if dry_run:
            raise RequestError("a preview_token is for the real run: uncheck preview",
                               field="preview_token")
        return read(request.preview_token)

    # -- get_field_options --------------------------------------------------------------------

    def _column_spec(self, model: str | None, field: str) -> ParamSpec:
        if model is None:
            raise RequestError("name the action or the model of the field", field="model")
        try:
            collection = self._schema[model]
            return column_param(field, collection, field, self._schema, action="")
        except UnknownCollectionError as exc:
            raise RequestError(exc.message, field="model") from None
        except ConfigurationError:
            raise RequestError(f"collection {_shown(model)} has no field {_shown(field)}",
                               field="field") from None

    async def field_options(self, request: FieldOptionsRequest, *,
                            caller: Caller) -> list[dict[str, Any]]:
        """The options of an action parameter (or of a collection's column): the parameter's
        hook when it has one, a SelectField's options, or a search of a ForeignKey's related
        collection, at most ``field_options_limit`` of them.

        Raises:
            UnknownActionError: no such action.
            RequestError: no such parameter, or one without options.
            PermissionDenied: the caller may not run that action (its options could show
                rows of a related collection).
        """
        limit = self._settings.field_options_limit
        if request.action is not None:
            bound = self.find(request.action, request.model)
            if not await self._listing.allows(bound, caller):
                raise denied(bound)
            spec = bound.param(request.field)
            if spec is None:
                raise RequestError(
                    f"action {bound.name!r} has no parameter {_shown(request.field)}",
                    field="field",
                )
            hook = bound.declaration.options.get(spec.name)
            if hook is not None:
                return await hook_options(hook, request.query, _plain(request.form))
        else:
            spec = self._column_spec(request.model, request.field)
        if spec.choices:
            return select_options(spec, request.query, limit)
        if spec.related is not None and spec.related_field is not None:
            return await related_options(self._database, spec.related, spec.related_field,
                                         request.query, limit)
        raise RequestError(f"{_shown(spec.name)} has no options", field="field")


def _key(value: Any) -> str:
    """An id as a checkpoint compares it (ids come back from JSON as they were sent)."""
    return f"{type(value).__name__}:{value}"


def _plain(form: Mapping[str, Any]) -> dict[str, Any]:
    return dict(form)


def _secret_params(bound: BoundAction) -> frozenset[str]:
    """The parameters declared ``Param(secret=True)``: redacted in the journal."""
    return frozenset(draft.name for draft in bound.signature.params if draft.secret)
