"""The surface's HTML: rendered from template files only, and escaped wherever a value
comes from a visitor or a configuration."""

from __future__ import annotations

import ast
import re
import string
import time
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import html5lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_mw.endpoints import pages
from optout_mw.endpoints.pages import Html, fill

from .test_endpoints_support import (
    PAGE,
    choice_cookie,
    config,
    decide,
    endpoints_for,
    post,
    request,
)

NOW = time.time()
PACKAGE = Path(pages.__file__).resolve().parent
PARTS = resources.files("optout_mw").joinpath("templates/parts")
SAME_ORIGIN = {"host": "shop.test", "origin": "https://shop.test", "sec-fetch-site": "same-origin"}
# A start tag, an end tag, a comment or a doctype: markup, in any string of the code.
MARKUP = re.compile(r"<[A-Za-z!/]")


def string_constants(tree: ast.AST) -> list[tuple[int, str]]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize("module", sorted(p.name for p in PACKAGE.glob("*.py")))
def test_no_markup_in_python_strings(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    found = [(line, text) for line, text in string_constants(tree) if MARKUP.search(text)]
    assert found == []


def test_the_check_sees_markup() -> None:
    tree = ast.parse('"""<p>docs may show markup</p>"""\nX = "<p>" + f"<b>{1}</b>"\n')
    assert [text for _, text in string_constants(tree) if MARKUP.search(text)] == [
        "<p>", "<b>", "</b>"
    ]


def test_every_part_file_is_loaded_and_valid() -> None:
    files = {entry.name.removesuffix(".html") for entry in PARTS.iterdir()
             if entry.name.endswith(".html")}
    assert files == set(pages.PART_NAMES)
    for name in files:
        template = string.Template(PARTS.joinpath(name + ".html").read_text(encoding="utf-8"))
        assert template.is_valid(), name


def test_fill_escapes_text_and_keeps_rendered_parts() -> None:
    template = string.Template('<a href="$href">$text</a>$part_html')
    out = fill(template, {"href": '/x"onclick="y', "text": "<b>&amp;'",
                          "part_html": Html("<i>ok</i>")})
    assert out == '<a href="/x&quot;onclick=&quot;y">&lt;b&gt;&amp;amp;&#x27;</a><i>ok</i>'
    assert isinstance(out, Html)
    # A str that merely looks like markup is text.
    assert fill(string.Template("$v"), {"v": "<i>no</i>"}) == "&lt;i&gt;no&lt;/i&gt;"


def parse_strict(body: bytes) -> None:
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(body)


HOSTILE_PATH = "/privacy\"><script>alert(1)</script><a x='"


def test_hostile_page_path_is_escaped_on_every_page() -> None:
    cfg = config(optout_page_path=HOSTILE_PATH)
    surface = endpoints_for(cfg)
    opted_out = choice_cookie(True, NOW - 86400)
    choices = surface.handle(request(path=HOSTILE_PATH, headers={"cookie": opted_out}),
                             decide(cfg, cookie=opted_out), NOW)
    step = surface.handle(
        request("POST", HOSTILE_PATH, body=b"action=opt-in", headers={
            **SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded",
            "cookie": opted_out}),
        decide(cfg, cookie=opted_out), NOW)
    error = surface.handle(request("POST", HOSTILE_PATH, body=b"action=x", headers={
        "content-type": "application/x-www-form-urlencoded"}), decide(cfg), NOW)
    unsaved_cfg = config(optout_page_path=HOSTILE_PATH, read_site_cookie=False)
    unsaved = endpoints_for(unsaved_cfg).handle(
        request("POST", HOSTILE_PATH, body=b"action=opt-out", headers={
            "content-type": "application/x-www-form-urlencoded"}), decide(unsaved_cfg), NOW)
    for response in (choices, step, error, unsaved):
        assert response.status in (200, 400), response.body
        body = response.body.decode()
        assert "<script>" not in body
        assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;a x=&#x27;" in body
        parse_strict(response.body)


def test_hostile_form_field_names_are_escaped_in_the_error() -> None:
    response = endpoints_for(config()).handle(
        post("%3Cscript%3Ex%3C%2Fscript%3E=1&%3Cscript%3Ex%3C%2Fscript%3E=2"),
        decide(config()), NOW)
    assert response.status == 400
    body = response.body.decode()
    assert "<script>x" not in body
    assert "The form field &#x27;&lt;script&gt;x&lt;/script&gt;&#x27; was sent twice." in body
    parse_strict(response.body)


def test_next_with_quote_and_ampersand_stays_inside_its_attribute() -> None:
    cfg = config()
    body = endpoints_for(cfg).handle(request(query="next=%2Fa%27b%26c%3D1"), decide(cfg),
                                     NOW).body.decode()
    assert '<input type="hidden" name="next" value="/a&#x27;b&amp;c=1">' in body
    redirect = endpoints_for(cfg).handle(post("action=opt-out&next=%2Fa%27b%26c%3D1"),
                                         decide(cfg), NOW)
    assert redirect.header("Location") == "/a'b&c=1"
    assert 'href="/a&#x27;b&amp;c=1"' in redirect.body.decode()


@settings(max_examples=200, deadline=None)
@given(field=st.text(min_size=1, max_size=40))
def test_any_text_in_an_error_stays_text(field: str) -> None:
    # The field name is echoed in the message; whatever it holds, the page's markup is the
    # template's and the name comes back as text.
    encoded = quote(field, safe="")
    response = endpoints_for(config()).handle(post(f"{encoded}=1&{encoded}=2"),
                                              decide(config()), NOW)
    assert response.status == 400
    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(response.body)
    alert = tree.find(".//p[@role='alert']")
    assert alert is not None
    assert list(alert) == []  # no element inside the message
    assert alert.text == f"The form field {field!r} was sent twice."
    assert [element.tag for element in tree.iter("script")] == []


def test_page_kind_and_title_on_the_result_page(tmp_path: Path) -> None:
    template = tmp_path / "page.html"
    template.write_text("<!DOCTYPE html><title>$title</title><p id=k>$page_kind</p>"
                        "<p id=m>$message</p>$main_html", encoding="utf-8")
    cfg = config(read_site_cookie=False, optout_page_template=str(template))
    body = endpoints_for(cfg).handle(post("action=opt-out"), decide(cfg), NOW).body.decode()
    assert "<title>Your choice could not be saved</title>" in body
    assert "<p id=k>result</p>" in body
    assert "<p id=m>Your choice could not be saved: " in body
    assert f'<a href="{PAGE}">Continue</a>' in body
