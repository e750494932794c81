"""The request as the application sees it, and the per-request context handlers receive."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

from .gojson import BindError, bind, parse_bool, parse_int64
from .profiles import Profile
from .rbac import Identity
from .responses import Abort, api_error
from .settings import Settings
from .store import Store

DEFAULT_PER_PAGE = 1000


@dataclass
class Request:
    """A parsed HTTP request; header names are lower-case, the first value wins (Go's Get).

    The target is split once here: several steps (faults, sub-path, auth, handlers) read it.
    """

    method: str
    target: str
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw_path: str = "/"
    query_string: str = ""
    _query: Dict[str, List[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls, method: str, target: str, header_pairs: Iterable[Tuple[str, str]], body: bytes
    ) -> "Request":
        headers: Dict[str, str] = {}
        for name, value in header_pairs:
            headers.setdefault(name.lower(), value)
        split = urlsplit(target)
        return cls(
            method.upper(),
            target,
            headers,
            body,
            split.path or "/",
            split.query,
            parse_qs(split.query, keep_blank_values=True),
        )

    @property
    def path(self) -> str:
        """The decoded path, without the query."""
        return unquote(self.raw_path)

    def first(self, name: str) -> Optional[str]:
        """First value of a query parameter, like Go's ``Query().Get``."""
        values = self._query.get(name)
        return values[0] if values else None


@dataclass
class Ctx:
    """Everything a handler may use; handlers run with the store lock held."""

    request: Request
    params: Dict[str, str]
    profile: Profile
    store: Store
    settings: Settings
    now: float
    identity: Optional[Identity]
    sub_path: str = ""

    @property
    def caller(self) -> Identity:
        """The signed-in identity (only public routes run without one)."""
        assert self.identity is not None, "public routes have no caller"
        return self.identity

    @property
    def org_id(self) -> int:
        return self.caller.org_id

    def bind(self, fields: Mapping[str, str], required: Iterable[str] = ()) -> Dict[str, Any]:
        """``web.Bind``; any failure is Grafana's 400 "Bad request data" (writer A with err)."""
        try:
            return bind(self.request.body, fields, required)
        except BindError:
            raise Abort(api_error(self.profile, 400, "Bad request data")) from None

    def query_int(self, name: str) -> int:
        """``c.QueryInt``: 0 when absent or not an integer."""
        value = parse_int64(self.request.first(name))
        return value if value is not None else 0

    def query_bool(self, name: str) -> bool:
        return parse_bool(self.request.first(name))

    def query_str(self, name: str) -> str:
        return self.request.first(name) or ""

    def paginate(self, items: List[Any]) -> Tuple[List[Any], int, int]:
        """The ``page`` (at least 1) of ``perpage`` items (1000 when absent or <= 0), as Grafana's
        searches read them; returns the window and the page and per-page values used."""
        per_page = self.query_int("perpage")
        per_page = per_page if per_page > 0 else DEFAULT_PER_PAGE
        page = max(self.query_int("page"), 1)
        return items[(page - 1) * per_page : page * per_page], page, per_page
