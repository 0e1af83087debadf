"""factory_boy factories for every model of the project's apps, one module per app
(tests/test_factories.py checks that none is missing and that each builds a valid row).
Each factory makes the parents its row needs; a state reached through the services (with its
events and status log) is built by tests/scenarios.py instead."""

from .billing import *  # noqa: F403
from .brokerage import *  # noqa: F403
from .core import *  # noqa: F403
from .members import *  # noqa: F403
from .members import DEFAULT_FEES, make_corporate_number  # noqa: F401
from .orders import *  # noqa: F403
