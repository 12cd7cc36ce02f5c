"""URL host and path extraction, following the WHATWG URL standard where it matters.

Tracker rules match on the host a browser would actually contact, so the host must be
derived the way a browser derives it, not the way :func:`urllib.parse.urlsplit` does:
browsers strip surrounding control characters, delete tabs and newlines anywhere, treat
backslashes as slashes in ``http(s)`` URLs, accept any number of slashes after the scheme,
take the host after the *last* ``@``, percent-decode and IDNA-map the host (so
``%67oogle.com``, ``GOOGLE.com`` and ``google\\u3002com`` are all ``google.com``), and resolve
relative references against the document's base URL.

Only what a host/path matcher needs is implemented: the scheme, the host (serialised as a
browser would, including any trailing dot) and the path after dot-segment removal.
Query, fragment, credentials and port are parsed only to be skipped. Every function here
is total: it returns ``None`` for input a browser would reject, and never raises.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Final, NamedTuple

__all__ = ["SPECIAL_SCHEMES", "URLParts", "normalize_host", "parse_url", "resolve_url", "url_host"]

#: Schemes with a host a browser fetches from (WHATWG "special schemes").
SPECIAL_SCHEMES: Final = frozenset({"http", "https", "ws", "wss", "ftp", "file"})

_C0_OR_SPACE: Final = "".join(chr(c) for c in range(0x21))
_TAB_OR_NEWLINE: Final = str.maketrans("", "", "\t\n\r")
_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_AUTHORITY_END: Final = re.compile(r"[/\\?#]")
_PATH_END: Final = re.compile(r"[?#]")
_HEX: Final = frozenset("0123456789abcdefABCDEF")

# Forbidden domain code points (WHATWG URL, "host parsing"): a host containing one of
# these after percent-decoding and IDNA mapping makes the whole URL invalid.
_FORBIDDEN_DOMAIN: Final = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")

# Code points UTS #46 maps to nothing ("ignored"), so a browser drops them from a host:
# soft hyphen, combining grapheme joiner, Mongolian variation selectors, zero width
# space, word joiner, invisible plus, variation selectors, BOM, shorthand format controls.
_IDNA_IGNORED: Final = str.maketrans(
    dict.fromkeys(
        [
            *(0x00AD, 0x034F, 0x180B, 0x180C, 0x180D, 0x180F, 0x200B, 0x2060, 0x2064, 0xFEFF),
            *range(0xFE00, 0xFE10),
            *range(0x1BCA0, 0x1BCA4),
        ]
    )
)
# Full stops UTS #46 maps to "." (NFKC already folds U+FF0E and U+FF61 to these).
_IDNA_DOTS: Final = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


class URLParts(NamedTuple):
    """The parts of a parsed URL that tracker matching needs.

    :param scheme: lowercased scheme, one of :data:`SPECIAL_SCHEMES` except ``file``.
    :param host: the host as a browser serialises it: lowercase ASCII (punycode for
        international names), dotted-decimal for IPv4, ``[...]`` for IPv6; a trailing dot
        is kept.
    :param path: the path after dot-segment removal, always starting with ``/``;
        backslashes are slashes; percent-encoding is left as written.
    """

    scheme: str
    host: str
    path: str


def parse_url(url: str, base_url: str | None = None) -> URLParts | None:
    """Parse ``url`` (resolved against ``base_url``) as a browser would.

    Returns ``None`` when the URL has no network host: relative URLs without a usable
    base (they stay on the document's own origin), ``javascript:``, ``data:``, ``blob:``,
    ``about:``, ``mailto:`` and other non-special schemes, ``file:``, and anything a
    browser would fail to parse. ``base_url`` is itself parsed without a base; a relative
    ``<base href>`` therefore leaves relative URLs first-party. Never raises.
    """
    try:
        base = _parse(base_url, None) if base_url else None
        return _parse(url, base)
    except Exception:  # pragma: no cover - defensive: callers rely on totality
        return None


def resolve_url(url: str, base: URLParts | None) -> URLParts | None:
    """Like :func:`parse_url`, with the base already parsed (one parse per document)."""
    try:
        return _parse(url, base)
    except Exception:  # pragma: no cover - defensive: callers rely on totality
        return None


def url_host(url: str, base_url: str | None = None) -> str | None:
    """Return the host a browser would contact for ``url``, or ``None``. Never raises."""
    parts = parse_url(url, base_url)
    return parts.host if parts is not None else None


def normalize_host(host: str) -> str | None:
    """Normalise a bare hostname the way URL host parsing does.

    Percent-decodes, applies the IDNA mapping (case folding, width folding, ideographic
    full stops, ignored code points) and converts to ASCII. IPv4 numbers in any browser
    notation become dotted-decimal; ``[...]`` IPv6 literals are compressed. Returns
    ``None`` for hosts a browser would reject. Never raises.
    """
    try:
        return _parse_host(host)
    except Exception:  # pragma: no cover - defensive
        return None


# --- parser -----------------------------------------------------------------------------


def _parse(url: str, base: URLParts | None) -> URLParts | None:
    s = url.strip(_C0_OR_SPACE)
    if "\t" in s or "\n" in s or "\r" in s:
        s = s.translate(_TAB_OR_NEWLINE)
    scheme, rest = _split_scheme(s)
    if scheme is None:
        return _parse_relative(s, base)
    if scheme not in SPECIAL_SCHEMES or scheme == "file":
        # Non-special schemes (javascript:, data:, blob:, about:, mailto:...) and file:
        # never make the browser contact a network host from a web page.
        return None
    if base is not None and base.scheme == scheme and not _starts_with_two_slashes(rest):
        # "http:foo" with an http base is a relative reference (special relative or
        # authority state); with one or no slash it keeps the base host.
        return _parse_relative(rest, base)
    # Special authority ignore slashes state: any run of "/" or "\" is skipped.
    return _parse_authority(scheme, rest.lstrip("/\\"))


def _split_scheme(s: str) -> tuple[str | None, str]:
    m = _SCHEME.match(s)
    if m is None:
        return None, s
    return m.group(1).lower(), s[m.end() :]


def _starts_with_two_slashes(s: str) -> bool:
    return len(s) >= 2 and s[0] in "/\\" and s[1] in "/\\"


def _parse_relative(s: str, base: URLParts | None) -> URLParts | None:
    if _starts_with_two_slashes(s):
        # Scheme-relative: the URL names its own host; without a base a page served
        # over https is the common case.
        scheme = base.scheme if base is not None else "https"
        return _parse_authority(scheme, s.lstrip("/\\"))
    if base is None:
        return None  # relative without a usable base: first-party
    path = _cut_path(s)
    if not path:
        return base  # "", "?query" and "#fragment" keep the base path
    path = path.replace("\\", "/")
    if not path.startswith("/"):
        path = base.path[: base.path.rfind("/") + 1] + path
    return URLParts(base.scheme, base.host, _remove_dot_segments(path))


def _parse_authority(scheme: str, s: str) -> URLParts | None:
    m = _AUTHORITY_END.search(s)
    end = m.start() if m is not None else len(s)
    authority, remainder = s[:end], s[end:]
    at = authority.rfind("@")
    if at >= 0:
        authority = authority[at + 1 :]  # the last "@" ends the credentials
    host_text, port = _split_port(authority)
    if port and (not (port.isascii() and port.isdigit()) or int(port) > 65535):
        return None
    if not host_text:
        return None  # special URLs need a host
    host = _parse_host(host_text)
    if host is None:
        return None
    path = _cut_path(remainder).replace("\\", "/")
    return URLParts(scheme, host, _remove_dot_segments(path or "/"))


def _split_port(authority: str) -> tuple[str, str]:
    """Split ``host[:port]``; the colon inside an IPv6 literal does not count."""
    if "[" not in authority:
        host, _, port = authority.partition(":")
        return host, port
    inside_brackets = False
    for i, c in enumerate(authority):
        if c == "[":
            inside_brackets = True
        elif c == "]":
            inside_brackets = False
        elif c == ":" and not inside_brackets:
            return authority[:i], authority[i + 1 :]
    return authority, ""


def _cut_path(s: str) -> str:
    m = _PATH_END.search(s)
    return s[: m.start()] if m is not None else s


def _is_single_dot(seg: str) -> bool:
    return seg == "." or seg.lower() == "%2e"


def _is_double_dot(seg: str) -> bool:
    return seg.lower() in ("..", ".%2e", "%2e.", "%2e%2e")


def _remove_dot_segments(path: str) -> str:
    if "/." not in path and "/%" not in path and not path.startswith((".", "%")):
        return path if path.startswith("/") else "/" + path
    segments = path[1:].split("/") if path.startswith("/") else path.split("/")
    out: list[str] = []
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if _is_double_dot(seg):
            if out:
                out.pop()
            if i == last:
                out.append("")
        elif _is_single_dot(seg):
            if i == last:
                out.append("")
        else:
            out.append(seg)
    return "/" + "/".join(out)


# --- host parsing -----------------------------------------------------------------------


def _parse_host(text: str) -> str | None:
    if text.startswith("["):
        if not text.endswith("]"):
            return None
        try:
            return "[" + ipaddress.IPv6Address(text[1:-1]).compressed + "]"
        except ValueError:
            return None
    decoded = _percent_decode(text)
    if decoded is None:
        return None
    ascii_host = _domain_to_ascii(decoded)
    if ascii_host is None or _FORBIDDEN_DOMAIN.search(ascii_host) is not None:
        return None
    if _ends_in_a_number(ascii_host):
        return _parse_ipv4(ascii_host)
    return ascii_host


def _percent_decode(text: str) -> str | None:
    if "%" not in text:
        return text
    raw = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            raw.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            raw += c.encode("utf-8", "surrogatepass")
            i += 1
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None  # decodes to U+FFFD, which IDNA disallows: the URL is invalid


def _uts46_map(text: str) -> str:
    # UTS #46 mapping, approximated by NFKC + lowercase (ß and ς are kept, as in
    # non-transitional processing) and the ignored/full-stop tables above.
    mapped = unicodedata.normalize("NFKC", text.translate(_IDNA_IGNORED))
    return unicodedata.normalize("NFC", mapped.lower().translate(_IDNA_DOTS))


def _valid_ace_label(label: str) -> bool:
    """An ``xn--`` label must decode to a non-ASCII label that is already mapped."""
    if not label.isascii() or len(label) == 4:
        return False
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        return False
    return not decoded.isascii() and _uts46_map(decoded) == decoded


def _domain_to_ascii(domain: str) -> str | None:
    if domain.isascii():
        # Browsers take ASCII hosts as they are (lowercased), "xn--" labels included.
        return domain.lower() or None
    mapped = _uts46_map(domain)
    if "\ufffd" in mapped or any(
        unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in mapped
    ):
        return None
    labels = []
    for label in mapped.split("."):
        if label.startswith("xn--"):
            if not _valid_ace_label(label):
                return None
            labels.append(label)
        elif label.isascii():
            labels.append(label)
        else:
            try:
                labels.append("xn--" + label.encode("punycode").decode("ascii"))
            except UnicodeError:  # pragma: no cover - punycode of a str cannot fail
                return None
    return ".".join(labels) or None


def _parse_ipv4_number(part: str) -> int | None:
    if not part:
        return None
    radix = 10
    if len(part) >= 2 and part[:2] in ("0x", "0X"):
        part, radix = part[2:], 16
    elif len(part) >= 2 and part[0] == "0":
        part, radix = part[1:], 8
    if not part:
        return 0
    digits = {10: "0123456789", 16: "0123456789abcdefABCDEF", 8: "01234567"}[radix]
    if any(c not in digits for c in part):
        return None
    return int(part, radix)


def _ends_in_a_number(host: str) -> bool:
    stem = host[:-1] if host.endswith(".") else host
    if not stem.rpartition(".")[2][:1].isdigit():
        return False  # both decimal and 0x numbers start with a digit
    parts = host.split(".")
    if parts[-1] == "":
        if len(parts) == 1:
            return False
        parts.pop()
    last = parts[-1]
    if last and last.isascii() and last.isdigit():
        return True
    return _parse_ipv4_number(last) is not None


def _parse_ipv4(host: str) -> str | None:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return None
    numbers: list[int] = []
    for part in parts:
        value = _parse_ipv4_number(part)
        if value is None:
            return None
        numbers.append(value)
    if any(v > 255 for v in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    ipv4 = numbers[-1]
    for i, v in enumerate(numbers[:-1]):
        ipv4 += v * 256 ** (3 - i)
    return str(ipaddress.IPv4Address(ipv4))
