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


@dataclass
class Request:
    """A parsed HTTP request; header names are lower-case, the first value wins (Go's Get)."""

    method: str
    target: str
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def build(cls, method: str, target: str, header_pairs: Iterable[Tuple[str, str]], body: bytes) -> "Request":
        headers: Dict[str, str] = {}
        for name, value in header_pairs:
            headers.setdefault(name.lower(), value)
        return cls(method.upper(), target, headers, body)

    @property
    def path(self) -> str:
        """The decoded path, without the query."""
        return unquote(urlsplit(self.target).path) or "/"

    @property
    def raw_path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query_string(self) -> str:
        return urlsplit(self.target).query

    def query(self) -> Dict[str, List[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def first(self, name: str) -> Optional[str]:
        """First value of a query parameter, like Go's ``Query().Get``."""
        values = self.query().get(name)
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
