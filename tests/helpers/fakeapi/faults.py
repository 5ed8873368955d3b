"""Injected failures: HTTP errors (429/5xx/4xx), slow answers and dropped connections."""

from __future__ import annotations

from collections.abc import Callable

from tests.helpers.fakeapi.protocol import (
    _STATUS_TEXT,
    JSON,
    Faulted,
    TelegramAPIError,
    _Fault,
    _json_bytes,
)


class Faults:
    """Injected failures: HTTP errors (429/5xx/4xx), slow answers and dropped connections."""

    def fail(
        self,
        method: str,
        status: int = 500,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int | None = 1,
        when: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Answer the next `times` matching calls (None = forever) with an HTTP error."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._add_fault(
            _Fault(
                method=method.lower(),
                kind="fail",
                status=status,
                description=description,
                retry_after=retry_after,
                migrate_to_chat_id=migrate_to_chat_id,
                times=times,
                when=when,
            )
        )

    def delay(
        self,
        method: str,
        seconds: float,
        times: int | None = 1,
        *,
        when: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Hold the next matching calls for `seconds` before answering normally."""
        self._add_fault(_Fault(method=method.lower(), kind="delay", seconds=seconds, times=times, when=when))

    def drop(
        self,
        method: str,
        times: int | None = 1,
        *,
        when: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Close the connection of the next matching calls without any response."""
        self._add_fault(_Fault(method=method.lower(), kind="drop", times=times, when=when))

    def clear_faults(self) -> None:
        """Remove all pending faults."""
        with self._lock:
            self._faults.clear()

    def _add_fault(self, fault: _Fault) -> None:
        """Queue a fault."""
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, method: str, params: JSON) -> _Fault | None:
        """Consume the first fault matching this call, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.method != method.lower():
                    continue
                if fault.when is not None and not fault.when(params):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
            return None

    def _fault_body(self, fault: _Fault) -> bytes:
        """The error body of an injected failure."""
        description = fault.description
        if description is None:
            phrase = _STATUS_TEXT.get(fault.status, "Error")
            if fault.status == 429:
                description = f"Too Many Requests: retry after {fault.retry_after}"
            elif fault.status == 409:
                description = (
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
                )
            elif fault.migrate_to_chat_id is not None:
                description = "Bad Request: group chat was upgraded to a supergroup chat"
            else:
                description = phrase
        parameters: JSON = {}
        if fault.retry_after is not None:
            parameters["retry_after"] = fault.retry_after
        if fault.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = fault.migrate_to_chat_id
        return _json_bytes(TelegramAPIError(fault.status, description, parameters or None).body())

    def _record_fault(self, method: str, params: JSON, kind: str, status: int | None) -> None:
        """Note a faulted call and wake waiters."""
        with self._cond:
            self.faulted.append(Faulted(method, params, kind, status))
            self._cond.notify_all()
