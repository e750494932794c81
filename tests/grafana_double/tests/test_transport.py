"""The process and the wire: CLI flags, port/pid files, signals, keep-alive, HTTPS, sub-path."""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, Tuple

import pytest
import requests
from double_support import DOUBLE_ROOT, Client, DoubleProcess

# --- process lifecycle --------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly(tmp_path: Path, signum: int) -> None:
    pid_file = tmp_path / "double.pid"
    double = DoubleProcess(tmp_path / "run", ["--pid-file", str(pid_file)])
    assert double.port_file.read_text() == str(double.port)  # digits only, no newline
    assert pid_file.read_text().strip() == str(double.process.pid)
    idle = http.client.HTTPConnection("127.0.0.1", double.port, timeout=5)
    idle.request("GET", "/api/health")
    idle.getresponse().read()  # leave this keep-alive connection open on purpose
    assert double.stop(signum) == 0
    assert not double.port_file.exists() and not pid_file.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", double.port), timeout=2).close()
    idle.close()


@pytest.mark.parametrize(
    "args", [["--cert", "x.pem"], ["--admin", "nocolon"], ["--version", "8.0"]]
)
def test_bad_command_lines_exit_2(args: list) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "grafana_double", *args],
        env=dict(os.environ, PYTHONPATH=str(DOUBLE_ROOT)),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and b"usage:" in result.stderr


def find_python39() -> str:
    """A working 3.9 interpreter (pyenv shims may exist without one being selected)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(str(path) for path in pyenv.glob("versions/3.9*/bin/python3"))
    candidates.append(shutil.which("python3.9") or "")
    probe = "import sys; assert sys.version_info[:2] == (3, 9)"
    return next(
        (
            candidate
            for candidate in candidates
            if candidate
            and subprocess.run(
                [candidate, "-c", probe], capture_output=True, timeout=30, check=False
            ).returncode
            == 0
        ),
        "",
    )


def test_runs_on_python_39(tmp_path: Path) -> None:
    python = find_python39()
    if not python:
        pytest.skip(
            "no Python 3.9 interpreter found (python3.9 on PATH or $PYENV_ROOT/versions/3.9*)"
        )
    double = DoubleProcess(tmp_path, ["--version", "11.6"], python=python)
    try:
        client = Client(double.url)
        assert client.call("GET", "/api/health").json()["version"] == "11.6.4"
        key = client.key_for("Admin", "py39")
        assert client.call("GET", "/api/serviceaccounts/search", token=key).status_code == 200
    finally:
        assert double.stop() == 0


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[DoubleProcess, Path]]:
    workdir = tmp_path_factory.mktemp("configured")
    secrets_file = workdir / "secrets.txt"
    double = DoubleProcess(
        workdir,
        [
            "--version",
            "10.4",
            "--admin",
            "root:s3cret:with-colon",
            "--disable-basic-auth",
            "--api-key-max-seconds-to-live",
            "600",
            "--token-expiration-day-limit",
            "2",
            "--secrets-file",
            str(secrets_file),
        ],
    )
    yield double, secrets_file
    assert double.stop() == 0


def test_cli_settings_are_the_reset_state(configured: Tuple[DoubleProcess, Path]) -> None:
    client = Client(configured[0].url, admin=("root", "s3cret:with-colon"))
    client.reset()
    assert client.control("GET", "settings") == {
        "basic_auth_enabled": False,
        "api_key_max_seconds_to_live": 600,
        "token_expiration_day_limit": 2,
        "version": "10.4",
        "database_ok": True,
    }
    assert client.admin("GET", "/api/user").status_code == 401
    client.settings(basic_auth_enabled=True)
    assert client.admin("GET", "/api/user").json()["login"] == "root"
    assert client.call("GET", "/api/user", basic=("admin", "admin")).status_code == 401
    client.reset()
    assert client.admin("GET", "/api/user").status_code == 401


def test_secrets_file_collects_keys_and_passwords(configured: Tuple[DoubleProcess, Path]) -> None:
    double, secrets_file = configured
    client = Client(double.url, admin=("root", "s3cret:with-colon"))
    client.reset()
    client.settings(basic_auth_enabled=True)
    key = client.key_for("Viewer", "filed", ttl=60)
    client.add_user("someone", password="pw-in-file")
    lines = secrets_file.read_text().splitlines()
    assert key in lines and "pw-in-file" in lines


# --- wire behaviour -------------------------------------------------------------------------------


def port_of(grafana: Client) -> int:
    return int(grafana.base_url.rsplit(":", 1)[1])


def test_keep_alive_serves_many_requests_on_one_connection(grafana: Client) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port_of(grafana), timeout=5)
    connection.request("GET", "/api/health")
    first = connection.getresponse()
    first.read()
    sock = connection.sock
    connection.request("GET", "/api/user")  # a 401 must not close the connection either
    second = connection.getresponse()
    second.read()
    connection.request(
        "POST",
        "/api/serviceaccounts",
        body=iter([b'{"name":', b'"chunky"}']),
        headers={"Authorization": "Basic YWRtaW46YWRtaW4=", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    third = connection.getresponse()
    assert third.status == 201 and b"chunky" in third.read()
    assert (first.version, first.status, second.status) == (11, 200, 401)
    assert connection.sock is sock and sock is not None
    connection.close()


def test_concurrent_writes_are_atomic(grafana: Client) -> None:
    account = grafana.create_sa("contended")

    def create(index: int) -> Tuple[int, int]:
        with requests.Session() as session:
            session.trust_env = False
            made = session.post(
                f"{grafana.base_url}/api/serviceaccounts",
                json={"name": f"sa {index}"},
                auth=("admin", "admin"),
                timeout=30,
            )
            token = session.post(
                f"{grafana.base_url}/api/serviceaccounts/{account['id']}/tokens",
                json={"name": "only-one"},
                auth=("admin", "admin"),
                timeout=30,
            )
            return made.status_code, token.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(create, range(48)))
    assert [made for made, _token in results] == [201] * 48, results
    assert sorted(token for _made, token in results) == [200] + [400] * 47, results
    listed = grafana.admin("GET", "/api/serviceaccounts/search").json()["serviceAccounts"]
    assert len({item["id"] for item in listed}) == 49


# --- HTTPS ------------------------------------------------------------------------------------------


def make_certificate(directory: Path) -> Tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: ``cryptography`` if importable, else openssl."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        write_with_cryptography(cert, key)
    except ImportError:
        if not shutil.which("openssl"):
            pytest.skip("neither the cryptography package nor the openssl CLI is available")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    return cert, key


def write_with_cryptography(cert_path: Path, key_path: Path) -> None:
    # Imported here: an ImportError is the signal to fall back to the openssl CLI.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture(scope="module")
def https_double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[DoubleProcess, Path]]:
    workdir = tmp_path_factory.mktemp("https")
    cert, key = make_certificate(workdir)
    double = DoubleProcess(workdir / "run", ["--cert", str(cert), "--key", str(key)])
    yield double, cert
    assert double.stop() == 0


def test_https_serves_the_api(https_double: Tuple[DoubleProcess, Path]) -> None:
    double, cert = https_double
    assert double.url.startswith("https://")
    client = Client(double.url, verify=str(cert))
    client.reset()
    assert client.call("GET", "/api/health").json()["database"] == "ok"
    key = client.key_for("Viewer", "tls")
    assert client.call("GET", "/api/org", token=key).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        Client(double.url).call("GET", "/api/health")  # untrusted without the CA


def test_plain_http_to_the_https_port_gets_no_api_answer(
    https_double: Tuple[DoubleProcess, Path],
) -> None:
    double = https_double[0]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{double.port}/api/health", timeout=5)
    follow_up = Client(double.url, verify=str(https_double[1])).call("GET", "/api/health")
    assert follow_up.status_code == 200  # a failed handshake does not hurt the server


# --- sub-path ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sub_path_double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DoubleProcess]:
    double = DoubleProcess(tmp_path_factory.mktemp("subpath"), ["--sub-path", "/grafana/"])
    yield double
    assert double.stop() == 0


@pytest.fixture
def sub_path(sub_path_double: DoubleProcess) -> Client:
    client = Client(sub_path_double.url + "/grafana")
    client.reset()
    return client


def test_api_lives_under_the_prefix(sub_path: Client) -> None:
    root = Client(sub_path.base_url.rsplit("/grafana", 1)[0])
    assert sub_path.call("GET", "/api/health").status_code == 200
    for path in ("/api/health", "/grafanax/api/health", "/"):
        outside = root.admin("GET", path)
        assert (outside.status_code, outside.content) == (404, b'{"message":"Not found"}\n')
    assert (
        root.control("GET", "settings")["version"] == "12.2"
    )  # control API answers at the root too
    key = sub_path.key_for("Editor", "behind-proxy")
    saved = sub_path.call(
        "POST", "/api/dashboards/db", token=key, json={"dashboard": {"title": "Sub", "uid": "s1"}}
    )
    assert saved.json()["url"] == "/grafana/d/s1/sub"
    paths = [entry["path"] for entry in sub_path.control("GET", "requests")]
    assert paths[0] == "/grafana/api/health" and "/api/health" in paths


def test_faults_match_below_the_prefix(sub_path: Client) -> None:
    sub_path.control("POST", "faults", {"path": "/api/health", "status": 502})
    assert sub_path.call("GET", "/api/health").status_code == 502
    assert sub_path.call("GET", "/api/health").status_code == 200


def test_many_clients_in_threads_share_one_double(grafana: Client) -> None:
    errors = []

    def worker() -> None:
        try:
            with requests.Session() as session:
                session.trust_env = False
                for _position in range(20):
                    assert session.get(f"{grafana.base_url}/api/health").status_code == 200
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _position in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(grafana.control("GET", "requests")) == 160
