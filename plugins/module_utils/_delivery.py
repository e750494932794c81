# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic delivery of a freshly minted key to a file (``dest``).

The key file belongs to its owner from the first byte:

* the temporary file is created next to ``dest`` with ``os.open(O_CREAT|O_EXCL|O_WRONLY|
  O_NOFOLLOW)`` and mode ``0600`` (or the requested mode when that is stricter), so nobody
  else can open it, and a name planted by another user is never opened;
* it is ``fchown``-ed to the requested owner and group (the user running the task when not
  given) and ``fchmod``-ed to the requested mode *before* a byte of the key is written, then
  written without a trailing newline (a classic cause of ``401 Invalid API key``) and
  ``fsync``-ed;
* it is renamed over ``dest``. The rename replaces the directory entry: an existing ``dest``
  (another user's file, a symlink) is replaced by this new inode, never written through, and
  never lends the new key its owner or mode.

An existing ``dest`` that is a symlink or is not owned by the requested owner is not trusted
to hold the key (:meth:`KeyFile.status` says ``untrusted``): the caller mints a replacement and
the write above replaces the file.

Everything that can be checked before a token is minted is checked in :meth:`KeyFile.preflight`.
A failure while writing raises :class:`DeliveryError`; its ``delivered`` flag tells the caller
whether ``dest`` already holds the new key (then the token must be kept) or not (then the
caller deletes the token it just minted, so that no token exists whose key nobody holds).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import grp
import os
import pwd
import secrets
import stat
import time
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaError,
    GrafanaInputError,
)

PRESENT = "present"
MISSING = "missing"
EMPTY = "empty"
SYMLINK = "a symlink"
FOREIGN = "owned by another user"
UNTRUSTED = (SYMLINK, FOREIGN)
DEFAULT_MODE = "0600"
PRIVATE_MODE = 0o600
_OPEN_FLAGS = (
    os.O_CREAT
    | os.O_EXCL
    | os.O_WRONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
LOCK_TIMEOUT = 120.0
_SPECIAL_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX
_EXEC_BITS = 0o111


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

    def __init__(self, module: Any, params: Mapping[str, Any]) -> None:
        self.module = module
        self.params = dict(params)
        if self.params.get("mode") is None:
            self.params["mode"] = DEFAULT_MODE
        raw = self.params["dest"]
        self.path = os.path.abspath(os.path.expanduser(os.path.expandvars(str(raw))))
        self.params["dest"] = self.path

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)

    # ---------------------------------------------------------------- state
    def status(self) -> str:
        """``present``, ``missing``, ``empty`` (no bytes, or whitespace only) or untrusted.

        Untrusted (:data:`SYMLINK`, :data:`FOREIGN`): ``dest`` is a symlink, or a file not
        owned by the requested owner (the user running the task when ``owner`` is not set).
        Such a file may have been planted by someone else; its content is never read and it
        is never written through: the caller mints a replacement and the write replaces it.
        """
        try:
            info = os.lstat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return MISSING  # NotADirectoryError: a parent of dest is a file, so no key is there
        except OSError:
            return PRESENT  # cannot tell; preflight or the write will say what is wrong
        if stat.S_ISLNK(info.st_mode):
            return SYMLINK
        if stat.S_ISDIR(info.st_mode):
            return MISSING  # a directory holds no key; preflight says what is wrong
        if not stat.S_ISREG(info.st_mode) or info.st_uid != self.owner_uid():
            return FOREIGN
        if info.st_size == 0:
            return EMPTY
        if info.st_size > 4096:
            return PRESENT
        try:
            fd = os.open(
                self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            )
            with os.fdopen(fd, "rb") as handle:
                return PRESENT if handle.read().strip() else EMPTY
        except OSError:
            return PRESENT

    def fingerprint(self) -> Optional[Tuple[int, ...]]:
        """Identity and version of ``dest`` (None when absent): did another run replace it?"""
        try:
            info = os.lstat(self.path)
        except OSError:
            return None
        return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size, info.st_uid, info.st_mode)

    @contextlib.contextmanager
    def lock(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Exclusive lock on the directory of ``dest`` while a token is minted and delivered.

        Two runs delivering keys into the same directory (two cron runs, two controllers on
        one host) take turns: the second sees what the first delivered and adopts it instead
        of minting a token whose key the first run's write would overwrite. ``flock`` on the
        directory itself: no lock file is left behind, and the lock dies with the process.
        """
        try:
            fd = os.open(self.directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as err:
            raise DeliveryError(
                f"could not open {self.directory} to lock it: {err.strerror or err}"
            ) from None
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise DeliveryError(
                            f"another run has been delivering a key into {self.directory} for more "
                            f"than {int(timeout)}s (it holds the lock on the directory); nothing was "
                            "minted. Rerun when it has finished."
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # releases the lock

    def owner_uid(self) -> int:
        """The uid ``dest`` must belong to: ``owner``, else the user running the task."""
        owner = self.params.get("owner")
        if owner in (None, ""):
            return os.geteuid()
        return _resolve(owner, pwd.getpwnam, "owner", "user")

    def group_gid(self) -> int:
        """The gid of a new ``dest``: ``group``, else the primary group of the task's user."""
        group = self.params.get("group")
        if group in (None, ""):
            return os.getegid()
        return _resolve(group, grp.getgrnam, "group", "group")

    def validate(self) -> None:
        """The checks that need no file system state: mode, owner, group (before any request)."""
        self._check_mode()
        self._check_owner()
        self._check_group()

    def preflight(self) -> None:
        """Everything that would make the write fail, checked before a token is minted."""
        if os.path.isdir(self.path):
            raise GrafanaInputError(
                f"dest {self.path} is a directory; give the path of the key file."
            )
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise GrafanaInputError(
                f"dest directory {self.directory} is not a directory (a file is in the way); "
                "give a dest whose directory exists."
            )
        if not os.path.isdir(self.directory):
            raise GrafanaInputError(
                f"dest directory {self.directory} does not exist; create it first (for example "
                "with ansible.builtin.file state=directory mode=0700)."
            )
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise GrafanaInputError(
                f"dest directory {self.directory} is not writable by the user running the task; "
                "the key file is replaced atomically, which needs a temporary file there. Fix "
                "the directory's permissions or use become."
            )
        self._check_foreign_in_sticky()
        self.validate()

    def _check_foreign_in_sticky(self) -> None:
        """Another user's dest in a sticky directory (/tmp) cannot be replaced without root."""
        try:
            info = os.lstat(self.path)
            parent = os.stat(self.directory)
        except OSError:
            return
        euid = os.geteuid()
        if euid == 0 or info.st_uid == euid or parent.st_uid == euid:
            return
        if parent.st_mode & stat.S_ISVTX:
            raise GrafanaInputError(
                f"dest {self.path} belongs to another user (uid {info.st_uid}) in the sticky "
                f"directory {self.directory}: it cannot be replaced by the user running the task, "
                "and a key is never written into another user's file. Use a dest in a directory "
                "only the key's owner can write to, or remove that file."
            )

    def _check_mode(self) -> None:
        """An invalid mode would only fail at the write, after the token was minted.

        A YAML integer is ambiguous: ``mode: 0600`` is the number 384 (0o600), but
        ``mode: 600`` is the decimal number 600, which Ansible's file modules take literally
        (0o1130, ``---x-wx--T``). A number is accepted only when, read as Ansible reads it,
        it is a plausible key-file mode: no setuid/setgid/sticky or execute bits, and no
        write permission without read. Every decimal-looking accident (400, 440, 600, 640,
        644, 660, ...) fails that, every correctly written octal (0400 ... 0664) passes.
        """
        mode = self.params.get("mode")
        if mode in (None, ""):
            return
        if isinstance(mode, bool):
            raise GrafanaInputError(
                f"mode {mode!r} is not a file mode; give an octal string such as '0600'."
            )
        if isinstance(mode, int):
            if not _plausible_numeric_mode(mode):
                meant = (
                    f" ('0{mode}' if that is what you meant)"
                    if mode != 600 and 0 < mode and set(str(mode)) <= set("01234567")
                    else ""
                )
                raise GrafanaInputError(
                    f"mode {mode} is a YAML integer, which Ansible's file modules read as the "
                    f"decimal number {mode} = {_octal(mode)} ({_describe(mode)}): not a key-file "
                    f"mode. Write the mode as a quoted octal string, mode: '0600'{meant}; an "
                    "unquoted number works only with its leading zero (0600)."
                )
            return
        text = str(mode).strip()
        digits = text[2:] if text.lower().startswith("0o") else text
        if digits.isdigit():
            if all(ch in "01234567" for ch in digits) and len(digits) <= 4:
                return
        else:
            try:
                self.module._symbolic_mode_to_octal(_new_file_stat(), text)  # pylint: disable=protected-access
                return
            except (ValueError, OSError, TypeError):
                pass
        raise GrafanaInputError(
            f"mode {text!r} is not a file mode; give an octal string such as '0600' (quoted in "
            "YAML) or a symbolic mode such as 'u=rw,go='."
        )

    def _check_owner(self) -> None:
        owner = self.params.get("owner")
        if owner in (None, ""):
            return
        uid = _resolve(owner, pwd.getpwnam, "owner", "user")
        if os.geteuid() != 0 and uid != os.geteuid():
            raise GrafanaInputError(
                f"owner {owner!r}: only root can give dest to another user; use become: true "
                "or drop owner."
            )

    def _check_group(self) -> None:
        group = self.params.get("group")
        if group in (None, ""):
            return
        gid = _resolve(group, grp.getgrnam, "group", "group")
        if os.geteuid() != 0 and gid != os.getegid() and gid not in os.getgroups():
            raise GrafanaInputError(
                f"group {group!r}: the user running the task is not a member of it, so it cannot "
                "give dest to that group; use become: true or another group."
            )

    # ---------------------------------------------------------------- write
    def write(self, key: str) -> None:
        """Replace ``dest`` with a new inode holding ``key`` (no newline), private from byte 0."""
        tmp = self._write_temp(key)
        try:
            with self._guard(f"could not replace {self.path}"):
                os.rename(tmp, self.path)
        except DeliveryError:
            _remove_quietly(tmp)
            raise
        _fsync_directory(self.directory)
        # SELinux context and file attributes, if asked (owner, group and mode are set already)
        with self._guard(f"setting the attributes of {self.path} failed", delivered=True):
            self._apply(self.path)

    def _write_temp(self, key: str) -> str:
        uid, gid, mode = self._target()
        fd, tmp = self._create_temp(mode)
        try:
            try:
                os.fchown(fd, uid, gid)  # before a byte is written
                os.fchmod(fd, mode)
                write_synced(fd, key)
            finally:
                os.close(fd)
        except OSError as err:
            _remove_quietly(tmp)
            raise DeliveryError(f"could not write {tmp}: {err.strerror or err}") from None
        return tmp

    def _create_temp(self, mode: int) -> Tuple[int, str]:
        base = os.path.basename(self.path)
        create_mode = PRIVATE_MODE & mode if mode & 0o777 else PRIVATE_MODE
        for _attempt in range(100):
            tmp = os.path.join(self.directory, f".{base}.{secrets.token_hex(8)}.tmp")
            try:
                return os.open(tmp, _OPEN_FLAGS, create_mode), tmp
            except FileExistsError:
                continue
            except OSError as err:
                raise DeliveryError(
                    f"could not create a temporary file in {self.directory}: {err.strerror or err}"
                ) from None
        raise DeliveryError(
            f"could not create a temporary file in {self.directory}: "
            f"{errno.errorcode.get(errno.EEXIST)}"
        )

    def _target(self) -> Tuple[int, int, int]:
        """Owner uid, group gid and permission bits of the new file."""
        try:
            uid, gid = self.owner_uid(), self.group_gid()
        except GrafanaInputError as err:
            raise DeliveryError(str(err)) from None
        return uid, gid, self.mode_bits()

    def mode_bits(self) -> int:
        """The requested mode as a number (symbolic modes applied to a new 0600 file)."""
        mode = self.params.get("mode")
        if mode in (None, ""):
            return PRIVATE_MODE
        if isinstance(mode, int):
            return mode
        text = str(mode).strip()
        digits = text[2:] if text.lower().startswith("0o") else text
        if digits.isdigit():
            return int(digits, 8)
        try:
            return self.module._symbolic_mode_to_octal(_new_file_stat(), text)  # pylint: disable=protected-access
        except ValueError as err:
            raise DeliveryError(f"mode {text!r}: {err}") from None

    def fix_attributes(self) -> bool:
        """Apply mode/owner/group/SELinux/attributes to an existing ``dest``; True if changed.

        Only a regular file owned by the requested owner (never a symlink, never another
        user's file: those are replaced, see :meth:`status`). In check mode AnsibleModule
        reports the change without making it.
        """
        try:
            info = os.lstat(self.path)
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode) or self.status() in UNTRUSTED:
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
    names = (
        "dest",
        "mode",
        "owner",
        "group",
        "seuser",
        "serole",
        "setype",
        "selevel",
        "attributes",
        "unsafe_writes",
    )
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


def _plausible_numeric_mode(mode: int) -> bool:
    """No special or execute bits, and no class that may write but not read."""
    if mode < 0 or mode > 0o777 or mode & (_SPECIAL_BITS | _EXEC_BITS):
        return False
    return all(not (mode >> shift) & 0o2 or (mode >> shift) & 0o4 for shift in (0, 3, 6))


def _new_file_stat() -> os.stat_result:
    """What a symbolic mode is applied to: a new private regular file."""
    return os.stat_result((stat.S_IFREG | PRIVATE_MODE,) + (0,) * 9)


def _octal(mode: int) -> str:
    return f"0o{mode:o}" if mode >= 0 else str(mode)


def _describe(mode: int) -> str:
    if mode < 0 or mode > 0o7777:
        return "out of range"
    return stat.filemode(stat.S_IFREG | mode)


def write_synced(fd: int, text: str) -> None:
    """Write all of ``text`` (UTF-8, nothing added) to ``fd`` and flush it to disk."""
    data = text.encode("utf-8")
    while data:
        data = data[os.write(fd, data) :]
    os.fsync(fd)


def _fsync_directory(directory: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _reason(err: Exception) -> str:
    cause = err.__cause__ or err.__context__
    text = str(err)
    if isinstance(cause, OSError) and cause.strerror:
        text = f"{text} ({cause.strerror})"
    return text or type(err).__name__
