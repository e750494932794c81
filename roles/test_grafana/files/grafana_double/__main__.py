"""Command line: ``PYTHONPATH=roles/test_grafana/files python -m grafana_double [options]``."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Tuple

from .app import Config, Double
from .profiles import DEFAULT_VERSION, PROFILES
from .server import DoubleHTTPServer, run, tls_context


def _admin(text: str) -> Tuple[str, str]:
    login, separator, password = text.partition(":")
    if not separator or not login:
        raise argparse.ArgumentTypeError("expected USER:PASSWORD")
    return login, password


def _sub_path(text: str) -> str:
    text = "/" + text.strip("/")
    return "" if text == "/" else text


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="grafana_double", description="Grafana HTTP API test double."
    )
    cli.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    cli.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    cli.add_argument("--port-file", help="write the port here (atomically) once listening")
    cli.add_argument("--pid-file", help="write the process id here")
    cli.add_argument(
        "--version",
        choices=sorted(PROFILES),
        default=DEFAULT_VERSION,
        help=f"Grafana release to behave like (default {DEFAULT_VERSION})",
    )
    cli.add_argument(
        "--admin",
        type=_admin,
        default=("admin", "admin"),
        metavar="USER:PASSWORD",
        help="server admin credentials (default admin:admin)",
    )
    cli.add_argument(
        "--admin-file",
        metavar="FILE",
        help="read USER:PASSWORD for the server admin from FILE (keeps the password "
        "off the command line, where ps and -vvv logs would show it)",
    )
    cli.add_argument("--cert", help="PEM certificate: serve HTTPS (needs --key)")
    cli.add_argument("--key", help="PEM private key for --cert")
    cli.add_argument(
        "--sub-path",
        type=_sub_path,
        default="",
        help="serve the API under this prefix, e.g. /grafana",
    )
    cli.add_argument("--secrets-file", help="append every minted key and control-API password here")
    cli.add_argument(
        "--disable-basic-auth", action="store_true", help="[auth.basic] enabled = false"
    )
    cli.add_argument(
        "--api-key-max-seconds-to-live",
        type=int,
        default=-1,
        metavar="N",
        help="[auth] api_key_max_seconds_to_live (default -1 = no limit)",
    )
    cli.add_argument(
        "--token-expiration-day-limit",
        type=int,
        default=0,
        metavar="DAYS",
        help="[service_accounts] token_expiration_day_limit (default 0 = none)",
    )
    return cli


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    if args.admin_file:
        with open(args.admin_file, encoding="utf-8") as handle:
            try:
                args.admin = _admin(handle.read().strip())
            except argparse.ArgumentTypeError as err:
                parser().error(f"--admin-file {args.admin_file}: {err}")
    if bool(args.cert) != bool(args.key):
        parser().error("--cert and --key go together")
    config = Config(
        version=args.version,
        admin=args.admin,
        sub_path=args.sub_path,
        secrets_file=args.secrets_file,
        basic_auth_enabled=not args.disable_basic_auth,
        api_key_max_seconds_to_live=args.api_key_max_seconds_to_live,
        token_expiration_day_limit=args.token_expiration_day_limit,
    )
    tls = tls_context(args.cert, args.key) if args.cert else None
    server = DoubleHTTPServer(args.host, args.port, Double(config), tls)
    return run(server, args.port_file, args.pid_file)


if __name__ == "__main__":
    sys.exit(main())
