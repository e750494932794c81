# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error type of the collection.

Errors are raised deep (client, resource logic) and turned into ``fail_json`` once, in
``main()``.  An error never carries a request header or a credential: only the method, the
path, the status and what Grafana said (``message``/``messageId``), plus a hint for the user.
"""

from __future__ import annotations

from typing import Any, Dict, Optional


class GrafanaError(Exception):
    """A failure talking to Grafana, or input that cannot work.

    ``status`` is the HTTP status when there was a response; ``message`` and
    ``message_id`` are Grafana's own ``message`` and ``messageId`` fields.
    """

    def __init__(
        self,
        msg: str,
        *,
        method: Optional[str] = None,
        path: Optional[str] = None,
        status: Optional[int] = None,
        message: Optional[str] = None,
        message_id: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        super().__init__(msg)
        self.msg = msg
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.message_id = message_id
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.msg} {self.hint}" if self.hint else self.msg

    def origin(self) -> Dict[str, Any]:
        """Where the error came from (method, path, status, Grafana's message), to re-wrap it."""
        return dict(
            method=self.method,
            path=self.path,
            status=self.status,
            message=self.message,
            message_id=self.message_id,
        )

    def fail_kwargs(self) -> Dict[str, Any]:
        """The keyword arguments for ``module.fail_json``."""
        result: Dict[str, Any] = {"msg": str(self)}
        for key, value in (
            ("method", self.method),
            ("path", self.path),
            ("status", self.status),
            ("grafana_message", self.message),
            ("grafana_message_id", self.message_id),
        ):
            if value is not None:
                result[key] = value
        return result


def rewrap(err: GrafanaError, msg: str, cls: Optional[type] = None, **kwargs: Any) -> GrafanaError:
    """A clearer error for ``err``: a new ``msg``, the same origin (method, path, status, message).

    ``cls`` defaults to :class:`GrafanaAPIError`; ``kwargs`` override origin fields (``hint``).
    """
    fields = err.origin()
    fields.update(kwargs)
    return (cls or GrafanaAPIError)(msg, **fields)


class GrafanaInputError(GrafanaError):
    """Options that cannot work; raised before any write is sent."""


class GrafanaMissingLibrary(GrafanaInputError):
    """A Python library an option needs is not installed (``exception`` is the import traceback)."""

    def __init__(self, msg: str, *, exception: str) -> None:
        super().__init__(msg)
        self.exception = exception

    def fail_kwargs(self) -> Dict[str, Any]:
        return dict(super().fail_kwargs(), exception=self.exception)


class GrafanaResultError(GrafanaError):
    """A failure that still returns what the run found or did (``partial``, a module result)."""

    def __init__(self, msg: str, partial: Dict[str, Any], **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.partial = partial

    def fail_kwargs(self) -> Dict[str, Any]:
        result = super().fail_kwargs()
        result.update({k: v for k, v in self.partial.items() if k != "msg"})
        return result


class GrafanaAPIError(GrafanaError):
    """Grafana (or something in front of it) answered with an unexpected status."""


class GrafanaConnectionError(GrafanaError):
    """No HTTP response: refused, timed out, TLS failure, dropped connection.

    ``kind`` is one of ``connection``, ``timeout``, ``tls``.
    """

    def __init__(self, msg: str, *, kind: str = "connection", **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.kind = kind
