"""Cross-check of the GPP codec against the IAB reference implementation, iabgpp-es.

Both directions, on seeded random field values:

* strings from our encoders (``encode_section``, ``encode_gpp``, ``encode_opt_out_gpp``) are
  decoded by iabgpp-es (``GppModel``) and every field must equal what we encoded;
* strings encoded by iabgpp-es (``GppModel.setFieldValue`` + ``encode``) are decoded by our
  ``decode_gpp`` and every field must equal what was set, and our encoder must produce the
  same characters for the same values.

Nothing is downloaded here. The test needs ``node`` and a directory named by the environment
variable ``IABGPP_REFERENCE_DIR`` that contains ``node_modules/@iabgpp/cmpapi`` (for example
``npm install --prefix DIR @iabgpp/cmpapi@3.2.0``). Without them it is skipped; when ``CI``
is set and ``IABGPP_REFERENCE_DIR`` is set but unusable, it fails instead.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

import pytest

from optout_mw.gpp import (
    UsSection,
    decode_gpp,
    encode_gpp,
    encode_opt_out_gpp,
    encode_section,
)
from optout_mw.gpp.sections import LAYOUTS, SECTION_IDS, USNAT_V1, USNAT_V2, Layout

SCRIPT = Path(__file__).parent / "data" / "gpp" / "iabgpp_decode.js"
ENV_DIR = "IABGPP_REFERENCE_DIR"
# Sections iabgpp-es decodes with the same layout as ours (24-27 are not settled, see docs).
CHECKED_IDS = (7, *sorted(i for i in LAYOUTS if i <= 23))
CASES_PER_KIND = 60

Fields: TypeAlias = dict[str, int | list[int]]
Runner: TypeAlias = Callable[[str, Sequence[object]], list[dict[str, Any]]]


def _unusable(reason: str) -> NoReturn:
    """Skip, or fail in CI when the package directory was configured but does not work."""
    if os.environ.get("CI") and os.environ.get(ENV_DIR):
        pytest.fail(f"{ENV_DIR} is set but unusable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def iabgpp() -> Iterator[Runner]:
    package_dir = os.environ.get(ENV_DIR)
    if not package_dir:
        pytest.skip(f"{ENV_DIR} is not set (a directory with node_modules/@iabgpp/cmpapi)")
    node = shutil.which("node")
    if node is None:
        _unusable("node is not installed")
    manifest = Path(package_dir) / "node_modules" / "@iabgpp" / "cmpapi" / "package.json"
    if not manifest.is_file():
        _unusable(f"{manifest} does not exist")

    def run(mode: str, items: Sequence[object]) -> list[dict[str, Any]]:
        proc = subprocess.run(
            [node, str(SCRIPT), package_dir, mode],
            input=json.dumps(list(items)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"node exited with {proc.returncode}: {proc.stderr[-2000:]}")
        results: list[dict[str, Any]] = json.loads(proc.stdout)
        assert len(results) == len(items)
        return results

    try:
        smoke = run("decode", ["DBABLA~CVVVkkkkkpFY.YA"])
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        _unusable(f"cannot run @iabgpp/cmpapi from {package_dir}: {exc}")
    if smoke[0].get("sectionIds") != [7]:
        _unusable(f"unexpected answer from @iabgpp/cmpapi: {smoke[0]}")
    yield run


# --------------------------------------------------------------------------------------------
# Random values


def _layout(section_id: int, version: int) -> Layout:
    if section_id == 7:
        return USNAT_V1 if version == 1 else USNAT_V2
    return LAYOUTS[section_id]


def random_fields(rng: random.Random, layout: Layout, *, valid_only: bool) -> Fields:
    """Every field of ``layout`` at random. ``valid_only`` keeps to what iabgpp-es accepts
    on input (0-2, and 1-2 for ``MspaCoveredTransaction``); otherwise 3 occurs as well."""
    top = 2 if valid_only else 3
    fields: Fields = {}
    for name, count in layout.fields:
        low = 1 if valid_only and name == "MspaCoveredTransaction" else 0
        if count:
            fields[name] = [rng.randint(0, top) for _ in range(count)]
        else:
            fields[name] = rng.randint(low, top)
    return fields


def random_gpc(rng: random.Random, layout: Layout) -> bool | None:
    return rng.choice((None, False, True)) if layout.has_gpc else None


def expected_view(layout: Layout, version: int, fields: Mapping[str, object]) -> dict[str, Any]:
    """The fields iabgpp-es reports for a section: ``Version`` then the layout, in spec names."""
    view: dict[str, Any] = {"Version": version}
    for name, _ in layout.fields:
        value = fields[name]
        view[name] = list(value) if isinstance(value, (list, tuple)) else value
    return view


def js_core(section: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in section.items() if k not in ("GpcSegmentType", "Gpc", "GpcSegmentIncluded")
    }


def js_gpc(section: Mapping[str, Any]) -> bool | None:
    if not section.get("GpcSegmentIncluded"):
        return None
    gpc = section["Gpc"]
    assert isinstance(gpc, bool)
    return gpc


# One case: the GPP string and, per section name, (layout, version, fields, gpc).
Expected: TypeAlias = dict[str, tuple[Layout, int, Fields, bool | None]]


def our_cases(seed: int, per_kind: int = CASES_PER_KIND) -> list[tuple[str, Expected]]:
    rng = random.Random(seed)
    cases: list[tuple[str, Expected]] = []
    kinds = [(7, 1), (7, 2), (8, 1)] + [(i, 1) for i in CHECKED_IDS if i > 8]
    for section_id, version in kinds:
        name = "usnat" if section_id == 7 else LAYOUTS[section_id].name
        count = per_kind if section_id in (7, 8) else max(per_kind // 6, 4)
        for _ in range(count):
            layout = _layout(section_id, version)
            fields = random_fields(rng, layout, valid_only=False)
            gpc = random_gpc(rng, layout)
            version_arg = version if section_id == 7 else None
            raw = encode_section(name, fields, gpc=gpc, version=version_arg)
            gpp, _ = encode_gpp({name: raw})
            cases.append((gpp, {name: (layout, version, fields, gpc)}))
    # Several sections in one string.
    names = ["usnat", *(LAYOUTS[i].name for i in CHECKED_IDS if i != 7)]
    for _ in range(per_kind):
        chosen = rng.sample(names, rng.randint(2, 5))
        expected: Expected = {}
        raws: dict[str, str] = {}
        for name in chosen:
            section_id = SECTION_IDS[name]
            version = rng.choice((1, 2)) if section_id == 7 else 1
            layout = _layout(section_id, version)
            fields = random_fields(rng, layout, valid_only=False)
            gpc = random_gpc(rng, layout)
            raws[name] = encode_section(
                name, fields, gpc=gpc, version=version if section_id == 7 else None
            )
            expected[name] = (layout, version, fields, gpc)
        cases.append((encode_gpp(raws)[0], expected))
    return cases


def opt_out_cases() -> list[tuple[str, tuple[str, ...], bool]]:
    cases: list[tuple[str, tuple[str, ...], bool]] = []
    for gpc in (False, True):
        for sections in (("usnat",), ("usca",), ("usnat", "usca")):
            cases.append((encode_opt_out_gpp(gpc=gpc, sections=sections)[0], sections, gpc))
    return cases


def js_specs(seed: int, per_kind: int = CASES_PER_KIND) -> list[Expected]:
    """Random values for iabgpp-es to encode, with and without the GPC sub-section."""
    rng = random.Random(seed)
    specs: list[Expected] = []
    names = ["usnat", *(LAYOUTS[i].name for i in CHECKED_IDS if i != 7)]
    for index in range(per_kind * 4):
        chosen = [names[index % 3]] if index < per_kind * 3 else rng.sample(names, 3)
        spec: Expected = {}
        for name in chosen:
            section_id = SECTION_IDS[name]
            version = rng.choice((1, 2)) if section_id == 7 else 1
            layout = _layout(section_id, version)
            spec[name] = (
                layout,
                version,
                random_fields(rng, layout, valid_only=True),
                random_gpc(rng, layout),
            )
        specs.append(spec)
    return specs


def js_input(spec: Expected) -> dict[str, dict[str, object]]:
    """The ``setFieldValue`` calls for one spec (iabgpp-es always holds the v2 usnat lists)."""
    out: dict[str, dict[str, object]] = {}
    for name, (layout, _version, fields, gpc) in spec.items():
        values: dict[str, object] = dict(fields)
        if layout is USNAT_V1:
            values["Version"] = 1
            sdp = values["SensitiveDataProcessing"]
            kcsdc = values["KnownChildSensitiveDataConsents"]
            assert isinstance(sdp, list) and isinstance(kcsdc, list)
            values["SensitiveDataProcessing"] = [*sdp, 0, 0, 0, 0]
            values["KnownChildSensitiveDataConsents"] = [*kcsdc, 0]
        if layout.has_gpc:
            values["GpcSegmentIncluded"] = gpc is not None
            values["Gpc"] = bool(gpc)
        out[name] = values
    return out


# --------------------------------------------------------------------------------------------
# Comparisons (each returns the mismatches as text, so a failure lists all of them)


def compare_js_decode(gpp: str, expected: Expected, result: Mapping[str, Any]) -> list[str]:
    if "error" in result:
        return [f"{gpp}: iabgpp-es cannot decode it: {result['error']}"]
    problems = []
    ids = sorted(SECTION_IDS[name] for name in expected)
    if result["sectionIds"] != ids:
        problems.append(f"{gpp}: section ids {result['sectionIds']} != {ids}")
    for name, (layout, version, fields, gpc) in expected.items():
        section = result["sections"].get(name)
        if section is None:
            problems.append(f"{gpp}: iabgpp-es has no {name}")
            continue
        want = expected_view(layout, version, fields)
        got = js_core(section)
        for key in sorted(set(want) | set(got)):
            if want.get(key) != got.get(key):
                problems.append(
                    f"{gpp}: {name}.{key} iabgpp-es={got.get(key)} ours={want.get(key)}"
                )
        if js_gpc(section) != gpc:
            problems.append(f"{gpp}: {name} Gpc iabgpp-es={js_gpc(section)} ours={gpc}")
    return problems


def compare_our_decode(gpp: str, expected: Expected) -> list[str]:
    decoded = decode_gpp(gpp)
    if not decoded.ok:
        return [f"{gpp}: decode_gpp error {decoded.error}"]
    problems = []
    ids = tuple(sorted(SECTION_IDS[name] for name in expected))
    if decoded.section_ids != ids:
        problems.append(f"{gpp}: section ids {decoded.section_ids} != {ids}")
    by_name = {section.name: section for section in decoded.sections}
    for name, (layout, version, fields, gpc) in expected.items():
        section = by_name.get(name)
        if not isinstance(section, UsSection):
            problems.append(f"{gpp}: {name} decoded as {section!r}")
            continue
        if section.problems:
            problems.append(f"{gpp}: {name} problems {section.problems}")
        if section.layout != layout.key:
            problems.append(f"{gpp}: {name} layout {section.layout} != {layout.key}")
        want = expected_view(layout, version, fields)
        got = {k: list(v) if isinstance(v, tuple) else v for k, v in section.spec_fields().items()}
        if got != want:
            problems.append(f"{gpp}: {name} ours={got} set in iabgpp-es={want}")
        if section.gpc != gpc:
            problems.append(f"{gpp}: {name} Gpc ours={section.gpc} set in iabgpp-es={gpc}")
    return problems


# --------------------------------------------------------------------------------------------
# Tests


def test_iabgpp_decodes_our_encoder_output(iabgpp: Runner) -> None:
    cases = our_cases(seed=20240607)
    results = iabgpp("decode", [gpp for gpp, _ in cases])
    problems = [
        problem
        for (gpp, expected), result in zip(cases, results, strict=True)
        for problem in compare_js_decode(gpp, expected, result)
    ]
    assert problems == []


def test_iabgpp_decodes_our_opt_out_strings(iabgpp: Runner) -> None:
    cases = opt_out_cases()
    results = iabgpp("decode", [gpp for gpp, _, _ in cases])
    for (gpp, sections, gpc), result in zip(cases, results, strict=True):
        assert "error" not in result, (gpp, result)
        assert result["sectionIds"] == [SECTION_IDS[name] for name in sections]
        for name in sections:
            got = result["sections"][name]
            layout = USNAT_V2 if name == "usnat" else LAYOUTS[SECTION_IDS[name]]
            for field, count in layout.fields:
                if field.endswith("Notice") or field in (
                    "SaleOptOut",
                    "SharingOptOut",
                    "TargetedAdvertisingOptOut",
                ):
                    assert got[field] == 1, (gpp, name, field)
                elif count:
                    assert got[field] == [0] * count, (gpp, name, field)
            assert got["Version"] == (2 if name == "usnat" else 1)
            assert got["MspaCoveredTransaction"] == 2
            assert got["MspaOptOutOptionMode"] == 1
            assert got["MspaServiceProviderMode"] == 2
            assert got["PersonalDataConsents"] == 0
            assert js_gpc(got) is gpc, (gpp, name)


def test_we_decode_iabgpp_encoder_output(iabgpp: Runner) -> None:
    specs = js_specs(seed=31337)
    results = iabgpp("encode", [js_input(spec) for spec in specs])
    problems: list[str] = []
    for spec, result in zip(specs, results, strict=True):
        if "error" in result:
            problems.append(f"iabgpp-es cannot encode {js_input(spec)}: {result['error']}")
            continue
        gpp = result["gpp"]
        problems += compare_our_decode(gpp, spec)
        ours, _ = encode_gpp(
            {
                name: encode_section(
                    name, fields, gpc=gpc, version=version if name == "usnat" else None
                )
                for name, (_layout_, version, fields, gpc) in spec.items()
            }
        )
        if ours != gpp:
            problems.append(f"same values: iabgpp-es wrote {gpp}, we wrote {ours}")
    assert problems == []


def test_field_names_match_iabgpp(iabgpp: Runner) -> None:
    """Each layout lists the fields iabgpp-es has, in the same order."""
    specs: list[Expected] = []
    for section_id in CHECKED_IDS:
        layout = _layout(section_id, 2)
        fields = {name: [0] * count if count else 1 for name, count in layout.fields}
        specs.append({layout.name: (layout, 2 if section_id == 7 else 1, fields, None)})
    encoded = iabgpp("encode", [js_input(spec) for spec in specs])
    results = iabgpp("decode", [item["gpp"] for item in encoded])
    for spec, result in zip(specs, results, strict=True):
        ((name, (layout, _, _, _)),) = spec.items()
        assert list(js_core(result["sections"][name])) == list(layout.field_names), name
