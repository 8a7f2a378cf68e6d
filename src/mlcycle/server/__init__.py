"""The tracking server: the REST API over a store, for teams (``mlcycle server``).

>>> from mlcycle.server import serve
>>> serve(host="127.0.0.1", port=5000)  # doctest: +SKIP
"""

from mlcycle.server.app import create_app
from mlcycle.server.config import ServerConfig
from mlcycle.server.serve import serve

__all__ = ["ServerConfig", "create_app", "serve"]
