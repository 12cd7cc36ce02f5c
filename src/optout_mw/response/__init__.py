"""The response path, protocol-free: eligibility (:mod:`._plan`), content codings
(:mod:`._codecs`), the body pipeline (:mod:`._pipeline`) and the per-response
:class:`ResponseEnforcer` that both adapters drive."""

from __future__ import annotations

from ._codecs import available_encodings as available_encodings
from ._pipeline import BodyPipeline as BodyPipeline
from ._pipeline import Transformer as Transformer
from ._plan import BODY_DIGEST_HEADERS as BODY_DIGEST_HEADERS
from ._plan import HTML_KEEP as HTML_KEEP
from ._plan import NOT_HTML as NOT_HTML
from ._plan import REFUSABLE as REFUSABLE
from ._plan import ResponsePlan as ResponsePlan
from ._plan import SkipReason as SkipReason
from ._plan import is_html as is_html
from ._plan import plan_response as plan_response
from ._plan import refusal as refusal
from .enforcer import UNCHANGED as UNCHANGED
from .enforcer import Refusal as Refusal
from .enforcer import ResponseEnforcer as ResponseEnforcer
from .enforcer import Start as Start
from .enforcer import passes_unchanged as passes_unchanged
