# -*- coding: utf-8 -*-
"""The report templates: what the Markdown and HTML show, and that no value can break them."""
import json
import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from ansible_collections.vaultcube.demobox.plugins.module_utils import _report
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render

NASTY = 'a|b <script>alert(1)</script> &lt; \\| `x` *y*\nsecond line <!-- c --> <https://evil.example/>'


def nasty_report():
    checks = [R.make_check("nasty|" + NASTY, "failed", value=NASTY, message=NASTY),
              R.judge_min("m.ok", "OK", 5.0, 1.0)]
    result = R.build_result(checks, {NASTY: NASTY}, {}, {"e": NASTY})
    result["tables"] = [{"title": NASTY, "columns": ["c1", NASTY], "rows": [[NASTY, 1], ["x", NASTY]]}]
    result["plots"] = [{"title": NASTY, "kind": "bar", "x_label": NASTY, "y_label": "y",
                        "series": {NASTY: [[NASTY, 1.0]]}}]
    return _report.build([{"module": "m<b>", "result": result}], "host|<i>", "t", {"note": NASTY})


class Tags(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_markdown_value_cannot_break_a_table_or_inject_html():
    md = _report_render.render(nasty_report(), "markdown")
    html = MarkdownIt("commonmark").enable("table").render(md)
    parsed = Tags()
    parsed.feed(html)
    assert "script" not in parsed.tags and "i" not in parsed.tags and "b" not in parsed.tags
    assert "a" not in parsed.tags  # the autolink stays text
    # every table keeps its column count in every row
    for table in re.findall(r"<table>.*?</table>", html, re.S):
        widths = {len(re.findall(r"<t[hd]>", row)) for row in re.findall(r"<tr>.*?</tr>", table, re.S)}
        assert len(widths) == 1, widths
    text = "".join(parsed.text)
    assert "a|b <script>alert(1)</script> &lt; \\| `x`" in text  # shown as typed
    assert "| FAIL | nasty\\|a\\|b &lt;script>alert(1)&lt;/script> &amp;lt; \\\\\\| \\`x\\` *y*<br>second line" in md


def test_md_text():
    assert _report_render.md_text(None) == ""
    assert _report_render.md_text("<= 85 C, >= 0.80") == "<= 85 C, >= 0.80"  # not a tag: stays readable
    assert _report_render.md_text("a<b>|c\r\nd") == "a&lt;b>\\|c<br>d"
    assert _report_render.md_text("R&D &amp; &#60;") == "R&D &amp;amp; &amp;#60;"


def test_html_escapes_every_value_and_loads_nothing():
    html = _report_render.render(nasty_report(), "html")
    parsed = Tags()
    parsed.feed(html)
    assert "script" not in parsed.tags and "i" not in parsed.tags and "b" not in parsed.tags
    assert not [v for k, v in parsed.attrs if k in ("src", "href")]
    assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'" in html
    assert "url(" not in html and "@import" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_has_a_row_per_check_and_modules_in_run_order():
    entries = [{"module": "zeta", "result": R.build_result([R.judge_min("zeta.a", "A", 1.0, 0.5)], {}, {}, {})},
               {"module": "alpha", "skipped_reason": "No GPU."}]
    rep = _report.build(entries, "h", "t")
    html = _report_render.render(rep, "html")
    assert re.findall(r'data-check="([^"]+)"', html) == ["zeta.a", "alpha"]
    assert html.index('id="module-zeta"') < html.index('id="module-alpha"')
    md = _report_render.render(rep, "markdown")
    assert md.index("## zeta") < md.index("## alpha")


@pytest.mark.parametrize("entries,shown,css", [
    ([{"module": "x", "result": R.build_result([R.judge_min("x.a", "A", 2.0, 1.0)], {}, {}, {})}], "PASSED", "pass"),
    ([{"module": "x", "result": R.build_result([R.judge_min("x.a", "A", 0.5, 1.0)], {}, {}, {})}], "FAILED", "fail"),
    ([{"module": "x", "result": R.build_result([R.judge_min("x.a", "A", 0.5, None)], {}, {}, {})}], "NOT JUDGED", "none"),
    ([{"module": "x", "skipped_reason": "No GPU."}], "NOTHING MEASURED", "none"),
])
def test_verdict_and_its_sentence_come_from_the_report(entries, shown, css):
    rep = _report.build(entries, "h", "t")
    html = _report_render.render(rep, "html")
    assert '<header class="verdict %s" id="verdict" data-verdict="%s">' % (css, shown) in html
    assert '<p class="verdict-reason">%s</p>' % rep["verdict_reason"] in html
    md = _report_render.render(rep, "markdown")
    assert "**%s** - 1 checks" % shown in md and "\n\n%s\n\n" % rep["verdict_reason"] in md


@pytest.mark.parametrize("passed,shown,css", [(True, "PASSED", "pass"), (False, "FAILED", "fail")])
def test_json_from_before_verdicts_still_renders(passed, shown, css):
    rep = _report.build([{"module": "x", "skipped_reason": "No GPU."}], "h", "t")
    for key in ("verdict", "verdict_reason", "skipped_checks"):
        del rep[key]
    rep["passed"] = passed
    html = _report_render.render(rep, "html")
    assert '<header class="verdict %s" id="verdict" data-verdict="%s">' % (css, shown) in html
    assert "<p class=\"verdict-reason\">" not in html
    assert "**%s** - 1 checks" % shown in _report_render.render(rep, "markdown")


def test_templates_get_the_report_json_only():
    rep = _report.build([{"module": "x", "skipped_reason": "No GPU."}], "h", "t", {"when": object()})
    env = _report_render.template_env()
    template = env.from_string("{{ report | tojson }}")
    assert json.loads(template.render(report=_report_render.report_data(rep))) == json.loads(_report.to_json(rep))


def test_plot_layout_bar_and_line():
    bars = _report.plot_layout({"title": "T", "kind": "bar", "series": {"a": [[1, 10.0], [2, 20.0]], "b": [[1, 5.0]]}})
    frame = bars["frame"]
    assert not bars["empty"] and len(bars["bars"]) == 3
    for rect in bars["bars"]:
        assert frame["x"] <= rect["x"] and rect["x"] + rect["w"] <= frame["x"] + frame["w"]
        assert frame["y"] <= rect["y"] and rect["y"] + rect["h"] <= frame["y"] + frame["h"] + 0.1
    assert [t["label"] for t in bars["xticks"]] == ["1", "2"]
    assert [t["label"] for t in bars["yticks"]] == ["0", "5", "10", "15", "20"]
    line = _report.plot_layout({"title": "T", "series": {"GPU 0": [[0, 1.5], [30, None], [60, 2.5]]}})
    assert line["lines"][0]["points"].count(",") == 2 and len(line["lines"][0]["markers"]) == 2
    assert [t["label"] for t in line["xticks"]] == ["0", "10", "20", "30", "40", "50", "60"]
    assert [t["label"] for t in line["yticks"]] == ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5"]


def test_plot_legend_wraps_inside_the_plot():
    names = ["a fairly long series name %d" % i for i in range(8)]
    layout = _report.plot_layout({"series": dict((n, [[0, 1], [1, 2]]) for n in names)})
    assert len({item["y"] for item in layout["legend"]}) > 1
    for item in layout["legend"]:
        assert item["x"] + 18 + 6.5 * len(item["name"]) <= layout["width"]
        assert item["y"] < layout["frame"]["y"]


def test_tick_labels():
    assert _report._tick_labels([0, 2500.0, 5000.0]) == ["0", "2,500", "5,000"]
    assert _report._tick_labels([0, 0.25, 0.5]) == ["0.00", "0.25", "0.50"]
    assert _report._nice_ticks(5, 60) == [10, 20, 30, 40, 50, 60]
