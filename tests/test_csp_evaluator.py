"""Every policy optout-mw can send, judged by Google's csp_evaluator (npm).

The evaluator judges a policy as a site's defence against script injection. This policy is
an *additional* one: it exists to keep opted-out visitors' browsers away from hosts the site
did not name, and it must not break the site's own scripts, so two of the evaluator's
high-severity findings are inherent to it and accepted, exactly and only these:

* ``script-src directive is missing``: the policy sets ``script-src-elem``, which governs
  script elements; a ``script-src`` would also govern inline event handlers, ``eval`` and
  workers, and break sites whose own policy allows them. Injection defence stays with the
  site's own policy, which this one never weakens.
* ``'unsafe-inline'`` in ``script-src-elem`` with ``inline_scripts = "allow"`` (the default):
  any hash or nonce would block the site's own inline scripts. Sites that can, choose
  ``hash`` or ``nonce``, and then the finding is not accepted.

Any other high-severity finding (wildcards, plain schemes, known JSONP or Angular hosts in
the script allowlist, a syntax error) fails the test.
"""

from __future__ import annotations

import itertools

import pytest

from optout_mw.csp import CspMode, CspSettings, InlineScripts, build_policy, new_nonce
from optout_mw.guard import GuardScript
from optout_mw.presets import build_ruleset

from .node_tools import run_node

EVALUATE = """
const {CspEvaluator} = require('csp_evaluator/dist/evaluator.js');
const {CspParser} = require('csp_evaluator/dist/parser.js');
const {Severity, Type} = require('csp_evaluator/dist/finding.js');
let input = '';
process.stdin.on('data', d => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(policy =>
    new CspEvaluator(new CspParser(policy).csp).evaluate().map(f => ({
      severity: Severity[f.severity], type: Type[f.type], directive: f.directive,
      value: f.value || null, description: f.description})));
  process.stdout.write(JSON.stringify(out));
});
"""

#: (finding type, directive) accepted in every mode, and only with inline "allow".
ACCEPTED = {("MISSING_DIRECTIVES", "script-src")}
ACCEPTED_WITH_UNSAFE_INLINE = {("SCRIPT_UNSAFE_INLINE", "script-src-elem")}

SCRIPT_HOSTS = ("cdn.example.com", "https://*.static.example.com")
CONNECT_HOSTS = ("api.example.com", "wss://live.example.com:8443")
FRAME_HOSTS = ("www.youtube-nocookie.com", "player.vimeo.com")


def evaluate(policies: list[str]) -> list[list[dict[str, str | None]]]:
    found = run_node(EVALUATE, policies)
    assert isinstance(found, list) and len(found) == len(policies)
    return found


def emitted_policies() -> list[tuple[str, InlineScripts]]:
    guard = GuardScript(build_ruleset(presets=["all"]))
    assert guard.source is not None
    policies = []
    for mode, inline, images, group, hosts in itertools.product(
        (CspMode.REPORT_ONLY, CspMode.ENFORCE), list(InlineScripts),
        (None, (), ("data:", "img.example.com")), ("optout-csp", None), (False, True),
    ):
        settings = CspSettings(
            mode=mode, inline_scripts=inline, img_hosts=images, report_group=group,
            script_hosts=SCRIPT_HOSTS if hosts else (),
            connect_hosts=CONNECT_HOSTS if hosts else (),
            frame_hosts=FRAME_HOSTS if hosts else (),
        )
        policy = build_policy(settings, nonce=new_nonce(), inline_sources=[guard.source])
        policies.append((policy, inline))
    return policies


def test_no_high_severity_finding_but_the_inherent_ones() -> None:
    policies = emitted_policies()
    results = evaluate([policy for policy, _ in policies])
    accepted_seen: set[tuple[str | None, str | None]] = set()
    for (policy, inline), findings in zip(policies, results, strict=True):
        accepted = ACCEPTED | (ACCEPTED_WITH_UNSAFE_INLINE if inline is InlineScripts.ALLOW
                               else set())
        high = [f for f in findings if f["severity"] in ("HIGH", "SYNTAX")]
        unexpected = [f for f in high if (f["type"], f["directive"]) not in accepted]
        assert not unexpected, f"{policy}\n{unexpected}"
        accepted_seen.update((f["type"], f["directive"]) for f in high)
    # The accepted findings are real (the evaluator ran and said so).
    assert accepted_seen == ACCEPTED | ACCEPTED_WITH_UNSAFE_INLINE


@pytest.mark.parametrize(
    ("policy", "finding"),
    [
        pytest.param("script-src-elem 'self' www.google.com; connect-src 'self'",
                     ("SCRIPT_ALLOWLIST_BYPASS", "script-src-elem"), id="jsonp host"),
        pytest.param("script-src-elem 'self' https:", ("PLAIN_URL_SCHEMES", "script-src-elem"),
                     id="plain scheme"),
        pytest.param("script-src-elem 'self' *", ("PLAIN_WILDCARD", "script-src-elem"),
                     id="wildcard"),
    ],
)
def test_the_evaluator_catches_what_the_settings_refuse(
    policy: str, finding: tuple[str, str]
) -> None:
    # A control: were such a policy ever emitted, the test above would fail.
    (findings,) = evaluate([policy])
    assert finding in {(f["type"], f["directive"]) for f in findings if f["severity"] == "HIGH"}
