"""optout-mw: server-side enforcement of privacy opt-out signals for ASGI and WSGI apps."""

from __future__ import annotations

from .asgi import OptOutASGIMiddleware as OptOutASGIMiddleware
from .config import Mode as Mode
from .config import OptOutConfig as OptOutConfig
from .config import development_config as development_config
from .config import load_config as load_config
from .decision import DECISION_KEY as DECISION_KEY
from .decision import HONORED_TEXT as HONORED_TEXT
from .decision import Decision as Decision
from .errors import ConfigError as ConfigError
from .errors import MiddlewareNotInstalled as MiddlewareNotInstalled
from .errors import OptOutError as OptOutError
from .metrics import Counters as Counters
from .reload import ReloadingConfig as ReloadingConfig
from .request import get_decision as get_decision
from .rules import Action as Action
from .rules import Rule as Rule
from .rules import RuleSet as RuleSet
from .signals import Signal as Signal
from .signals import SignalKind as SignalKind
from .signals import Verdict as Verdict
from .wsgi import OptOutWSGIMiddleware as OptOutWSGIMiddleware

__version__ = "0.1.0"
