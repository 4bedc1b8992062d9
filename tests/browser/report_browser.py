# -*- coding: utf-8 -*-
"""Open HTML validation reports in headless Chromium and check the page as it renders, not its
source (tests/browser/README.md).

    python tests/browser/report_browser.py --collection build/src/ansible_collections/vaultcube/demobox \
        --out build/browser --json docs/reports/*/validation-report*.json --html build/browser/runs/*/*/*.html

Each ``--json`` report is rendered to HTML with the collection's templates; each ``--html`` report
is checked as it is, against the JSON written beside it. A report made up of markup and
over-long values (``--hostile``) is added. Every page is checked at a desktop and a narrow
viewport and once as printed; each check that fails prints one sentence. Screenshots and PDFs go
under --out. The last line is "N passed, N failed" (one per page x viewport, plus print).
"""

import argparse
import base64
import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402  (beside this file)

VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    "narrow": {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
}
# A4 less the template's 12 mm print margins, in CSS px (96 per inch): 186 mm.
PRINT_WIDTH = int(round((210 - 24) / 25.4 * 96))

# Everything the page shows that the checks read, measured in the page.
PROBE = r"""
(() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left,
                         right: r.right, width: r.width, height: r.height}; };
  const shown = (el) => { const s = getComputedStyle(el); return s.display !== 'none' && s.visibility !== 'hidden'
                          && el.getClientRects().length > 0; };
  const verdict = document.getElementById('verdict');
  const rows = [...document.querySelectorAll('table.checks tbody tr')];
  const plots = [...document.querySelectorAll('figure.plot svg')].map((svg) => {
    const marks = [...svg.querySelectorAll('polyline, circle, rect[fill]:not([fill="none"])')]
      .filter((m) => !m.closest('title')).map((m) => m.getBBox()).filter((b) => b.width > 0 || b.height > 0);
    return {box: box(svg), marks: marks.length, title: svg.getAttribute('aria-label'),
            empty: /no data/.test(svg.textContent)};
  });
  return {
    innerWidth: window.innerWidth, innerHeight: window.innerHeight,
    scrollWidth: document.documentElement.scrollWidth,
    verdict: verdict ? {text: verdict.innerText, box: box(verdict), shown: shown(verdict),
                        word: (verdict.querySelector('.verdict-word') || verdict).innerText.trim(),
                        color: getComputedStyle(verdict.querySelector('.verdict-word') || verdict).color} : null,
    rows: rows.map((tr) => ({name: tr.dataset.check, status: tr.className, shown: shown(tr), height: box(tr).height})),
    plots: plots,
    tables: [...document.querySelectorAll('table')].map((t) => ({caption: (t.caption || {}).innerText || t.className,
                                                                  right: box(t).right, width: t.scrollWidth})),
    cutCells: [...document.querySelectorAll('table.checks td')].filter((td) => td.scrollWidth > td.clientWidth + 1)
      .map((td) => td.parentElement.dataset.check + ' ' + td.dataset.label),
    checksOverflow: (() => { const t = document.querySelector('table.checks');
      return t ? t.getBoundingClientRect().width - t.parentElement.clientWidth : 0; })(),
    scripts: document.querySelectorAll('script').length,
    injected: document.querySelectorAll('body i, body b, body iframe, body img, body a[href]').length,
  };
})()
"""


def expected_verdict(report):
    return str(report.get("verdict") or ("passed" if report.get("passed") else "failed")).upper()


def hostile_report():
    """A report whose every value tries to break the page: markup, a script, a remote image, an
    over-long unbroken value, newlines. Built with the collection's own report code."""
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _report
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
    bad = ('<script>console.error("injected")</script><img src="https://example.invalid/x.png">'
           '<i>tag</i> | pipe\nnewline ' + "x" * 180)
    checks = [R.make_check("hostile.value", "failed", value=bad, threshold={"max": bad}, message=bad),
              R.make_check("hostile.info", "info", value=1234567.891, unit="samples/s", message="A figure."),
              R.make_check("hostile.skipped", "skipped", message="Skipped: " + bad)]
    result = R.build_result(checks, {"nested": {"deep": bad}}, {}, {"env": bad})
    result["tables"] = [{"title": bad, "columns": ["a", bad, "c"], "rows": [[bad, 1, 2.5], [None, [1, 2], {"k": bad}]]}]
    result["plots"] = [
        {"title": bad, "kind": "line", "x_label": bad, "y_label": "y",
         "series": dict(("series %d %s" % (i, bad[:20]), [[t, (t * i) % 7 + 0.5] for t in range(40)]) for i in range(10))},
        {"title": "bars", "kind": "bar", "x_label": "GPUs", "y_label": "img/s",
         "series": {"measured": [[1, 10.0], [2, 19.0]], "ideal": [[1, 10.0], [2, 20.0]]}},
        {"title": "nothing", "kind": "line", "series": {}}]
    entries = [{"module": "hostile<b>", "result": result}, {"module": "absent", "skipped_reason": bad}]
    return _report.build(entries, "host<i>" + "y" * 60, "2026-12-03T00:00:00+00:00", {"note": bad})


class Page(object):
    """One tab with its own DevTools session; collects requests and errors as they happen."""

    def __init__(self, browser):
        self.b = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})
        self.target = target["targetId"]
        self.s = browser.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self.send(method)

    def send(self, method, params=None):
        return self.b.send(method, params, session=self.s)

    def events(self):
        mine = [e for e in self.b.events if e.get("sessionId") == self.s]
        self.b.events = [e for e in self.b.events if e.get("sessionId") != self.s]
        return mine

    def load(self, url, viewport, media=""):
        self.send("Emulation.setDeviceMetricsOverride", viewport)
        self.send("Emulation.setEmulatedMedia", {"media": media})
        self.events()
        self.send("Page.navigate", {"url": url})
        self.b.wait_event("Page.loadEventFired", self.s)
        self.b.drain(0.3)
        return self.events()

    def evaluate(self, expression):
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in reply:
            raise cdp.CDPError("the probe failed in the page: %s" % reply["exceptionDetails"].get("text"))
        return reply["result"]["value"]

    def close(self):
        self.b.send("Target.closeTarget", {"targetId": self.target})


def problems_in_events(events, url):
    out = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            requested = params.get("request", {}).get("url", "")
            if requested != url:
                out.append("the page requested %s" % requested[:120])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            out.append("console %s: %s" % (params.get("type"), text[:200]))
        elif method == "Runtime.exceptionThrown":
            out.append("exception: %s" % params.get("exceptionDetails", {}).get("text"))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            entry = params["entry"]
            out.append("console %s (%s): %s" % (entry.get("level"), entry.get("source"), entry.get("text", "")[:200]))
    return out


def check_screen(probe, report, viewport_name):
    """Sentences for what is wrong on one screen; empty when all is well."""
    bad = []
    verdict = probe["verdict"]
    want = expected_verdict(report)
    if not verdict or not verdict["shown"]:
        bad.append("no visible verdict (#verdict)")
    else:
        if verdict["word"] != want:
            bad.append("the verdict reads %r, the report says %r" % (verdict["word"], want))
        if verdict["box"]["top"] < 0 or verdict["box"]["bottom"] > probe["innerHeight"]:
            bad.append("the verdict is not above the fold (%.0f-%.0f px of %d)" % (
                verdict["box"]["top"], verdict["box"]["bottom"], probe["innerHeight"]))
        if verdict["box"]["right"] > probe["innerWidth"] + 1:
            bad.append("the verdict is cut at the right (%.0f px of %d)" % (verdict["box"]["right"], probe["innerWidth"]))
    names = [row["name"] for row in probe["rows"]]
    wanted = [check["name"] for check in report["checks"]]
    if names != wanted:
        missing = [n for n in wanted if n not in names]
        bad.append("check rows differ from the report: %d shown, %d in the report%s" % (
            len(names), len(wanted), "; missing %s" % ", ".join(missing[:5]) if missing else ""))
    hidden = [row["name"] for row in probe["rows"] if not row["shown"] or row["height"] <= 0]
    if hidden:
        bad.append("check rows not shown: %s" % ", ".join(hidden[:5]))
    n_plots = sum(len(m.get("plots") or []) for m in report["modules"].values())
    if len(probe["plots"]) != n_plots:
        bad.append("%d plots rendered, the report has %d" % (len(probe["plots"]), n_plots))
    for plot in probe["plots"]:
        if plot["box"]["width"] <= 0 or plot["box"]["height"] <= 0:
            bad.append("plot %r has no size (%.0f x %.0f)" % (plot["title"], plot["box"]["width"], plot["box"]["height"]))
        elif plot["marks"] == 0 and not plot["empty"]:
            bad.append("plot %r draws nothing" % plot["title"])
        elif plot["box"]["right"] > probe["innerWidth"] + 1:
            bad.append("plot %r is wider than the screen" % plot["title"])
    if probe["cutCells"]:
        bad.append("check cells cut off: %s" % ", ".join(probe["cutCells"][:5]))
    if probe["checksOverflow"] > 1:
        bad.append("the check table is %.0f px wider than the page" % probe["checksOverflow"])
    if probe["scrollWidth"] > probe["innerWidth"] + 1:
        bad.append("the page scrolls sideways at %s width (%d px content in %d)" % (
            viewport_name, probe["scrollWidth"], probe["innerWidth"]))
    if probe["scripts"] or probe["injected"]:
        bad.append("markup from the data became elements (%d script, %d others)" % (probe["scripts"], probe["injected"]))
    return bad


def check_print(probe):
    bad = []
    for table in probe["tables"]:
        if table["right"] > probe["innerWidth"] + 1 or table["width"] > probe["innerWidth"] + 1:
            bad.append("printed, table %r is cut (%.0f px wide on a %d px page)" % (
                table["caption"][:60], max(table["right"], table["width"]), probe["innerWidth"]))
    for plot in probe["plots"]:
        if plot["box"]["right"] > probe["innerWidth"] + 1 or plot["box"]["width"] <= 0:
            bad.append("printed, plot %r does not fit the page" % plot["title"])
    return bad


def pdf_pages(data):
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--collection", required=True, help="the collection's source copy (…/ansible_collections/vaultcube/demobox)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--json", nargs="*", default=[], help="report JSON files to render and check")
    parser.add_argument("--html", nargs="*", default=[], help="HTML reports to check as they are (JSON beside them)")
    parser.add_argument("--hostile", action="store_true", help="add a report made of markup and over-long values")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(os.path.join(args.collection, "..", "..", "..")))
    from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render

    if not args.chromium:
        print("Chromium is not installed (apt-get install chromium fonts-dejavu-core).")
        return 2
    os.makedirs(os.path.join(args.out, "html"), exist_ok=True)
    cases = []  # (name, html path, report)
    for path in args.json:
        report = json.load(open(path))
        name = "%s-%s" % (os.path.basename(os.path.dirname(path)), os.path.splitext(os.path.basename(path))[0])
        html = os.path.join(args.out, "html", name + ".html")
        with open(html, "w") as handle:
            handle.write(_report_render.render(report, "html"))
        cases.append((name, html, report))
    for path in args.html:
        report = json.load(open(os.path.splitext(path)[0] + ".json"))
        parts = os.path.normpath(path).split(os.sep)
        cases.append(("run-%s-%s" % (parts[-3], report["host"]), path, report))
    if args.hostile:
        report = hostile_report()
        html = os.path.join(args.out, "html", "hostile.html")
        with open(html, "w") as handle:
            handle.write(_report_render.render(report, "html"))
        cases.append(("hostile", html, report))
    if not cases:
        print("No report to check.")
        return 2

    started = time.monotonic()
    browser = cdp.Browser(args.chromium)
    passed = failed = 0
    summary = []
    try:
        version = browser.send("Browser.getVersion")["product"]
        print("%s, %d reports, started in %.1f s" % (version, len(cases), time.monotonic() - started))
        for name, html, report in cases:
            url = "file://" + os.path.abspath(html)
            page = Page(browser)
            t0 = time.monotonic()
            for vname, viewport in VIEWPORTS.items():
                events = page.load(url, viewport)
                probe = page.evaluate(PROBE)
                bad = problems_in_events(events, url) + check_screen(probe, report, vname)
                shot = base64.b64decode(page.send("Page.captureScreenshot", {"format": "png"})["data"])
                with open(os.path.join(args.out, "%s-%s.png" % (name, vname)), "wb") as handle:
                    handle.write(shot)
                if vname == "desktop" and probe["plots"]:  # and the plots, as they show on a laptop
                    page.evaluate("document.querySelectorAll('.plots')[document.querySelectorAll('.plots').length - 1]"
                                  ".scrollIntoView()")
                    shot = base64.b64decode(page.send("Page.captureScreenshot", {"format": "png"})["data"])
                    with open(os.path.join(args.out, "%s-%s-plots.png" % (name, vname)), "wb") as handle:
                        handle.write(shot)
                passed, failed = (passed + 1, failed) if not bad else (passed, failed + 1)
                print("%-4s %s @ %s (%dx%d): verdict %s, %d check rows, %d plots%s" % (
                    "ok" if not bad else "FAIL", name, vname, viewport["width"], viewport["height"],
                    probe["verdict"]["word"] if probe["verdict"] else "-", len(probe["rows"]), len(probe["plots"]),
                    "".join("\n     - " + b for b in bad)))
            # Printed: A4 content width; nothing may stick out of the page.
            events = page.load(url, {"width": PRINT_WIDTH, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, "print")
            probe = page.evaluate(PROBE)
            pdf = base64.b64decode(page.send("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})["data"])
            with open(os.path.join(args.out, "%s.pdf" % name), "wb") as handle:
                handle.write(pdf)
            bad = problems_in_events(events, url) + check_print(probe)
            if not pdf.startswith(b"%PDF") or pdf_pages(pdf) < 1:
                bad.append("printing made no PDF")
            passed, failed = (passed + 1, failed) if not bad else (passed, failed + 1)
            print("%-4s %s @ print (A4, %d px): %d tables, %d plots fit; PDF %d pages, %d KiB%s" % (
                "ok" if not bad else "FAIL", name, PRINT_WIDTH, len(probe["tables"]), len(probe["plots"]),
                pdf_pages(pdf), len(pdf) // 1024, "".join("\n     - " + b for b in bad)))
            summary.append({"report": name, "checks": len(report["checks"]), "seconds": round(time.monotonic() - t0, 2)})
            page.close()
    finally:
        browser.close()
    elapsed = time.monotonic() - started
    with open(os.path.join(args.out, "summary.json"), "w") as handle:
        json.dump({"chromium": version, "seconds": round(elapsed, 1), "reports": summary,
                   "passed": passed, "failed": failed}, handle, indent=2)
    print("browser test: %d reports in %.1f s; screenshots and PDFs in %s" % (len(cases), elapsed, args.out))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
