"""Opting back in: consumer-initiated, two steps, CSRF-protected, honest about GPC."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from optout_mw import HONORED_TEXT
from optout_mw.config import OptOutConfig
from optout_mw.decision import Decision
from optout_mw.endpoints import (
    OPT_IN_TOKEN_MAX_AGE,
    ChoiceEvent,
    EndpointResponse,
    Endpoints,
    cross_site_reason,
)
from optout_mw.gpp import encode_gpp, encode_opt_out_gpp, encode_usnat
from optout_mw.signals import SignalKind

from .test_endpoints_support import (
    PAGE,
    attributes,
    choice_cookie,
    config,
    cookie_header,
    decide,
    endpoints_for,
    post,
    request,
    set_cookies,
)

NOW = time.time()
SAME_ORIGIN = {"host": "shop.test", "origin": "https://shop.test", "sec-fetch-site": "same-origin"}


def token_of(response: EndpointResponse) -> str:
    found = re.search(r'name="token" value="([^"]+)"', response.body.decode())
    assert found is not None, response.body.decode()
    return found[1]


class Visitor:
    """A browser: keeps its cookies between requests and may send GPC."""

    def __init__(self, surface: Endpoints, cookie: str, *, gpc: bool = False) -> None:
        self.surface = surface
        self.cookie = cookie
        self.gpc = gpc

    def send(self, body: str, *, now: float = NOW, headers: dict[str, str] | None = None,
             update: bool = True) -> EndpointResponse:
        merged = {**SAME_ORIGIN, "cookie": self.cookie, **(headers or {})}
        if self.gpc:
            merged["sec-gpc"] = "1"
        decision = decide(self.surface.config, gpc=self.gpc, cookie=self.cookie, now=now)
        response = self.surface.handle(post(body, headers=merged), decision, now)
        if update:
            self.cookie = cookie_header(response, self.cookie)
        return response

    def decision(self, now: float = NOW) -> Decision:
        return decide(self.surface.config, gpc=self.gpc, cookie=self.cookie, now=now)


def opted_out_visitor(*, gpc: bool = False, **changes: object) -> Visitor:
    return Visitor(endpoints_for(config(**changes)), choice_cookie(True, NOW - 400 * 86400 + 3600),
                   gpc=gpc)


def test_two_step_opt_in() -> None:
    events: list[ChoiceEvent] = []
    visitor = opted_out_visitor(on_choice=events.append)
    step1 = visitor.send("action=opt-in&next=%2Fshop")
    assert step1.status == 200
    body = step1.body.decode()
    assert "Confirm: allow sale or sharing" in body
    assert "we may sell your personal information" in body
    assert 'value="opt-in-confirm"' in body
    assert '<input type="hidden" name="next" value="/shop">' in body
    assert "No, keep my opt-out" in body
    confirm = set_cookies(step1)["optout_choice_confirm"]
    assert attributes(confirm) == {
        f"Path={PAGE}", "SameSite=Strict", f"Max-Age={OPT_IN_TOKEN_MAX_AGE}", "HttpOnly"
    }
    assert events == []  # a confirmation page is not a choice
    # Nothing changed yet.
    assert decide(visitor.surface.config, cookie=visitor.cookie, now=NOW).opted_out

    step2 = visitor.send(f"action=opt-in-confirm&token={token_of(step1)}&next=%2Fshop",
                         now=NOW + 30)
    assert step2.status == 303
    assert step2.header("Location") == "/shop"
    cookies = set_cookies(step2)
    assert "HttpOnly" in attributes(cookies["optout_choice"])
    assert "Max-Age=0" in attributes(cookies["optout_choice_confirm"])
    after = decide(visitor.surface.config, cookie=visitor.cookie, now=NOW + 60)
    assert after.sale_permitted
    assert after.stored_choice is not None
    assert after.stored_choice.opted_out is False
    assert [(e.kind, e.method, e.signals) for e in events] == [("opt-in", "form", ("site_choice",))]


def test_opt_in_resets_written_us_privacy_and_gpp() -> None:
    visitor = opted_out_visitor(write_us_privacy=True, write_gpp=True)
    visitor.cookie += "; usprivacy=1YYN; __gpp=DBABLA~CVVVAAAAAACY.QA; __gpp_sid=7"
    token = token_of(visitor.send("action=opt-in"))
    done = visitor.send(f"action=opt-in-confirm&token={token}")
    cookies = set_cookies(done)
    assert cookies["usprivacy"].startswith("usprivacy=1YNN;")
    assert "HttpOnly" not in attributes(cookies["usprivacy"])
    assert "Max-Age=0" in attributes(cookies["__gpp"])
    assert "Max-Age=0" in attributes(cookies["__gpp_sid"])
    assert decide(visitor.surface.config, cookie=visitor.cookie).sale_permitted


def test_opt_in_with_gpc_does_not_override_gpc() -> None:
    visitor = opted_out_visitor(gpc=True, write_us_privacy=True)
    step1 = visitor.send("action=opt-in")
    assert "Your browser is sending a Global Privacy Control signal." in step1.body.decode()
    assert "takes effect only when you turn Global Privacy Control off" in step1.body.decode()
    done = visitor.send(f"action=opt-in-confirm&token={token_of(step1)}")
    assert done.status == 303
    # usprivacy is not flipped to "not opted out" while GPC is honoured.
    assert "usprivacy" not in set_cookies(done)
    after = visitor.decision()
    assert after.opted_out_by == (SignalKind.GPC,)
    # The page tells the truth afterwards.
    page = visitor.surface.handle(
        request(headers={"cookie": visitor.cookie, "sec-gpc": "1"}), after, NOW)
    text = page.body.decode()
    assert HONORED_TEXT in text
    assert "still says to opt out, and we honour it" in text


def test_opt_in_json_flow() -> None:
    visitor = opted_out_visitor()
    headers = {"content-type": "application/json", "accept": "application/json"}
    step1 = visitor.send(json.dumps({"action": "opt-in"}), headers=headers)
    assert step1.status == 200
    confirm = json.loads(step1.body)["confirm"]
    assert confirm["expires_in"] == OPT_IN_TOKEN_MAX_AGE
    step2 = visitor.send(json.dumps({"action": "opt-in-confirm", "token": confirm["token"]}),
                         headers=headers)
    assert step2.status == 200
    document = json.loads(step2.body)
    assert document["ok"] is True
    assert document["decision"]["sale_permitted"] is True


def refused(response: EndpointResponse, reason: str) -> None:
    assert response.status == 403
    assert reason in response.body.decode()
    assert "optout_choice" not in set_cookies(response)


def test_token_missing() -> None:
    visitor = opted_out_visitor()
    visitor.send("action=opt-in")
    refused(visitor.send("action=opt-in-confirm"), "the confirmation is missing")
    refused(visitor.send("action=opt-in-confirm&token="), "the confirmation is missing")


def test_token_tampered() -> None:
    visitor = opted_out_visitor()
    token = token_of(visitor.send("action=opt-in"))
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    refused(visitor.send(f"action=opt-in-confirm&token={tampered}"), "not valid")
    refused(visitor.send("action=opt-in-confirm&token=" + "x" * 2000), "not valid")


def test_token_signed_with_another_secret() -> None:
    visitor = opted_out_visitor()
    visitor.send("action=opt-in")
    other = endpoints_for(config(secret_keys=("another-secret-of-enough-length",)))
    foreign = Visitor(other, visitor.cookie)
    token = token_of(foreign.send("action=opt-in", update=False))
    refused(visitor.send(f"action=opt-in-confirm&token={token}"), "not valid")


def test_token_expired() -> None:
    visitor = opted_out_visitor()
    token = token_of(visitor.send("action=opt-in"))
    refused(visitor.send(f"action=opt-in-confirm&token={token}",
                         now=NOW + OPT_IN_TOKEN_MAX_AGE + 1), "expired")


def test_token_from_the_future_is_refused() -> None:
    visitor = opted_out_visitor()
    token = token_of(visitor.send("action=opt-in", now=NOW + 3600))
    refused(visitor.send(f"action=opt-in-confirm&token={token}"), "not valid")


def test_token_just_before_expiry_works() -> None:
    visitor = opted_out_visitor()
    token = token_of(visitor.send("action=opt-in"))
    done = visitor.send(f"action=opt-in-confirm&token={token}",
                        now=int(NOW) + OPT_IN_TOKEN_MAX_AGE)
    assert done.status == 303


def test_token_bound_to_another_visitor() -> None:
    attacker = opted_out_visitor()
    token = token_of(attacker.send("action=opt-in"))
    victim = Visitor(attacker.surface, choice_cookie(True, NOW - 7200))
    refused(victim.send(f"action=opt-in-confirm&token={token}"), "cookie is missing")
    # Even with the attacker's confirmation cookie copied, the victim's choice cookie differs.
    nonce = re.search(r"optout_choice_confirm=([^;]+)", attacker.cookie)
    assert nonce is not None
    victim.cookie += f"; optout_choice_confirm={nonce[1]}"
    refused(victim.send(f"action=opt-in-confirm&token={token}"), "another browser")


def test_token_for_cookieless_visitor_does_not_transfer() -> None:
    s = endpoints_for(config())
    attacker = Visitor(s, "usprivacy=1YYN")
    token = token_of(attacker.send("action=opt-in"))
    victim = Visitor(s, "usprivacy=1YYN")
    refused(victim.send(f"action=opt-in-confirm&token={token}"), "Opting back in was refused")


def test_confirmation_cookie_missing() -> None:
    visitor = opted_out_visitor()
    token = token_of(visitor.send("action=opt-in", update=False))
    refused(visitor.send(f"action=opt-in-confirm&token={token}"), "cookie is missing")


def test_token_is_single_use() -> None:
    visitor = opted_out_visitor()
    token = token_of(visitor.send("action=opt-in"))
    assert visitor.send(f"action=opt-in-confirm&token={token}").status == 303
    # The choice cookie changed, so the same token no longer matches this browser.
    refused(visitor.send(f"action=opt-in-confirm&token={token}"), "Opting back in was refused")


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.test"},
        {"origin": "null"},
        {"origin": "https://shop.test.evil.test"},
        {"origin": "https://shop.test:8443"},
        {"origin": "ftp://shop.test"},
        {"origin": "garbage"},
    ],
)
def test_cross_site_can_never_opt_in(headers: dict[str, str]) -> None:
    visitor = opted_out_visitor()
    token = token_of(visitor.send("action=opt-in"))
    refused(visitor.send(f"action=opt-in-confirm&token={token}", headers=headers),
            "the request was sent from another site")
    refused(visitor.send("action=opt-in", headers=headers),
            "the request was sent from another site")
    assert visitor.decision().opted_out is True


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, None),
        ({"sec-fetch-site": "same-origin"}, None),
        ({"sec-fetch-site": "none"}, None),
        ({"sec-fetch-site": "SAME-ORIGIN"}, None),
        ({"sec-fetch-site": "cross-site"}, "another site"),
        ({"sec-fetch-site": "same-site"}, "another site"),
        ({"origin": "https://shop.test", "host": "shop.test"}, None),
        ({"origin": "http://shop.test", "host": "shop.test"}, None),
        ({"origin": "https://shop.test", "host": "shop.test:443"}, None),
        ({"origin": "http://localhost:8000", "host": "localhost:8000"}, None),
        ({"origin": "http://localhost:8000", "host": "localhost:8001"}, "another site"),
        ({"origin": "http://[::1]:8000", "host": "[::1]:8000"}, None),
        ({"origin": "https://SHOP.test", "host": "shop.test"}, None),
        ({"origin": "https://shop.test", "host": "internal:8080",
          "x-forwarded-host": "shop.test, proxy"}, None),
        ({"origin": "https://evil.test", "host": "shop.test"}, "another site"),
        ({"origin": "https://shop.test@evil.test", "host": "shop.test"}, "another site"),
        ({"origin": "https://shop.test", "host": ""}, "another site"),
        ({"origin": "https://shop.test", "host": "shop.test:x"}, "another site"),
        ({"origin": "https://shop.test:99999999", "host": "shop.test"}, "another site"),
        ({"origin": "null", "host": "shop.test"}, "another site"),
    ],
)
def test_cross_site_reason_table(headers: dict[str, str], reason: str | None) -> None:
    result = cross_site_reason(headers)
    if reason is None:
        assert result is None
    else:
        assert result is not None and reason in result


def test_no_opt_in_offer_for_gpc_only_or_without_keys() -> None:
    cfg = OptOutConfig(read_site_cookie=False, cookie_secure=False)
    s = endpoints_for(cfg)
    visitor = Visitor(s, "")
    refused(visitor.send("action=opt-in"), "not available")


# --- who is offered to opt back in: docs/endpoints.md's table, every combination -------------

DOCS = Path(__file__).resolve().parents[1] / "docs" / "endpoints.md"
_OFFERED = "opt-back-in offered"
_GPC_NOTE = "While it is on, we keep honouring it, even if you opt back in here"


def offer_table() -> list[dict[str, str]]:
    """The rows of the table after ``<!-- opt-in-offer-table -->`` in docs/endpoints.md."""
    after = DOCS.read_text(encoding="utf-8").split("<!-- opt-in-offer-table -->", 1)[1]
    lines: list[list[str]] = []
    for line in after.strip().splitlines():
        if not line.startswith("|"):
            break
        lines.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, _, *rows = lines
    return [dict(zip(header, row, strict=True)) for row in rows]


def documented_offer(case: Mapping[str, str]) -> bool:
    for row in offer_table():
        if all(row[column] == "any" or value in row[column].split(" or ")
               for column, value in case.items()):
            return row[_OFFERED].startswith("yes")
    raise AssertionError(f"no row of docs/endpoints.md's table covers {dict(case)}")


_GPP_NOT_OPTED_OUT = encode_gpp({"usnat": encode_usnat({
    "SaleOptOutNotice": 1, "SaleOptOut": 2, "SharingOptOutNotice": 1, "SharingOptOut": 2,
    "TargetedAdvertisingOptOutNotice": 1, "TargetedAdvertisingOptOut": 2,
    "MspaCoveredTransaction": 2, "MspaOptOutOptionMode": 1, "MspaServiceProviderMode": 2,
})})
_GPP_OPTED_OUT = encode_opt_out_gpp(gpc=False)
# (value in the table, the site writes this cookie, the cookie sent)
_USP = [("none", False, ""), ("none", True, ""), ("N", False, "usprivacy=1YNN"),
        ("N", True, "usprivacy=1YNN"), ("Y (CMP)", False, "usprivacy=1YYN"),
        ("Y (site)", True, "usprivacy=1YYN")]
_GPP = [(label, writes, f"__gpp={gpp[0]}; __gpp_sid={gpp[1]}" if gpp else "")
        for label, writes, gpp in [
            ("none", False, None), ("none", True, None), ("N", False, _GPP_NOT_OPTED_OUT),
            ("N", True, _GPP_NOT_OPTED_OUT), ("Y (CMP)", False, _GPP_OPTED_OUT),
            ("Y (site)", True, _GPP_OPTED_OUT)]]
_CASES = [
    pytest.param(keeps, gpc, choice, usp, gpp,
                 id=f"keeps {keeps}, GPC {gpc}, choice {choice}, usp {usp[0]}"
                    f"{' w' if usp[1] else ''}, gpp {gpp[0]}{' w' if gpp[1] else ''}")
    for keeps, gpc, choice, usp, gpp in itertools.product(
        ["yes", "no"], ["on", "off"], ["none", "opt-out", "opt-in"], _USP, _GPP)
]
_SURFACES: dict[tuple[bool, bool, bool], Endpoints] = {}


@pytest.mark.parametrize(("keeps", "gpc", "choice", "usp", "gpp"), _CASES)
def test_opt_in_offer_follows_the_documented_table(
    keeps: str, gpc: str, choice: str, usp: tuple[str, bool, str], gpp: tuple[str, bool, str]
) -> None:
    key = (keeps == "yes", usp[1], gpp[1])
    if key not in _SURFACES:
        _SURFACES[key] = endpoints_for(config(
            read_site_cookie=key[0], write_us_privacy=key[1], write_gpp=key[2]))
    surface = _SURFACES[key]
    cfg = surface.config
    cookies = [usp[2], gpp[2]]
    if choice != "none":
        cookies.append(choice_cookie(choice == "opt-out", NOW - 86400))
    cookie = "; ".join(part for part in cookies if part)
    decision = decide(cfg, gpc=gpc == "on", cookie=cookie or None)
    # The inputs are what the row says they are, as the middleware reads them.
    kinds = decision.opted_out_by
    assert (SignalKind.SITE_CHOICE in kinds) is (keeps == "yes" and choice == "opt-out")
    assert (SignalKind.US_PRIVACY in kinds) is usp[0].startswith("Y")
    assert (SignalKind.GPP in kinds) is gpp[0].startswith("Y")
    headers = {"cookie": cookie} if cookie else {}
    if gpc == "on":
        headers["sec-gpc"] = "1"
    body = surface.handle(request(headers=headers), decision, NOW).body.decode()
    case = {"keeps choices": keeps, "GPC": gpc, "site choice": choice, "usprivacy": usp[0],
            "GPP": gpp[0]}
    expected = documented_offer(case)
    assert ('value="opt-in"' in body) is expected
    assert surface.can_opt_in(decision) is expected
    assert (_GPC_NOTE in body) is (expected and gpc == "on")


def test_the_documented_table_has_every_column() -> None:
    rows = offer_table()
    assert len(rows) >= 5
    assert set(rows[0]) == {"keeps choices", "GPC", "site choice", "usprivacy", "GPP", _OFFERED}


def test_gpc_only_visitor_is_not_offered_opt_in_after_the_write_back() -> None:
    cfg = config(write_us_privacy=True)
    surface = endpoints_for(cfg)
    first = surface.handle(request(headers={"sec-gpc": "1"}), decide(cfg, gpc=True), NOW)
    assert 'value="opt-in"' not in first.body.decode()
    written = set_cookies(first)["usprivacy"]
    assert written.startswith("usprivacy=1YYN;")
    cookie = cookie_header(first)
    second = surface.handle(request(headers={"sec-gpc": "1", "cookie": cookie}),
                            decide(cfg, gpc=True, cookie=cookie), NOW)
    assert 'value="opt-in"' not in second.body.decode()
    # Once GPC is off, the opt-out the site wrote stays (11 CCR §7025(c)(5)) and the visitor
    # can undo it here: the opt-in resets that cookie.
    later = surface.handle(request(headers={"cookie": cookie}), decide(cfg, cookie=cookie), NOW)
    assert 'value="opt-in"' in later.body.decode()
