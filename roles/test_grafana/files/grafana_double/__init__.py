"""A Grafana HTTP API double for the ``grafana_ops.auth`` test suite.

Standard library only (Python 3.9+). Ships in the collection as part of the ``test_grafana``
role; its reference and its tests are in ``tests/grafana_double/`` of the source repository.

In-process use (the usual way is the command line, ``python -m grafana_double``)::

    from grafana_double import Config, Double, DoubleHTTPServer
    server = DoubleHTTPServer("127.0.0.1", 0, Double(Config(version="11.6")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
"""

from .app import Config, Double
from .profiles import PROFILES, Profile
from .server import DoubleHTTPServer

__all__ = ["Config", "Double", "DoubleHTTPServer", "PROFILES", "Profile"]
