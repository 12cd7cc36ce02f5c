"""Consent tools' cookies read as signals: a table of real-format values per tool.

The values marked "observed" were taken from public sources (vendor docs, blog posts, and
public code that sends or parses these cookies; docs/cmp.md cites them). Variants (opted
out, truncated, double-encoded) are derived from an observed value in the test itself, so
the change is visible. Whatever the input, a parser never raises and never returns more
than NO_OPT_OUT.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_mw.cmp import (
    CmpReader,
    CmpSettings,
    CookieRule,
    parse_cookie_rule,
    parse_cookiebot,
    parse_didomi,
    parse_fides,
    parse_iubenda,
    parse_ketch,
    parse_onetrust,
    parse_transcend,
)
from optout_mw.cmp.settings import ONETRUST_CATEGORIES
from optout_mw.errors import ConfigError
from optout_mw.signals import Signal, SignalKind, Verdict

OUT, NO, NA, BAD = Verdict.OPT_OUT, Verdict.NO_OPT_OUT, Verdict.NOT_APPLICABLE, Verdict.INVALID


def _b64(record: object) -> str:
    return base64.b64encode(json.dumps(record, separators=(",", ":")).encode()).decode()


def _unb64(value: str) -> object:
    return json.loads(base64.b64decode(value))


# --- OneTrust ---------------------------------------------------------------------------

# Observed: npm @commercetools-frontend/cookie-consent README (C0004 consented).
OT_IN = (
    "isGpcEnabled=0&datestamp=Wed+Feb+01+2023+12%3A35%3A32+GMT%2B0100+(Central+European+Stan"
    "dard+Time)&version=202209.1.0&isIABGlobal=false&hosts=&consentId=7f3cf16d-b3e1-4781-8db"
    "1-61482d0a9dff&interactionCount=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A"
    "0%2CC0003%3A1%2CC0004%3A1%2CC0005%3A1&geolocation=AT%3B9&AwaitingReconsent=false"
)
# Observed: a CCPA template with the "Sale of Personal Data" group refused (SPD_BG:0) and
# C0004 refused, with OneTrust's own GPP cookie beside it.
OT_SALE_OUT = (
    "isGpcEnabled=1&datestamp=Fri+Aug+09+2024+14%3A25%3A23+GMT%2B0400&version=202404.1.0&ho"
    "sts=&GPPCookiesCount=1&groups=C0001%3A1%2CC0003%3A1%2CSPD_BG%3A0%2CC0004%3A0%2CC0002%3A0"
)
# Observed: blog.teknkl.com, OneTrust "Sell my Personal Data" (SPD_BG consented, legacy
# numeric group IDs).
OT_SPD_IN = (
    "isGpcEnabled=0&datestamp=Sat+Jan+13+2024+20%3A24%3A04+GMT-0500+(Eastern+Standard+Time)&v"
    "ersion=202308.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&consentId=5c7582be-2173-4c6"
    "d-b027-5471792054b3&interactionCount=1&landingPath=NotLandingPage&groups=1%3A1%2C3%3A1%2C"
    "SPD_BG%3A1%2C2%3A1%2C4%3A1"
)
# Observed: GPC-flagged visitor whose groups say nothing (the privacy-tech-lab crawler
# counts isGpcEnabled=1 as the opt-out).
OT_GPC = (
    "isGpcEnabled=1&datestamp=Thu+Feb+08+2024+20%3A13%3A01+GMT%2B0545+(Nepal+Time)&version=20"
    "2310.2.0&browserGpcFlag=1&isIABGlobal=false&hosts=&consentId=4f46448b-88ed-4a92-bd87-ee4"
    "2bd527e31&interactionCount=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A1%2CC"
    "0003%3A1%2CC0004%3A0&AwaitingReconsent=false"
)

ONETRUST = [
    pytest.param(OT_IN, NO, id="consented"),
    pytest.param(OT_IN.replace("C0004%3A1", "C0004%3A0"), OUT, id="targeting-refused"),
    pytest.param(OT_SALE_OUT, OUT, id="gpc-and-sale-refused"),
    pytest.param(OT_SALE_OUT.replace("isGpcEnabled=1", "isGpcEnabled=0"), OUT,
                 id="sale-refused"),
    pytest.param(OT_SPD_IN, NO, id="sale-consented-legacy-ids"),
    pytest.param(OT_GPC, OUT, id="gpc-flagged"),
    pytest.param(OT_IN.replace("groups=", "groups=C0004%3A1%2C").replace(
        "C0005%3A1", "C0004%3A0"), OUT, id="duplicate-entry-refusal-wins"),
    pytest.param(OT_IN + "&groups=C0004%3A0", OUT, id="second-groups-refuses"),
    pytest.param(OT_IN[: OT_IN.index("C0004") + 5], BAD, id="truncated-in-groups"),
    pytest.param(OT_IN.replace("C0004%3A1", "C0004%3Ayes"), BAD, id="malformed-flag"),
    pytest.param(quote(OT_IN, safe=""), NO, id="double-encoded"),
    pytest.param(quote(OT_IN.replace("C0004%3A1", "C0004%3A0"), safe=""), OUT,
                 id="double-encoded-refused"),
    pytest.param("isGpcEnabled=0&groups=C0001%3A1%2CC0002%3A1", NA, id="no-targeting-group"),
    pytest.param("isGpcEnabled=0&version=6.38.0", NA, id="no-groups"),
    pytest.param("garbage", BAD, id="not-form-encoded"),
    pytest.param("", BAD, id="empty"),
    pytest.param("x" * 9000, BAD, id="too-long"),
]


@pytest.mark.parametrize(("value", "verdict"), ONETRUST)
def test_onetrust(value: str, verdict: Verdict) -> None:
    signal = parse_onetrust(value, ONETRUST_CATEGORIES, "2025-11-04T14:39:00.778Z")
    assert signal.kind is SignalKind.ONETRUST
    assert signal.verdict is verdict, signal.reason


def test_onetrust_reason_says_whether_the_visitor_chose() -> None:
    closed = parse_onetrust(OT_IN, ONETRUST_CATEGORIES, "2025-11-04T14:39:00.778Z")
    defaults = parse_onetrust(OT_IN, ONETRUST_CATEGORIES, None)
    assert closed.reason == "OneTrust categories C0004 consented by the visitor"
    assert defaults.reason == (
        "OneTrust categories C0004 consented (banner defaults, not yet closed)")


def test_onetrust_categories_are_configurable() -> None:
    # Legacy numeric IDs: group 4 was targeting before OneTrust's C000x names.
    legacy_out = OT_SPD_IN.replace("4%3A1", "4%3A0")
    assert parse_onetrust(legacy_out, ("4",)).verdict is OUT
    assert parse_onetrust(legacy_out, ONETRUST_CATEGORIES).verdict is NO


# --- Cookiebot --------------------------------------------------------------------------

# Observed (public request samples): an explicit refusal, region 'ae'; an explicit full
# consent, ver 2; the region -1 value Cookiebot's server-side example handles.
CB_OUT = (
    "{stamp:%27G+6rYDfrzwrZItFRfHCbe8iQIFLhMDCgjBS+/Oq/gZe0Lovh65ODgg==%27%2Cnecessary:true%2"
    "Cpreferences:false%2Cstatistics:false%2Cmarketing:false%2Cmethod:%27explicit%27%2Cver:1%"
    "2Cutc:1705162226478%2Cregion:%27ae%27}"
)
CB_IN = (
    "{stamp:%276cM/oZqcGG9XwjaY233NxjKQb+Q5stoA2O6VFtUdMLKxhbXtCgp0xQ==%27%2Cnecessary:true%2"
    "Cpreferences:true%2Cstatistics:true%2Cmarketing:true%2Cmethod:%27explicit%27%2Cver:2%2Cu"
    "tc:1745622155764%2Cregion:%27nz%27}"
)
# Observed: the plain (not percent-encoded) form, with TCF strings inside quotes.
CB_PLAIN_OUT = (
    "{stamp:'IupX8H2MQByHJ6OkV6tV5h07Jfa3CdZW37eiTq4xeq152kyW7v/zTQ==',necessary:true,"
    "preferences:false,statistics:false,marketing:false,method:'explicit',ver:1,"
    "utc:1729950414219,region:'it'}"
)

COOKIEBOT = [
    pytest.param(CB_OUT, OUT, id="refused"),
    pytest.param(CB_IN, NO, id="consented"),
    pytest.param(CB_PLAIN_OUT, OUT, id="plain-refused"),
    pytest.param(CB_IN.replace("method:%27explicit%27", "method:%27implied%27"), NO,
                 id="implied-consent"),
    pytest.param("-1", NA, id="region-without-consent"),
    pytest.param(quote(CB_OUT, safe=""), OUT, id="double-encoded"),
    pytest.param(CB_OUT[:60], BAD, id="truncated"),
    pytest.param(CB_IN.replace("marketing:true", "marketing:maybe"), BAD, id="malformed-flag"),
    pytest.param("{stamp:'marketing:false',necessary:true}", BAD, id="key-inside-quotes-only"),
    pytest.param(CB_IN.replace("%2Cmarketing:true", "%2Cmarketing:true%2Cmarketing:false"),
                 OUT, id="duplicate-key-refusal-wins"),
    pytest.param("{stamp:'x,necessary:true}", BAD, id="unbalanced-quote"),
    pytest.param("accepted", BAD, id="not-an-object"),
]


@pytest.mark.parametrize(("value", "verdict"), COOKIEBOT)
def test_cookiebot(value: str, verdict: Verdict) -> None:
    signal = parse_cookiebot(value)
    assert signal.kind is SignalKind.COOKIEBOT
    assert signal.verdict is verdict, signal.reason


# --- iubenda ----------------------------------------------------------------------------

# Observed: purposes 1, 3, 4 consented, 5 not configured on that site.
IUB_NO_5 = (
    "%7B%22timestamp%22%3A%222025-02-05T15%3A40%3A00.391Z%22%2C%22version%22%3A%221.75.1%22%2"
    "C%22purposes%22%3A%7B%221%22%3Atrue%2C%223%22%3Atrue%2C%224%22%3Atrue%7D%2C%22id%22%3A50"
    "053366%2C%22cons%22%3A%7B%22rand%22%3A%22157518%22%7D%7D"
)
# Observed: the single-consent form.
IUB_CONSENT = (
    "%7B%22consent%22%3Atrue%2C%22timestamp%22%3A%222023-10-12T16%3A03%3A31.031Z%22%2C%22ver"
    "sion%22%3A%221.51.0%22%2C%22id%22%3A71185313%2C%22cons%22%3A%7B%22rand%22%3A%221438b8%22"
    "%7D%7D"
)
# Observed: the US preference cookie of a visitor who did not opt out (usprivacy 1YN-).
IUB_US = "%7B%22s%22%3Atrue%2C%22sh%22%3Atrue%2C%22adv%22%3Atrue%7D"
IUB_5_OUT = IUB_NO_5.replace("%224%22%3Atrue", "%224%22%3Atrue%2C%225%22%3Afalse")

IUBENDA = [
    pytest.param("_iub_cs-50053366", IUB_NO_5, NA, id="purpose-5-absent"),
    pytest.param("_iub_cs-50053366", IUB_5_OUT, OUT, id="purpose-5-refused"),
    pytest.param("_iub_cs-50053366", IUB_5_OUT.replace("%225%22%3Afalse", "%225%22%3Atrue"),
                 NO, id="purpose-5-consented"),
    pytest.param("_iub_cs-71185313", IUB_CONSENT, NO, id="single-consent"),
    pytest.param("_iub_cs-71185313", IUB_CONSENT.replace("Atrue", "Afalse"), OUT,
                 id="single-consent-refused"),
    pytest.param("_iub_cs-90483436-uspr", IUB_US, NO, id="us-allowed"),
    pytest.param("_iub_cs-90483436-uspr", IUB_US.replace("%22s%22%3Atrue", "%22s%22%3Afalse"),
                 OUT, id="us-sale-refused"),
    pytest.param("_iub_cs-90483436-uspr", "%7B%7D", NA, id="us-empty"),
    pytest.param("_iub_cs-90483436", "%7B%22id%22%3A90483436%7D", NA, id="no-choice-yet"),
    pytest.param("_iub_cs-50053366", quote(IUB_5_OUT, safe=""), OUT, id="double-encoded"),
    pytest.param("_iub_cs-50053366", IUB_5_OUT[:80], BAD, id="truncated"),
    pytest.param("_iub_cs-50053366", IUB_NO_5.replace("%224%22%3Atrue", "%225%22%3A1"), BAD,
                 id="malformed-flag"),
    pytest.param("_iub_cs-50053366", "%7B%22purposes%22%3A%5B%5D%7D", BAD,
                 id="purposes-not-an-object"),
]


@pytest.mark.parametrize(("name", "value", "verdict"), IUBENDA)
def test_iubenda(name: str, value: str, verdict: Verdict) -> None:
    signal = parse_iubenda(name, value, ("5",), ("s", "sh", "adv"))
    assert signal.kind is SignalKind.IUBENDA
    assert signal.verdict is verdict, signal.reason


# --- Didomi -----------------------------------------------------------------------------

# Observed: "refuse all" (only disabled lists), and a partial choice, and a token written
# before any choice (version null).
DID_REFUSE_ALL = (
    "eyJ1c2VyX2lkIjoiMTkxOTJiMDItZjBhNC02NjllLTliMzItZTU4MzI5ZjhlMmE3IiwiY3JlYXRlZCI6IjIwMjQt"
    "MDgtMjdUMDc6MTU6MDUuNjEwWiIsInVwZGF0ZWQiOiIyMDI0LTA4LTI3VDA3OjUyOjQwLjM1MloiLCJ2ZXJzaW9u"
    "IjoyLCJwdXJwb3NlcyI6eyJkaXNhYmxlZCI6WyJnZW9sb2NhdGlvbl9kYXRhIiwiZGV2aWNlX2NoYXJhY3Rlcmlz"
    "dGljcyJdfSwidmVuZG9ycyI6eyJkaXNhYmxlZCI6WyJnb29nbGUiLCJjOmxpbmtlZGluLW1hcmtldGluZy1zb2x1"
    "dGlvbnMiLCJjOm1peHBhbmVsIiwiYzphYnRhc3R5LUxMa0VDQ2o4IiwiYzpob3RqYXIiLCJjOmJlYW1lci1IN3Ry"
    "N0hpeCIsImM6dGVhbGl1bWNvLURWRENkOFpQIiwiYzp0aWt0b2stS1pBVVFMWjkiLCJjOmdvb2dsZWFuYS00VFhu"
    "SmlnUiIsImM6aWRlYWxpc3RhLUx6dEJlcUUzIiwiYzppZGVhbGlzdGEtZmVSRWplMmMiLCJjOmNvbnRlbnRzcXVh"
    "cmUiLCJjOm1pY3Jvc29mdCJdfSwiYWMiOiJBQUFBLkFBQUEifQ=="
)
DID_ACCEPT = (
    "eyJ1c2VyX2lkIjoiMTkyZjY2MGUtYzM1Ni02ZGVlLTliZGItZGJmNmM1YjZjNDJkIiwiY3JlYXRlZCI6IjIwMjQt"
    "MTEtMDRUMDg6NTM6MjAuMDUzWiIsInVwZGF0ZWQiOiIyMDI0LTExLTA0VDA4OjUzOjIyLjUyOFoiLCJ2ZW5kb3Jz"
    "Ijp7ImVuYWJsZWQiOlsiZ29vZ2xlIiwiYzppbnRlcmNvbSIsImM6Ym9vbGktSkFEeUQ4NmUiXX0sInB1cnBvc2Vz"
    "Ijp7ImVuYWJsZWQiOlsiZ2VvbG9jYXRpb25fZGF0YSIsInByZXN0YW5kYSJdfSwidmVyc2lvbiI6MiwiYWMiOiJD"
    "S1dBRUJFa0VVb0EuQUFBQSJ9"
)
DID_NO_CHOICE = (
    "eyJ1c2VyX2lkIjoiMTc0MzY4NjMtYjMzNy02NTRjLThkZjItZTk4NzZlOGZkM2Y2IiwiY3JlYXRlZCI6IjIwMjIt"
    "MDMtMDlUMTk6MjA6NTUuMjQ0WiIsInVwZGF0ZWQiOiIyMDIyLTAzLTA5VDE5OjIwOjU1LjI0NFoiLCJ2ZXJzaW9u"
    "IjpudWxsfQ=="
)


def _didomi_partial() -> str:
    record = _unb64(DID_ACCEPT)
    assert isinstance(record, dict)
    record["vendors"]["disabled"] = ["c:tiktok-KZAUQLZ9"]
    return _b64(record)


DIDOMI = [
    pytest.param(DID_REFUSE_ALL, (), (), OUT, id="refuse-all"),
    pytest.param(DID_ACCEPT, (), (), NO, id="accept-all"),
    pytest.param(DID_NO_CHOICE, (), (), NA, id="no-choice"),
    pytest.param(_didomi_partial(), (), (), NA, id="partial-unconfigured"),
    pytest.param(_didomi_partial(), (), ("c:tiktok-KZAUQLZ9",), OUT, id="configured-vendor-off"),
    pytest.param(_didomi_partial(), (), ("google",), NO, id="configured-vendor-on"),
    pytest.param(DID_ACCEPT, ("prestanda",), (), NO, id="configured-purpose-on"),
    pytest.param(DID_REFUSE_ALL.rstrip("="), (), (), OUT, id="unpadded"),
    pytest.param(DID_REFUSE_ALL.replace("=", "%3D"), (), (), OUT, id="percent-encoded"),
    pytest.param(quote(DID_REFUSE_ALL.replace("=", "%3D"), safe=""), (), (), OUT,
                 id="double-encoded"),
    pytest.param(DID_ACCEPT[:100], (), (), BAD, id="truncated"),
    pytest.param("accepted", (), (), BAD, id="not-base64-json"),
    pytest.param(_b64({"purposes": {"enabled": "all"}}), (), (), BAD, id="malformed-list"),
]


@pytest.mark.parametrize(("value", "purposes", "vendors", "verdict"), DIDOMI)
def test_didomi(value: str, purposes: tuple[str, ...], vendors: tuple[str, ...],
                verdict: Verdict) -> None:
    signal = parse_didomi(value, purposes, vendors)
    assert signal.kind is SignalKind.DIDOMI
    assert signal.verdict is verdict, signal.reason


# --- Ketch ------------------------------------------------------------------------------

# Observed: targeted advertising granted as its own purpose, and mapped into a site's
# "personalisation" purpose.
KETCH_IN = (
    "eyJiZWhhdmlvcmFsX2FkdmVydGlzaW5nIjp7InN0YXR1cyI6ImdyYW50ZWQiLCJjYW5vbmljYWxQdXJwb3NlcyI6"
    "WyJiZWhhdmlvcmFsX2FkdmVydGlzaW5nIl19LCJhbmFseXRpY3MiOnsic3RhdHVzIjoiZ3JhbnRlZCIsImNhbm9u"
    "aWNhbFB1cnBvc2VzIjpbImFuYWx5dGljcyJdfSwiZnVuY3Rpb25hbCI6eyJzdGF0dXMiOiJncmFudGVkIiwiY2Fu"
    "b25pY2FsUHVycG9zZXMiOlsicHJvZF9lbmhhbmNlbWVudCIsInBlcnNvbmFsaXphdGlvbiJdfSwicmVxdWlyZWQi"
    "Onsic3RhdHVzIjoiZ3JhbnRlZCIsImNhbm9uaWNhbFB1cnBvc2VzIjpbImVzc2VudGlhbF9zZXJ2aWNlcyJdfX0%3D"
)
KETCH_MAPPED = (
    "eyJhbmFseXRpY3MiOnsic3RhdHVzIjoiZ3JhbnRlZCIsImNhbm9uaWNhbFB1cnBvc2VzIjpbImFuYWx5dGljcyJd"
    "fSwiZXNzZW50aWFsX3B1cnBvc2VzIjp7InN0YXR1cyI6ImdyYW50ZWQiLCJjYW5vbmljYWxQdXJwb3NlcyI6WyJl"
    "c3NlbnRpYWxfc2VydmljZXMiXX0sInBlcnNvbmFsaXNhdGlvbiI6eyJzdGF0dXMiOiJncmFudGVkIiwiY2Fub25p"
    "Y2FsUHVycG9zZXMiOlsicGVyc29uYWxpemF0aW9uIiwiYmVoYXZpb3JhbF9hZHZlcnRpc2luZyJdfSwicHJvZHVj"
    "dF9lbmhhbmNlbWVudCI6eyJzdGF0dXMiOiJncmFudGVkIiwiY2Fub25pY2FsUHVycG9zZXMiOlsicHJvZF9lbmhh"
    "bmNlbWVudCJdfX0%3D"
)
# Observed: a visitor who consented to essential services only.
KETCH_ESSENTIAL = (
    "eyJlc3NlbnRpYWxfc2VydmljZXMiOnsic3RhdHVzIjoiZ3JhbnRlZCIsImNhbm9uaWNhbFB1cnBvc2VzIjpbImVz"
    "c2VudGlhbF9zZXJ2aWNlcyJdfX0%3D"
)


def _ketch_denied(value: str, code: str) -> str:
    record = _unb64(value.replace("%3D", "="))
    assert isinstance(record, dict)
    record[code]["status"] = "denied"
    return _b64(record)


KETCH = [
    pytest.param(KETCH_IN, (), NO, id="granted"),
    pytest.param(_ketch_denied(KETCH_IN, "behavioral_advertising"), (), OUT, id="denied"),
    pytest.param(KETCH_MAPPED, (), NO, id="granted-through-mapping"),
    pytest.param(_ketch_denied(KETCH_MAPPED, "personalisation"), (), OUT,
                 id="denied-through-mapping"),
    pytest.param(_ketch_denied(KETCH_MAPPED, "analytics"), ("analytics",), OUT,
                 id="configured-code-denied"),
    pytest.param(KETCH_ESSENTIAL, (), NA, id="essential-only"),
    pytest.param(quote(KETCH_IN, safe=""), (), NO, id="double-encoded"),
    pytest.param(KETCH_IN[:50], (), BAD, id="truncated"),
    pytest.param(_b64({"behavioral_advertising": {"status": "maybe",
                                                  "canonicalPurposes": []}}),
                 ("behavioral_advertising",), BAD, id="malformed-status"),
]


@pytest.mark.parametrize(("value", "codes", "verdict"), KETCH)
def test_ketch(value: str, codes: tuple[str, ...], verdict: Verdict) -> None:
    signal = parse_ketch(value, codes, ("behavioral_advertising",))
    assert signal.kind is SignalKind.KETCH
    assert signal.verdict is verdict, signal.reason


# --- Transcend --------------------------------------------------------------------------

# Observed: sale refused by default before any prompt; everything refused after a prompt
# (the localStorage record a site mirrors to its cookie).
TCM_DEFAULT = (
    '{"purposes":{"Advertising":"Auto","Functional":"Auto","Analytics":"Auto","SaleOfInfo":fa'
    'lse},"timestamp":"2024-12-09T09:42:29.629Z","confirmed":false,"prompted":false,"updated"'
    ':false}'
)
TCM_ACCEPT = (
    '{"purposes":{"SaleOfInfo":true,"Analytics":true,"Functional":true,"Advertising":true},"t'
    'imestamp":"2025-12-06T19:14:24.403Z","confirmed":true,"prompted":true,"updated":true}'
)

TRANSCEND = [
    pytest.param(TCM_DEFAULT, OUT, id="sale-refused-by-default"),
    pytest.param(TCM_ACCEPT, NO, id="accepted"),
    pytest.param(TCM_ACCEPT.replace('"Advertising":true', '"Advertising":false'), OUT,
                 id="advertising-refused"),
    pytest.param(TCM_DEFAULT.replace('"SaleOfInfo":false', '"SaleOfInfo":"Auto"'), NA,
                 id="all-auto"),
    pytest.param(quote(TCM_DEFAULT, safe=""), OUT, id="percent-encoded"),
    pytest.param(quote(quote(TCM_DEFAULT, safe=""), safe=""), OUT, id="double-encoded"),
    pytest.param(TCM_ACCEPT[:40], BAD, id="truncated"),
    pytest.param(TCM_ACCEPT.replace('"SaleOfInfo":true', '"SaleOfInfo":"yes"'), BAD,
                 id="malformed-flag"),
    pytest.param('{"timestamp":"2025"}', BAD, id="no-purposes"),
]


@pytest.mark.parametrize(("value", "verdict"), TRANSCEND)
def test_transcend(value: str, verdict: Verdict) -> None:
    signal = parse_transcend(value, ("SaleOfInfo", "Advertising"))
    assert signal.kind is SignalKind.TRANSCEND
    assert signal.verdict is verdict, signal.reason


# --- Fides ------------------------------------------------------------------------------

# Observed: a US visitor with targeted advertising accepted and Fides' GPP string beside
# it; an EU visitor who rejected everything (TCF string only).
FIDES_US = (
    "%7B%22consent%22%3A%7B%22targeted_advertising_gpp_us_national%22%3Atrue%7D%2C%22identity"
    "%22%3A%7B%22fides_user_device_id%22%3A%226f44ab3a-1f2c-49e2-bc38-d00b3ffdb445%22%7D%2C%22"
    "fides_meta%22%3A%7B%22version%22%3A%220.9.0%22%2C%22createdAt%22%3A%222025-09-12T19%3A54%"
    "3A45.683Z%22%2C%22updatedAt%22%3A%222025-09-12T19%3A54%3A47.236Z%22%2C%22consentMethod%2"
    "2%3A%22script%22%7D%2C%22tcf_consent%22%3A%7B%7D%2C%22fides_string%22%3A%22%2C%2CDBABLA~B"
    "VQqAAAAAABo.QA%22%7D"
)
FIDES_REJECT = (
    "%7B%22consent%22%3A%7B%7D%2C%22identity%22%3A%7B%22fides_user_device_id%22%3A%22668c5683"
    "-4792-4e7c-8492-e3d72d6c23d3%22%7D%2C%22fides_meta%22%3A%7B%22version%22%3A%220.9.0%22%2C"
    "%22consentMethod%22%3A%22reject%22%7D%2C%22tcf_consent%22%3A%7B%7D%2C%22fides_string%22%3"
    "A%22CQXOGEAQXOGEAGXABBENB6FgAAAAAAAAAAAAAAAUAQiyA0CQ%22%7D"
)


def _fides(consent: dict[str, object], method: str = "save", gpp: str = "") -> str:
    record = {"consent": consent, "fides_meta": {"version": "0.9.0", "consentMethod": method},
              "fides_string": f",,{gpp}"}
    return quote(json.dumps(record, separators=(",", ":")), safe="")


FIDES = [
    pytest.param(FIDES_US, NO, id="us-accepted"),
    pytest.param(FIDES_US.replace("national%22%3Atrue", "national%22%3Afalse"), OUT,
                 id="us-refused"),
    pytest.param(FIDES_REJECT, OUT, id="reject-all"),
    pytest.param(_fides({"data_sales_and_sharing": False}), OUT, id="sale-notice-refused"),
    pytest.param(_fides({"analytics": False}), NA, id="other-notice-only"),
    pytest.param(_fides({}, method="gpc"), OUT, id="gpc-applied"),
    # usnat (section 7) with the opt-outs set: encode_opt_out_gpp(sections=("usnat",)).
    pytest.param(_fides({}, gpp="DBABLA~CVVVAAAAAACY.QA"), OUT, id="gpp-opted-out"),
    # Observed in the US sample above: usnat without opt-outs.
    pytest.param(_fides({}, gpp="DBABLA~BVQqAAAAAABo.QA"), NO, id="gpp-not-opted-out"),
    pytest.param(quote(FIDES_US, safe=""), NO, id="double-encoded"),
    pytest.param(FIDES_US[:90], BAD, id="truncated"),
    pytest.param(_fides({"targeted_advertising": "no"}), BAD, id="malformed-flag"),
]


@pytest.mark.parametrize(("value", "verdict"), FIDES)
def test_fides(value: str, verdict: Verdict) -> None:
    signal = parse_fides(value, (), ("data_sales", "targeted_advertising"))
    assert signal.kind is SignalKind.FIDES
    assert signal.verdict is verdict, signal.reason


def test_fides_gpp_sample_is_what_the_gpp_decoder_says() -> None:
    from optout_mw.gpp import GppOutcome, encode_opt_out_gpp, gpp_verdict

    opted_out, _sid = encode_opt_out_gpp(gpc=False, sections=("usnat",))
    assert gpp_verdict(opted_out, None).outcome is GppOutcome.OPTED_OUT
    assert parse_fides(_fides({}, gpp=opted_out), (), ()).verdict is OUT


# --- the site's own cookie rules --------------------------------------------------------

RULES = [
    pytest.param(CookieRule(name="acme_optout", value="1"), "1", OUT, id="exact"),
    pytest.param(CookieRule(name="acme_optout", value="1"), "0", NA, id="exact-other"),
    pytest.param(CookieRule(name="acme_optout", pattern=r"(?i)true|yes|1"), "YES", OUT,
                 id="pattern"),
    pytest.param(CookieRule(name="acme_optout", pattern=r"1"), "10", NA, id="pattern-is-full"),
    pytest.param(CookieRule(name="prefs", field="ads.optout", value="true"),
                 quote('{"ads":{"optout":true}}'), OUT, id="json-field"),
    pytest.param(CookieRule(name="prefs", field="ads.optout", value="true"),
                 '{"ads":{"optout":false}}', NA, id="json-field-false"),
    pytest.param(CookieRule(name="prefs", field="list.1", value="out"),
                 '{"list":["in","out"]}', OUT, id="json-list-index"),
    pytest.param(CookieRule(name="prefs", field="ads.optout", value="true"),
                 '{"ads":', BAD, id="json-truncated"),
    pytest.param(CookieRule(name="prefs", field="missing", value="1"), '{"a":1}', NA,
                 id="json-missing"),
    pytest.param(CookieRule(name="prefs", field="sale", value="0"), "sale=0&ads=1", OUT,
                 id="form-field"),
    pytest.param(CookieRule(name="prefs", field="sale", value="0", format="form"),
                 quote("sale=0&ads=1", safe=""), OUT, id="form-double-encoded"),
    pytest.param(CookieRule(name="prefs", field="sale", value="0"), "nothing", NA,
                 id="form-without-the-field"),
    pytest.param(CookieRule(name="prefs", field="sale", value="0", format="form"), "", BAD,
                 id="form-empty"),
]


@pytest.mark.parametrize(("rule", "value", "verdict"), RULES)
def test_cookie_rule(rule: CookieRule, value: str, verdict: Verdict) -> None:
    signal = parse_cookie_rule(rule, value)
    assert signal.kind is SignalKind.COOKIE_RULE
    assert signal.verdict is verdict, signal.reason
    assert value not in signal.reason or len(value) < 2


def test_cookie_rule_from_mapping_names_keys() -> None:
    rule = CookieRule.from_mapping({"name": "acme", "value": "1", "label": "legacy"},
                                   "cmp_cookie_rules[0]")
    assert parse_cookie_rule(rule, "1").reason == "cookie rule legacy: opted out"
    with pytest.raises(ConfigError) as caught:
        CookieRule.from_mapping({"name": "a b", "valeu": "1", "pattern": "("},
                                "cmp_cookie_rules[3]")
    keys = [key for key, _ in caught.value.problems]
    assert "cmp_cookie_rules[3].valeu" in keys
    with pytest.raises(ConfigError) as caught:
        CookieRule.from_mapping({"name": "a b", "pattern": "("}, "cmp_cookie_rules[3]")
    assert sorted(k for k, _ in caught.value.problems) == [
        "cmp_cookie_rules[3].name", "cmp_cookie_rules[3].pattern"]
    with pytest.raises(ConfigError, match="exactly one"):
        CookieRule(name="a", value="1", pattern="1")


# --- settings ---------------------------------------------------------------------------


def test_settings_are_off_by_default() -> None:
    reader = CmpReader(CmpSettings())
    assert not reader.active
    assert reader.read(f"OptanonConsent={OT_SALE_OUT}; CookieConsent={CB_OUT}") == []


@pytest.mark.parametrize(
    ("kwargs", "key", "message"),
    [
        pytest.param({"enabled": ("onetrsut",)}, "cmp_cookies[0]", "did you mean 'onetrust'",
                     id="typo"),
        pytest.param({"enabled": ("osano",)}, "cmp_cookies[0]", "encrypted", id="osano"),
        pytest.param({"enabled": ("usercentrics",)}, "cmp_cookies[0]", "localStorage",
                     id="usercentrics"),
        pytest.param({"enabled": ("termly",)}, "cmp_cookies[0]", "cmp_cookie_rules",
                     id="termly"),
        pytest.param({"enabled": "onetrust"}, "cmp_cookies", "list of strings", id="bare-str"),
        pytest.param({"enabled": ("onetrust", "onetrust")}, "cmp_cookies", "twice", id="dup"),
        pytest.param({"onetrust_categories": ("",)}, "cmp_onetrust_categories[0]",
                     "non-empty", id="empty-category"),
        pytest.param({"transcend_cookie": "t c"}, "cmp_transcend_cookie", "cookie name",
                     id="cookie-name"),
        pytest.param({"rules": ({"name": "x"},)}, "cmp_cookie_rules[0]", "CookieRule",
                     id="rule-type"),
    ],
)
def test_settings_errors_name_the_key(kwargs: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CmpSettings(**kwargs)  # type: ignore[arg-type]
    assert any(k == key and message in text for k, text in caught.value.problems), (
        caught.value.problems)


# --- the reader -------------------------------------------------------------------------

ALL = CmpSettings(enabled=("onetrust", "cookiebot", "iubenda", "didomi", "ketch",
                           "transcend", "fides"),
                  rules=(CookieRule(name="acme_optout", value="1"),))


def test_reader_reads_every_enabled_cookie_in_order() -> None:
    header = "; ".join([
        f"OptanonConsent={OT_IN}", "OptanonAlertBoxClosed=2025-11-04T14:39:00.778Z",
        f"CookieConsent={CB_IN}", f"_iub_cs-90483436-uspr={IUB_US}",
        "_iub_cs-90483436-granular=%7B%7D", f"didomi_token={DID_ACCEPT}",
        f"_ketch_consent_v1_={KETCH_IN}", f"tcm={TCM_ACCEPT}", f"fides_consent={FIDES_US}",
        "acme_optout=0", "unrelated=1",
    ])
    signals = CmpReader(ALL).read(header)
    assert [s.kind for s in signals] == [
        SignalKind.COOKIEBOT, SignalKind.IUBENDA, SignalKind.DIDOMI, SignalKind.KETCH,
        SignalKind.TRANSCEND, SignalKind.FIDES, SignalKind.COOKIE_RULE, SignalKind.ONETRUST,
    ]
    assert [s.verdict for s in signals] == [NO, NO, NO, NO, NO, NO, NA, NO]
    assert signals[-1].reason.endswith("by the visitor")


def test_reader_an_opt_out_cannot_hide_behind_a_duplicate() -> None:
    header = f'OptanonConsent={OT_IN}; OptanonConsent="{OT_SALE_OUT}"; acme_optout=1'
    signals = CmpReader(ALL).read(header)
    assert sorted(s.verdict for s in signals) == sorted([NO, OUT, OUT])


def test_reader_reads_only_enabled_tools() -> None:
    reader = CmpReader(CmpSettings(enabled=("cookiebot",)))
    signals = reader.read(f"OptanonConsent={OT_SALE_OUT}; CookieConsent={CB_OUT}")
    assert [(s.kind, s.verdict) for s in signals] == [(SignalKind.COOKIEBOT, OUT)]


def test_reader_transcend_cookie_name_is_configurable() -> None:
    reader = CmpReader(CmpSettings(enabled=("transcend",), transcend_cookie="consent_tcm"))
    assert reader.read(f"tcm={TCM_DEFAULT}") == []
    assert reader.read(f"consent_tcm={TCM_DEFAULT}")[0].verdict is OUT


# --- totality ---------------------------------------------------------------------------

PARSERS: list[Callable[[str], Signal]] = [
    lambda v: parse_onetrust(v, ONETRUST_CATEGORIES, None),
    parse_cookiebot,
    lambda v: parse_iubenda("_iub_cs-1", v, ("5",), ("s",)),
    lambda v: parse_iubenda("_iub_cs-1-uspr", v, ("5",), ("s",)),
    lambda v: parse_didomi(v, ("a",), ("b",)),
    lambda v: parse_ketch(v, ("a",), ("behavioral_advertising",)),
    lambda v: parse_transcend(v, ("SaleOfInfo",)),
    lambda v: parse_fides(v, ("a",), ("data_sales",)),
    lambda v: parse_cookie_rule(CookieRule(name="r", field="a.b", value="1"), v),
]

_texts = st.one_of(
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    st.text(max_size=300),
    st.sampled_from([OT_IN, CB_IN, IUB_CONSENT, DID_ACCEPT, KETCH_IN, TCM_ACCEPT, FIDES_US])
    .flatmap(lambda v: st.integers(0, len(v)).map(lambda n: v[:n])),
)


@settings(max_examples=300, deadline=None)
@given(value=_texts)
def test_parsers_are_total_and_never_grant(value: str) -> None:
    for parse in PARSERS:
        signal = parse(value)
        assert isinstance(signal, Signal)
        assert signal.verdict in (OUT, NO, NA, BAD)
        assert len(signal.reason) < 200


@settings(max_examples=200, deadline=None)
@given(header=st.binary(max_size=600).map(lambda b: b.decode("latin-1")))
def test_reader_is_total(header: str) -> None:
    for signal in CmpReader(ALL).read(header):
        assert isinstance(signal, Signal)


def test_deep_json_is_refused_not_a_crash() -> None:
    deep = '{"purposes":' + "[" * 5000 + "]" * 5000 + "}"
    assert parse_transcend(deep, ("SaleOfInfo",)).verdict is BAD
    deep_b64 = base64.b64encode(("{" + '"a":{' * 100 + "}" * 101).encode()).decode()
    assert parse_ketch(deep_b64, (), ()).verdict is BAD
