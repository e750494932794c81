"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test fetches get-pip-<version>.py from a host this network cannot reach; when
~/.ansible/test/cache/get_pip_<version>.py exists it runs that file instead, with argv like
``--disable-pip-version-check pip==25.2 [setuptools==X wheel==Y] [--no-setuptools] [--no-wheel]``.
This does the same job with the interpreter's own ensurepip plus PyPI.
"""
import subprocess
import sys

args = sys.argv[1:]
no_setuptools = "--no-setuptools" in args
args = [a for a in args if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"],
                      stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--upgrade",
                       "--force-reinstall"] + args)
if no_setuptools:
    subprocess.call([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "setuptools"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
