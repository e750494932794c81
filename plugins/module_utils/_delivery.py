# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic delivery of a freshly minted key to a file (``dest``).

The key is written to a temporary file in the destination directory (created ``0600``),
without a trailing newline (a classic cause of ``401 Invalid API key``), given the requested
owner, group and mode *before* it replaces ``dest`` with ``module.atomic_move``, so the key is
never readable by others, not even for a moment.

Everything that can be checked before a token is minted is checked in :meth:`KeyFile.preflight`.
A failure while writing raises :class:`DeliveryError`; its ``delivered`` flag tells the caller
whether ``dest`` already holds the new key (then the token must be kept) or not (then the
caller deletes the token it just minted, so that no token exists whose key nobody holds).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import tempfile
from typing import Any, Dict, Iterator, Mapping, Optional

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaError,
    GrafanaInputError,
)

PRESENT = "present"
MISSING = "missing"
EMPTY = "empty"
DEFAULT_MODE = "0600"
_PRIVATE_UMASK = 0o077


class DeliveryError(GrafanaError):
    """Writing ``dest`` failed; ``delivered`` is true when ``dest`` holds the new key anyway."""

    def __init__(self, msg: str, *, delivered: bool = False) -> None:
        super().__init__(msg)
        self.delivered = delivered


class _Refused(Exception):
    """``fail_json`` was called by an AnsibleModule file helper."""


class KeyFile:
    """One key file: its state, its preflight checks, its atomic write and its attributes.

    ``params`` holds ``dest`` and the file common arguments (``mode``, ``owner``, ``group``,
    ``seuser``, ``serole``, ``setype``, ``selevel``, ``attributes``, ``unsafe_writes``); a
    module that delivers many keys passes one mapping per key.
    """

    def __init__(self, module: Any, params: Mapping[str, Any], path: Optional[str] = None) -> None:
        self.module = module
        self.params = dict(params)
        if self.params.get("mode") is None:
            self.params["mode"] = DEFAULT_MODE
        raw = path if path is not None else self.params["dest"]
        self.path = os.path.abspath(os.path.expanduser(os.path.expandvars(str(raw))))
        self.params["dest"] = self.path

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)

    # ---------------------------------------------------------------- state
    def status(self) -> str:
        """``present``, ``missing`` or ``empty`` (no bytes, or whitespace only)."""
        try:
            size = os.stat(self.path).st_size
        except (FileNotFoundError, NotADirectoryError):
            return MISSING  # NotADirectoryError: a parent of dest is a file, so no key is there
        except OSError:
            return PRESENT  # cannot tell; preflight or the write will say what is wrong
        if os.path.isdir(self.path):
            return MISSING  # a directory holds no key; preflight says what is wrong
        if size == 0:
            return EMPTY
        if size > 4096:
            return PRESENT
        try:
            with open(self.path, "rb") as handle:
                return PRESENT if handle.read().strip() else EMPTY
        except OSError:
            return PRESENT

    def preflight(self) -> None:
        """Everything that would make the write fail, checked before a token is minted."""
        if os.path.isdir(self.path):
            raise GrafanaInputError(f"dest {self.path} is a directory; give the path of the key file.")
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise GrafanaInputError(
                f"dest directory {self.directory} is not a directory (a file is in the way); "
                "give a dest whose directory exists.")
        if not os.path.isdir(self.directory):
            raise GrafanaInputError(
                f"dest directory {self.directory} does not exist; create it first (for example "
                "with ansible.builtin.file state=directory mode=0700).")
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise GrafanaInputError(
                f"dest directory {self.directory} is not writable by the user running the task; "
                "the key file is replaced atomically, which needs a temporary file there. Fix "
                "the directory's permissions or use become.")
        self._check_owner()
        self._check_group()
        self._check_mode()

    def _check_mode(self) -> None:
        """An invalid mode would only fail at the write, after the token was minted."""
        mode = self.params.get("mode")
        if mode in (None, "") or isinstance(mode, int):
            return
        text = str(mode)
        if text.isdigit():
            if all(ch in "01234567" for ch in text) and len(text) <= 4:
                return
        else:
            try:
                self.module._symbolic_mode_to_octal(os.stat(self.directory), text)  # pylint: disable=protected-access
                return
            except (ValueError, OSError):
                pass
        raise GrafanaInputError(
            f"mode {text!r} is not a file mode; give an octal string such as '0600' (quoted in "
            "YAML) or a symbolic mode such as 'u=rw,go='.")

    def _check_owner(self) -> None:
        owner = self.params.get("owner")
        if owner in (None, ""):
            return
        uid = _resolve(owner, pwd.getpwnam, "owner", "user")
        if os.geteuid() != 0 and uid != os.geteuid():
            raise GrafanaInputError(
                f"owner {owner!r}: only root can give dest to another user; use become: true "
                "or drop owner.")

    def _check_group(self) -> None:
        group = self.params.get("group")
        if group in (None, ""):
            return
        gid = _resolve(group, grp.getgrnam, "group", "group")
        if os.geteuid() != 0 and gid != os.getegid() and gid not in os.getgroups():
            raise GrafanaInputError(
                f"group {group!r}: the user running the task is not a member of it, so it cannot "
                "give dest to that group; use become: true or another group.")

    # ---------------------------------------------------------------- write
    def write(self, key: str) -> None:
        """Replace ``dest`` atomically with ``key`` (no newline), attributes applied first."""
        tmp = self._write_temp(key)
        try:
            with self._guard(f"could not prepare {tmp} for {self.path}"):
                self._apply(tmp)
            with self._guard(f"could not replace {self.path}"), _umask(_PRIVATE_UMASK):
                self.module.atomic_move(tmp, self.path,
                                        unsafe_writes=bool(self.params.get("unsafe_writes")))
        finally:
            _remove_quietly(tmp)
        # atomic_move copies an old file's owner/mode (or applies the umask to a new one)
        with self._guard(f"setting the attributes of {self.path} failed", delivered=True):
            self._apply(self.path)

    def _write_temp(self, key: str) -> str:
        base = os.path.basename(self.path)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=self.directory)
        except OSError as err:
            raise DeliveryError(f"could not create a temporary file in {self.directory}: "
                                f"{err.strerror or err}") from None
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp made it 0600
                handle.write(key.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            _remove_quietly(tmp)
            raise DeliveryError(f"could not write {tmp}: {err.strerror or err}") from None
        return tmp

    def fix_attributes(self) -> bool:
        """Apply mode/owner/group/SELinux/attributes to an existing ``dest``; True if changed.

        In check mode AnsibleModule reports the change without making it.
        """
        if not os.path.lexists(self.path) or os.path.isdir(self.path):
            return False
        with self._guard(f"setting the attributes of {self.path} failed", delivered=True):
            return self._apply(self.path)

    def _apply(self, path: str) -> bool:
        args = self.module.load_file_common_arguments(self.params, path=path)
        return bool(self.module.set_fs_attributes_if_different(args, False))

    @contextlib.contextmanager
    def _guard(self, what: str, delivered: bool = False) -> Iterator[None]:
        """Turn AnsibleModule file-helper failures into :class:`DeliveryError`.

        Those helpers call ``fail_json`` (or raise) on errors; a ``fail_json`` here would end
        the run before the caller can delete the token it just minted, leaving an orphan.
        """
        module = self.module
        had_own = "fail_json" in vars(module)
        original = vars(module).get("fail_json")

        def refuse(msg: str = "", **_kwargs: Any) -> None:
            raise _Refused(msg)

        module.fail_json = refuse
        try:
            yield
        except _Refused as err:
            raise DeliveryError(f"{what}: {err}", delivered=delivered) from None
        except Exception as err:  # pylint: disable=broad-except  # atomic_move raises bare Exception
            raise DeliveryError(f"{what}: {_reason(err)}", delivered=delivered) from None
        finally:
            if had_own:
                module.fail_json = original
            else:
                del module.fail_json


def key_file_params(params: Mapping[str, Any]) -> Dict[str, Any]:
    """The subset of module parameters a :class:`KeyFile` uses."""
    names = ("dest", "mode", "owner", "group", "seuser", "serole", "setype", "selevel",
             "attributes", "unsafe_writes")
    return {name: params.get(name) for name in names}


def _resolve(value: Any, lookup: Any, option: str, kind: str) -> int:
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        entry = lookup(text)
    except KeyError:
        raise GrafanaInputError(f"{option}: no {kind} named {text!r} on this host.") from None
    return entry.pw_uid if kind == "user" else entry.gr_gid


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    # atomic_move chmods a *new* file to 0666 & ~umask; keep a key file private meanwhile
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _reason(err: Exception) -> str:
    cause = err.__cause__ or err.__context__
    text = str(err)
    if isinstance(cause, OSError) and cause.strerror:
        text = f"{text} ({cause.strerror})"
    return text or type(err).__name__
