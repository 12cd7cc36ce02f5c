"""The example apps, imported and exercised as a user would."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from examples.flask_app.app import create_app as create_flask_app
from examples.starlette_app.app import create_app as create_starlette_app
from examples.starlette_app.fastapi_app import create_app as create_fastapi_app

VENDORS = re.compile(
    r"googletagmanager|google-analytics|facebook|tiktok|bat\.bing|doubleclick"
)


def vendor_mentions(page: str) -> int:
    return len(VENDORS.findall(page))


def test_flask_example() -> None:
    client = create_flask_app().test_client()
    plain = client.get("/")
    gpc = client.get("/", headers={"Sec-GPC": "1"})
    assert vendor_mentions(plain.text) >= 8
    assert vendor_mentions(gpc.text) == 0
    assert "Recommended for you" in plain.text
    assert "not personalised" in gpc.text
    assert "Opt-Out Request Honored" in gpc.text
    assert 'document.documentElement.dataset.firstParty' in gpc.text
    assert "Do Not Sell or Share My Personal Information" in gpc.text
    ads = client.get("/api/ads", headers={"Sec-GPC": "1"}).get_json()
    assert ads["personalised_ads"] is False


def test_starlette_and_fastapi_examples() -> None:
    for create in (create_starlette_app, create_fastapi_app):
        with TestClient(create()) as client:
            plain = client.get("/")
            gpc = client.get("/", headers={"Sec-GPC": "1"})
            ads = client.get("/api/ads", headers={"Sec-GPC": "1"}).json()
        assert vendor_mentions(plain.text) >= 8
        assert vendor_mentions(gpc.text) == 0, gpc.text
        assert "Opt-Out Request Honored" in gpc.text
        assert ads["personalised_ads"] is False
