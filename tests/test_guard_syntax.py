"""The guard's text is ES5 (acorn, ecmaVersion 5) and stays small (terser's minified size).

The size figures in docs/guard.md are these measurements.
"""

from __future__ import annotations

from optout_mw.guard import build_guard, guard_template
from optout_mw.presets import build_ruleset
from optout_mw.rules import Rule, RuleSet

from .node_tools import run_node

PARSE = """
const acorn = require('acorn');
let input = '';
process.stdin.on('data', d => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(text => {
    try { acorn.parse(text, {ecmaVersion: 5}); return null; } catch (e) { return e.message; }
  });
  process.stdout.write(JSON.stringify(out));
});
"""

MINIFY = """
const {minify} = require('terser');
let input = '';
process.stdin.on('data', d => { input += d; });
process.stdin.on('end', async () => {
  const out = await minify(JSON.parse(input), {ecma: 5, compress: true, mangle: true});
  process.stdout.write(JSON.stringify(out.code.length));
});
"""

ODD = RuleSet([
    Rule(name="odd", hosts=("b\u00fccher.example",), host_paths=("x.example/a b",),
         inline_markers=("'\u2028'", "a\\b", "</script>", "[x]{1}", "$.x(")),
])


def test_built_guards_are_es5() -> None:
    texts = [build_guard(build_ruleset(presets=["all"])), build_guard(ODD),
             build_guard(RuleSet([]), report_path=None)]
    assert run_node(PARSE, texts) == [None, None, None]


def test_an_es2015_text_would_be_refused() -> None:
    # A control: the check above would see a let.
    messages = run_node(PARSE, ["(function(){let x = 1;})();"])
    assert isinstance(messages, list) and messages[0] is not None


def test_minified_size_before_the_host_list() -> None:
    minified = run_node(MINIFY, guard_template().replace("__DATA__", "{}"))
    assert isinstance(minified, int)
    # About 8.0 KB minified (3.6 KB gzipped); see docs/guard.md for what takes the bytes.
    assert minified <= 8_192
