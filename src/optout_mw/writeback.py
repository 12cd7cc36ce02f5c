"""The cookies the site writes so that its choice outlives the request: the signed choice
cookie, and the ``usprivacy`` and GPP strings downstream vendors read.

One :class:`WriteBack` is built per configuration. The response path asks it for the
``Set-Cookie`` values of an application's HTML page (:meth:`WriteBack.response_cookies`);
the opt-out page asks it for the cookies of a choice (:meth:`WriteBack.opt_out`,
:meth:`WriteBack.opt_in`). Every cookie attribute is decided here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .config import OptOutConfig
from .cookies import ChoiceCookieCodec, StoredChoice, build_set_cookie
from .decision import Decision
from .signals import SignalKind

#: A stored choice signed longer ago than this is re-signed on the next HTML response.
REFRESH_AFTER: Final = 24 * 3600

#: ``gpc -> (gpp_string, gpp_sid)`` for an opted-out visitor.
GppEncoder = Callable[[bool], tuple[str, str]]


def us_privacy_string(config: OptOutConfig, *, opted_out: bool) -> str:
    """The US Privacy string the site writes: version 1, the configured notice and LSPA
    characters, and ``Y``/``N`` for the opt-out of sale (IAB US Privacy String spec)."""
    return "1" + config.us_privacy_notice + ("Y" if opted_out else "N") + config.us_privacy_lspa


class GppOptOut:
    """The usnat opt-out GPP string and its section ids, encoded once per GPC value (the
    string records whether the visitor sent GPC, so there are two at most)."""

    __slots__ = ("_encode", "_encoded")

    def __init__(self) -> None:
        # Deferred: only sites that write GPP load the GPP encoder.
        from .gpp import encode_opt_out_gpp

        self._encode = encode_opt_out_gpp
        self._encoded: dict[bool, tuple[str, str]] = {}

    def __call__(self, gpc: bool) -> tuple[str, str]:
        found = self._encoded.get(gpc)
        if found is None:
            found = self._encoded[gpc] = self._encode(gpc=gpc, sections=("usnat",))
        return found


@dataclass(frozen=True, slots=True)
class CookieWrite:
    """One cookie set (or deleted) by a response."""

    name: str
    #: The value the browser will send back; ``None`` when the cookie is deleted.
    value: str | None
    #: The ``Set-Cookie`` header value.
    header: str


class WriteBack:
    """The cookies the site writes, for one configuration. Stateless per request.

    :param codec: signs the choice cookie; ``None`` when the site does not keep its own
        choice cookie (``read_site_cookie`` off).
    :param gpp: the GPP opt-out encoder, shared with the stub script; built here when
        ``write_gpp`` is on and none is given.
    """

    __slots__ = ("_usp_in", "_usp_out", "codec", "config", "gpp")

    def __init__(
        self,
        config: OptOutConfig,
        codec: ChoiceCookieCodec | None,
        gpp: GppEncoder | None = None,
    ) -> None:
        self.config = config
        self.codec = codec
        self.gpp: GppEncoder | None = gpp if gpp is not None or not config.write_gpp else (
            GppOptOut()
        )
        self._usp_out = us_privacy_string(config, opted_out=True)
        self._usp_in = us_privacy_string(config, opted_out=False)

    # --- application pages ----------------------------------------------------------------

    def response_cookies(self, decision: Decision, now: float) -> list[str]:
        """``Set-Cookie`` values for an ordinary HTML response of the application.

        * Write-back: a visitor opted out by GPC or by the choice stored on this site gets
          the ``usprivacy`` opt-out (``write_us_privacy``) and the GPP opt-out cookies
          (``write_gpp``) unless the request's own cookies already say opted out, so
          downstream vendors that read them see the opt-out too (GPC explainer §5.3).
        * Refresh: a stored choice signed more than a day ago is re-signed (same choice,
          same ``made_at``), so an active visitor's choice never silently lapses.

        Not for responses of the opt-out surface, which carry their own cookies.
        """
        if not decision.signals:
            return []
        cookies: list[str] = []
        config = self.config
        if not decision.sale_permitted and (config.write_us_privacy or config.write_gpp):
            kinds = decision.opted_out_by
            if SignalKind.GPC in kinds or SignalKind.SITE_CHOICE in kinds:
                if config.write_us_privacy and SignalKind.US_PRIVACY not in kinds:
                    cookies.append(self._script_cookie(config.us_privacy_cookie, self._usp_out))
                if config.write_gpp and SignalKind.GPP not in kinds:
                    cookies.extend(write.header for write in self._gpp_cookies(decision.gpc))
        stored = decision.stored_choice
        if stored is not None and now - stored.signed_at > REFRESH_AFTER:
            refreshed = self.choice_cookie(StoredChoice(stored.opted_out, stored.made_at))
            if refreshed is not None:
                cookies.append(refreshed.header)
        return cookies

    # --- choices made on the opt-out page -------------------------------------------------

    def opt_out(self, *, gpc: bool, now: float) -> list[CookieWrite]:
        """The cookies recording an opt-out made now: the signed choice (when the site
        keeps one), ``usprivacy`` (``write_us_privacy``), the GPP pair (``write_gpp``).
        Empty when the configuration records nothing."""
        config = self.config
        writes: list[CookieWrite] = []
        choice = self.choice_cookie(StoredChoice(opted_out=True, made_at=int(now)))
        if choice is not None:
            writes.append(choice)
        if config.write_us_privacy:
            name = config.us_privacy_cookie
            writes.append(CookieWrite(name, self._usp_out,
                                      self._script_cookie(name, self._usp_out)))
        if config.write_gpp:
            writes.extend(self._gpp_cookies(gpc))
        return writes

    def opt_in(self, *, gpc: bool, now: float) -> list[CookieWrite]:
        """The cookies recording a confirmed opt-in made now: the signed choice and, unless
        GPC is on, the site's own ``usprivacy``/GPP strings reset. While GPC is on the
        decision keeps honouring it, and writing "not opted out" for vendors would
        contradict what the site actually does (11 CCR §7025(c)(1)).

        :raises ValueError: when the site keeps no choice cookie (nothing could record it).
        """
        choice = self.choice_cookie(StoredChoice(opted_out=False, made_at=int(now)))
        if choice is None:
            raise ValueError("an opt-in needs the site's choice cookie (read_site_cookie)")
        writes = [choice]
        config = self.config
        if not gpc:
            if config.write_us_privacy:
                name = config.us_privacy_cookie
                writes.append(CookieWrite(name, self._usp_in,
                                          self._script_cookie(name, self._usp_in)))
            if config.write_gpp:
                writes.extend(self.delete(name) for name in
                              (config.gpp_cookie, config.gpp_sid_cookie))
        return writes

    # --- the cookies themselves -----------------------------------------------------------

    def choice_cookie(self, choice: StoredChoice) -> CookieWrite | None:
        """The signed choice cookie for ``choice``; ``None`` without a codec."""
        if self.codec is None:
            return None
        config = self.config
        value = self.codec.dumps(choice)
        header = build_set_cookie(
            config.choice_cookie_name, value, max_age=config.choice_cookie_max_age,
            secure=config.cookie_secure, http_only=True, same_site="Lax",
        )
        return CookieWrite(config.choice_cookie_name, value, header)

    def delete(self, name: str, *, path: str = "/", http_only: bool = False) -> CookieWrite:
        """A cookie deletion (``Max-Age=0``)."""
        header = build_set_cookie(name, "", max_age=0, path=path,
                                  secure=self.config.cookie_secure, http_only=http_only)
        return CookieWrite(name, None, header)

    def _script_cookie(self, name: str, value: str) -> str:
        # Not HttpOnly: CMPs and vendor scripts read these (USP API.md: "usprivacy" is where
        # "the API library can read it and write to it").
        return build_set_cookie(
            name, value, max_age=self.config.choice_cookie_max_age,
            secure=self.config.cookie_secure, http_only=False, same_site="Lax",
        )

    def _gpp_cookies(self, gpc: bool) -> list[CookieWrite]:
        assert self.gpp is not None  # built whenever write_gpp is on
        gpp, sid = self.gpp(gpc)
        config = self.config
        return [
            CookieWrite(config.gpp_cookie, gpp, self._script_cookie(config.gpp_cookie, gpp)),
            CookieWrite(config.gpp_sid_cookie, sid,
                        self._script_cookie(config.gpp_sid_cookie, sid)),
        ]
