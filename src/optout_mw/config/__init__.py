"""Configuration: the validated :class:`OptOutConfig` and the sources that build it.

* :mod:`._model` - the frozen dataclass; each field's check and reference text beside it;
  one validation pass that reports every problem at once.
* :mod:`._fields` - field kinds and coercion, shared by the model and the text sources.
* :mod:`._sources` - TOML / environment / mapping / keyword layers, and the operator
  override that beats them all.
* :mod:`._rules` - ``[[rules]]`` tables into :class:`~optout_mw.rules.Rule` objects.
* :mod:`._reference` - the reference table of ``docs/configuration.md``
  (``python -m optout_mw.config`` regenerates it).
"""

from __future__ import annotations

from ._fields import FieldKind as FieldKind
from ._model import MAX_COOKIE_AGE as MAX_COOKIE_AGE
from ._model import Mode as Mode
from ._model import OptOutConfig as OptOutConfig
from ._model import development_config as development_config
from ._reference import config_reference_markdown as config_reference_markdown
from ._rules import rule_from_mapping as rule_from_mapping
from ._sources import DEFAULT_PREFIX as DEFAULT_PREFIX
from ._sources import FORCE_MODE_VARIABLE as FORCE_MODE_VARIABLE
from ._sources import apply_operator_override as apply_operator_override
from ._sources import config_from_env as config_from_env
from ._sources import config_from_mapping as config_from_mapping
from ._sources import config_from_toml as config_from_toml
from ._sources import env_var_name as env_var_name
from ._sources import field_kinds as field_kinds
from ._sources import load_config as load_config
from ._sources import redacted as redacted

__all__ = [
    "DEFAULT_PREFIX",
    "FORCE_MODE_VARIABLE",
    "MAX_COOKIE_AGE",
    "FieldKind",
    "Mode",
    "OptOutConfig",
    "apply_operator_override",
    "config_from_env",
    "config_from_mapping",
    "config_from_toml",
    "config_reference_markdown",
    "development_config",
    "env_var_name",
    "field_kinds",
    "load_config",
    "redacted",
    "rule_from_mapping",
]
