# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Search test outputs for secrets the tests used, without ever printing a secret.

    leak_scan.py --secrets FILE [--secrets FILE...] [--exclude PATH...] [--min-secrets N]
                 [--login NAME...] PATH...

FILE holds one secret a line (every key the Grafana API doubles minted, written with their
``--secrets-file``, and every password the tests used). Each PATH (file or directory,
recursively) is searched byte for byte for every secret, and for the base64 forms a secret
takes in an ``Authorization: Basic`` header or in a slurp result. A hit is reported as
``LEAK file:line: secret #N (kind, length)``; the secret itself, or any part of it beyond a
generic prefix such as ``glsa_``, is never printed.

A secret shorter than 8 characters (a real Grafana's default admin password ``admin``) cannot
be told from ordinary words where it stands alone: results legitimately hold the login
``admin``. It is matched only where it can be told apart (the rule the modules' ``scrub``
follows: short secrets as whole values only): as the whole value of a password, secret, token,
key or Authorization field (``password: admin``, ``"url_password": "admin"``), as ``LOGIN:secret``
for a ``--login`` (default ``admin``), and in the base64 of ``LOGIN:secret`` (a Basic header).
It is searched for but does not count towards ``--min-secrets``.

Exit status: 0 no hit; 1 hits; 2 usage error, or fewer than ``--min-secrets`` secrets (a scan
that looks for nothing proves nothing). ``--self-test`` plants a secret in a temp file and
checks that it is found and not echoed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import re
import sys
import tempfile
from typing import Dict, Iterable, Iterator, List, Sequence, Set, Tuple

MIN_LEN = 8  # shorter "secrets" (admin) would only produce noise; the doubles mint long keys


def load_secrets(paths: Sequence[str], short: bool = False) -> List[str]:
    """The long secrets of the files (or, with ``short``, the ones under MIN_LEN)."""
    found: List[str] = []
    seen: Set[str] = set()
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            value = line.strip()
            if value and (len(value) < MIN_LEN) == short and value not in seen:
                seen.add(value)
                found.append(value)
    return found


def kind(secret: str) -> str:
    if secret.startswith("glsa_"):
        return "service-account token"
    if secret.startswith("eyJ"):
        return "legacy API key"
    return "password or other secret"


def needles(secrets: Sequence[str]) -> Dict[bytes, int]:
    """Byte patterns to look for, each mapped to the secret's number (1-based)."""
    out: Dict[bytes, int] = {}
    for number, secret in enumerate(secrets, 1):
        raw = secret.encode("utf-8")
        out[raw] = number
        # slurp results and Basic headers carry secrets base64-encoded
        for text in (raw, b"admin:" + raw, b"api_key:" + raw):
            encoded = base64.b64encode(text)
            # the encoding of a prefix is stable only up to the last complete 3-byte group
            stable = encoded[: (len(text) // 3) * 4]
            if len(stable) >= 12:
                out.setdefault(stable, number)
    return out


_WORD = b"0-9A-Za-z_"
_FIELD = rb"(?i:pass(?:word|wd)?|secret|token|key|authorization|credentials?)"


def short_patterns(
    secrets: Sequence[str], first: int, logins: Sequence[str]
) -> List[Tuple["re.Pattern[bytes]", int]]:
    """Regexes for secrets too short to search for bare, numbered from ``first``."""
    out = []
    for number, secret in enumerate(secrets, first):
        raw = re.escape(secret.encode("utf-8"))
        alts = [
            # the whole value of a field whose name says it is a secret
            rb"\b[\w-]*"
            + _FIELD
            + rb"[\w-]*[\"']?\s*[:=]\s*(?:Basic\s+|Bearer\s+)?[\"']?"
            + raw
            + rb"(?!["
            + _WORD
            + rb"])",
        ]
        for login in logins:
            pair = login.encode("utf-8") + b":" + secret.encode("utf-8")
            alts.append(rb"(?<![" + _WORD + rb"])" + re.escape(pair) + rb"(?![" + _WORD + rb"])")
            alts.append(re.escape(base64.b64encode(pair).rstrip(b"=")))
        out.append((re.compile(b"|".join(alts)), number))
    return out


def iter_files(paths: Iterable[str], excluded: Set[str]) -> Iterator[str]:
    for path in paths:
        real = os.path.realpath(path)
        if real in excluded or not os.path.exists(path):
            continue
        if os.path.isfile(path):
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if os.path.realpath(os.path.join(root, d)) not in excluded]
            for name in files:
                full = os.path.join(root, name)
                if os.path.realpath(full) not in excluded and os.path.isfile(full):
                    yield full


def scan_file(
    path: str, patterns: Dict[bytes, int], regexes: Sequence[Tuple["re.Pattern[bytes]", int]] = ()
) -> List[Tuple[int, int]]:
    """(line number, secret number) for every hit in ``path``."""
    hits: List[Tuple[int, int]] = []
    try:
        with open(path, "rb") as handle:
            for lineno, line in enumerate(handle, 1):
                for pattern, number in patterns.items():
                    if pattern in line:
                        hits.append((lineno, number))
                for regex, number in regexes:
                    if regex.search(line):
                        hits.append((lineno, number))
    except OSError as err:
        print(f"leak-scan: cannot read {path}: {err.strerror}", file=sys.stderr)
    return hits


def scan(
    paths: Sequence[str],
    secrets: Sequence[str],
    excluded: Set[str],
    short: Sequence[str] = (),
    logins: Sequence[str] = ("admin",),
) -> Tuple[int, int]:
    patterns = needles(secrets)
    regexes = short_patterns(short, len(secrets) + 1, logins)
    secrets = list(secrets) + list(short)
    files = leaks = 0
    for path in iter_files(paths, excluded):
        files += 1
        for lineno, number in sorted(set(scan_file(path, patterns, regexes))):
            leaks += 1
            print(
                f"LEAK {path}:{lineno}: secret #{number} ({kind(secrets[number - 1])}, "
                f"{len(secrets[number - 1])} characters)"
            )
    return files, leaks


def self_test() -> int:
    secret = "glsa_SelfTestSelfTestSelfTestSelfTe_0badc0de"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.log")
        with open(out, "w", encoding="utf-8") as handle:
            handle.write("clean line\n")
            handle.write(f'"key": "{secret}"\n')
            handle.write(base64.b64encode(secret.encode()).decode() + "\n")
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            leaks = scan([tmp], [secret], set())[1]
    if secret in printed.getvalue():
        print("leak-scan self-test: the report echoed the secret")
        return 1
    if leaks != 2:
        print(f"leak-scan self-test: expected 2 hits, got {leaks}")
        return 1
    # a short password equal to the login: the login alone is no hit, the password forms are
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.log")
        with open(out, "w", encoding="utf-8") as handle:
            handle.write('"login": "admin", "identity": "admin (user)", admin_user admin\n')
            handle.write("url_password=admin\n")
            handle.write('"url_password": "admin"\n')
            handle.write("Authorization: Basic " + base64.b64encode(b"admin:admin").decode() + "\n")
            handle.write("http://admin:admin@127.0.0.1:3000/\n")
            handle.write('"password": "administrator"\n')
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            leaks = scan([tmp], [secret], set(), ["admin"], ["admin"])[1]
    if leaks != 4:
        print(f"leak-scan self-test: short password: expected 4 hits (lines 2-5), got {leaks}:")
        print(printed.getvalue())
        return 1
    # completeness: a key the server minted that the tests did not record is named by place
    other = "glsa_OtherKeyOtherKeyOtherKeyOtherK_12345678"
    with tempfile.TemporaryDirectory() as tmp:
        minted = os.path.join(tmp, "minted")
        with open(minted, "w", encoding="utf-8") as handle:
            handle.write(f"{secret}\n{other}\n")
        with open(minted + ".where", "w", encoding="utf-8") as handle:
            handle.write(
                "t1 POST /api/serviceaccounts/1/tokens\nt2 POST /api/serviceaccounts/2/tokens\n"
            )
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            missing = unrecorded(minted, [secret])
        with contextlib.redirect_stdout(io.StringIO()):
            declared = unrecorded(minted, [secret], ["failed delivery deletes its token"])
    if (
        missing != 1
        or declared != 0
        or other in printed.getvalue()
        or "#2" not in printed.getvalue()
        or "/api/serviceaccounts/2/tokens" not in printed.getvalue()
    ):
        print(
            f"leak-scan self-test: unrecorded key: expected #2 named by its request, got "
            f"{missing}: {printed.getvalue()!r}"
        )
        return 1
    print(
        "leak-scan self-test: planted secret found (raw and base64), never echoed; a short "
        "password is found as a value, in user:password and in base64, not as a login; an "
        "unrecorded key is named by its place, never echoed"
    )
    return 0


def read_lines(path: str) -> List[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return [line for line in handle.read().splitlines() if line.strip()]
    except FileNotFoundError:
        return []


def unrecorded(minted_file: str, secrets: Sequence[str], discarded: Sequence[str] = ()) -> int:
    """How many keys the server minted that the tests did not record (printed, never echoed).

    ``<minted_file>.where``, when it has one line per key (the server's request log: time,
    method, path of each mint, in order), says when and where each unrecorded key was minted.
    ``discarded`` are the tests' declarations of keys nobody can know (one reason a key): that
    many unrecorded keys are accepted.
    """
    minted = load_secrets([minted_file])
    recorded = set(secrets)
    missing = [number for number, key in enumerate(minted) if key not in recorded]
    if len(missing) <= len(discarded):
        print(
            f"leak-scan: the tests recorded {len(minted) - len(missing)} of the {len(minted)} "
            f"keys the server minted; {len(discarded)} declared as known to nobody"
            + "".join(f"\nleak-scan:   declared: {reason}" for reason in discarded)
        )
        return 0
    kinds = ", ".join(sorted({kind(minted[n]) for n in missing}))
    print(
        f"leak-scan: the tests recorded {len(minted) - len(missing)} of the {len(minted)} keys "
        f"the server minted; {len(missing)} ({kinds}) were never recorded, so the scan could "
        "not look for them: record them (setup_grafana tasks_from: record)"
    )
    where = read_lines(minted_file + ".where")
    if discarded:
        print(
            f"leak-scan:   ({len(discarded)} declared as known to nobody: {'; '.join(discarded)})"
        )
    for number in missing:
        place = where[number] if len(where) == len(minted) else "(no request log)"
        print(f"leak-scan:   minted key #{number + 1} was not recorded: {place}")
    return len(missing)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument(
        "--secrets", action="append", default=[], help="file with one secret a line"
    )
    parser.add_argument("--exclude", action="append", default=[], help="path not to scan")
    parser.add_argument("--min-secrets", type=int, default=1)
    parser.add_argument(
        "--login",
        action="append",
        default=[],
        help="a login a short secret is paired with (default: admin)",
    )
    parser.add_argument(
        "--expect-recorded",
        metavar="FILE",
        help="keys the server minted (one a line): each must be in --secrets",
    )
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.secrets or not args.paths:
        parser.error("give --secrets FILE and at least one PATH")
    secrets = load_secrets(args.secrets)
    short = load_secrets(args.secrets, short=True)
    floor = args.min_secrets
    if args.expect_recorded:  # the completeness check below proves more than a count
        floor = min(floor, len(load_secrets([args.expect_recorded])))
    if len(secrets) < floor:
        print(
            f"leak-scan: only {len(secrets)} secret(s) recorded in {', '.join(args.secrets)} "
            f"(need {floor}): the tests did not record what they minted, so the "
            "scan would prove nothing"
        )
        return 2
    discarded = [line for path in args.secrets for line in read_lines(path + ".discarded")]
    if args.expect_recorded and unrecorded(args.expect_recorded, secrets, discarded):
        return 2
    excluded = {os.path.realpath(p) for p in args.secrets + args.exclude}
    files, leaks = scan(args.paths, secrets, excluded, short, args.login or ["admin"])
    kinds = sorted({kind(s) for s in secrets})
    extra = f" + {len(short)} short one(s) matched as values only" if short else ""
    print(
        f"leak-scan: {len(secrets)} secrets ({', '.join(kinds)}){extra} searched in {files} "
        f"files: {leaks} hit(s)"
    )
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
