# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the validation report on the controller: JSON, JUnit and Prometheus from ``_report``, Markdown and
HTML rendered from Jinja2 templates shipped in the collection (``templates/report/``) or
overridden from a directory the user names, and a PDF printed by headless Chromium when it is
installed.

The templates get one variable, ``report``: the report JSON (``_report.to_json``) read back, so
what a template can show is exactly what the JSON holds. Filters turn values into text
(``value``, ``threshold``, ``status_label``), escape Markdown (``md``), flatten nested dicts
(``flatten``) and lay out plots (``plot_layout``; the SVG is drawn by the template).
"""

from __future__ import absolute_import, division, print_function

import datetime
import json
import os
import re
import shutil
import subprocess
import tempfile

from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)

from ansible_collections.vaultcube.demobox.plugins.module_utils import _prometheus, _report

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE_DIR = os.path.join(COLLECTION_ROOT, "templates", "report")
FORMATS = _report.FORMATS  # format -> file suffix; markdown and html come from templates named <stem>.<suffix>.j2
TEMPLATED = ("markdown", "html")
DEFAULT_FORMATS = _report.DEFAULT_FORMATS
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Headless, offline, throw-away profile: nothing is fetched, nothing is kept.
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
                  "--disable-extensions", "--mute-audio")
PDF_TIMEOUT = 120

ARGUMENT_SPEC = _report.ARGUMENT_SPEC


class ReportError(Exception):
    """A sentence for the user: the report could not be made as asked, and nothing was written."""


# --- Filters --------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")  # "<= 85" stays as it is; "<b>" cannot become a tag


def md_text(value):
    """Text that stays one Markdown table cell / paragraph line, showing exactly what it says.

    A backslash, ``|`` (cell border), a ``<`` that would open an HTML tag or comment, an ``&``
    that would start an entity, and a backtick are escaped; line breaks become ``<br>``.
    """
    text = "" if value is None else str(value)
    text = _ENTITY.sub("&amp;", text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`"))
    text = _TAG_START.sub("&lt;", text)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def _flatten(value):
    return _report._flatten("", value or {}, [])


def _status_label(status):
    return _report.ICONS.get(status, str(status).upper())


def template_env(template_dir=None):
    """The Jinja2 environment: the user's directory first, then the shipped templates; the shipped
    ones are also reachable as ``builtin/<name>`` so an override can extend them."""
    shipped = FileSystemLoader(TEMPLATE_DIR)
    loaders = [PrefixLoader({"builtin": shipped})]
    if template_dir:
        loaders.append(FileSystemLoader(template_dir))
    loaders.append(shipped)
    autoescape = select_autoescape(("html.j2", "svg.j2", "html", "svg"), default_for_string=False)
    env = Environment(loader=ChoiceLoader(loaders), undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, autoescape=autoescape)
    env.filters.update({
        "md": md_text,
        "value": _report._value_text,
        "threshold": _report._threshold_text,
        "status_label": _status_label,
        "flatten": _flatten,
        "plot_layout": _report.plot_layout,
    })
    return env


def report_data(report):
    """The report exactly as its JSON says it (plain dicts, lists, str, numbers)."""
    return json.loads(_report.to_json(report))


def render(report, fmt, stem="validation-report", template_dir=None, env=None):
    """Render ``report`` (the document ``_report.build`` makes) as ``markdown`` or ``html``."""
    name = "%s.%s.j2" % (stem, FORMATS[fmt])
    env = env or template_env(template_dir)
    try:
        template = env.get_template(name)
        return template.render(report=report_data(report))
    except TemplateNotFound as exc:
        raise ReportError("The report template %s was not found (looked in %s); a template directory overrides "
                          "the shipped templates by file name." % (
                              exc.name, ", ".join(d for d in (template_dir, TEMPLATE_DIR) if d)))
    except TemplateSyntaxError as exc:
        raise ReportError("The report template %s has a syntax error at line %s: %s." % (
            exc.filename or exc.name or name, exc.lineno, str(exc.message).rstrip(".")))
    except Exception as exc:  # a user's template can raise anything; say where, in one sentence
        where, line = _template_frame(exc)
        raise ReportError("The report template %s could not be rendered%s: %s: %s." % (
            where or name, " at line %d" % line if line else "", type(exc).__name__, str(exc).rstrip(".")))


def _template_frame(exc):
    """(file, line) of the innermost template frame of ``exc``'s traceback (Jinja2 rewrites the
    traceback so that template code shows as the template's file and line)."""
    found = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


# --- PDF through headless Chromium ------------------------------------------------------------

def find_chromium(explicit=None):
    """(path, None) of the Chromium to print with, or (None, sentence saying why there is none)."""
    if explicit:
        path = shutil.which(explicit)
        if path:
            return path, None
        return None, ("No PDF written: chromium is set to %s, which is not an executable on the controller; "
                      "set it to Chromium's path (validation_report_chromium in the validation role) or leave it "
                      "unset to look for %s in PATH." % (explicit, ", ".join(CHROMIUM_NAMES)))
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path, None
    return None, ("No PDF written: Chromium is not installed on the controller (looked for %s in PATH); install "
                  "it (Debian/Ubuntu: apt-get install chromium) or set validation_report_chromium to its path. "
                  "The other formats are written." % ", ".join(CHROMIUM_NAMES))


def print_pdf(chromium, html_path, pdf_path, timeout=PDF_TIMEOUT):
    """Print ``html_path`` to ``pdf_path`` with headless Chromium; None, or a sentence why not."""
    profile = tempfile.mkdtemp(prefix="vaultcube-chromium-")
    try:
        cmd = [chromium] + list(CHROMIUM_FLAGS) + [
            "--user-data-dir=%s" % profile, "--no-pdf-header-footer", "--print-to-pdf=%s" % pdf_path,
            "file://%s" % os.path.abspath(html_path)]
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return "No PDF written: %s did not finish printing within %d s." % (chromium, timeout)
        except OSError as exc:
            return "No PDF written: %s could not be started: %s." % (chromium, exc)
        if proc.returncode != 0 or not os.path.isfile(pdf_path) or os.path.getsize(pdf_path) == 0:
            tail = [line for line in proc.stderr.decode("utf-8", "replace").splitlines() if line.strip()][-1:]
            return "No PDF written: %s exited with %d%s." % (
                chromium, proc.returncode, (": " + tail[0].strip()) if tail else " and wrote no file")
        return None
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# --- The whole job --------------------------------------------------------------------------

def write_report(params, check_mode=False, now=None):
    """Build, render and write the report as ``params`` (the action's validated options) ask.

    Returns the task result. Everything is rendered before anything is written, so a template
    error or a bad option changes nothing; a PDF that cannot be made is a warning, never a
    failure (Chromium is optional).
    """
    bad = _report.check_entries(params["results"])
    if bad:
        return {"failed": True, "msg": bad}
    formats = list(dict.fromkeys(params["formats"]))
    template_dir = params.get("template_dir")
    if template_dir and not os.path.isdir(template_dir):
        return {"failed": True, "msg": "template_dir %s is not a directory on the controller; name a directory "
                "holding templates such as validation-report.html.j2, or leave it unset for the shipped "
                "templates." % template_dir}
    mode, bad = _report.check_options(params)
    if bad:
        return {"failed": True, "msg": bad}
    now = now or datetime.datetime.now(datetime.timezone.utc)
    generated = now.replace(microsecond=0).isoformat()
    report = _report.build(params["results"], params["host"], generated, params["metadata"])

    rendered = {}
    env = template_env(template_dir)
    try:
        for fmt in formats:
            if fmt in _report.RENDERERS:
                rendered[fmt] = _report.RENDERERS[fmt][1](report)
            elif fmt in TEMPLATED:
                rendered[fmt] = render(report, fmt, template_dir=template_dir, env=env)
        if "pdf" in formats and "html" not in rendered:  # Chromium prints the HTML
            rendered["html"] = render(report, "html", template_dir=template_dir, env=env)
    except ReportError as exc:
        return {"failed": True, "msg": str(exc)}

    dest, basename = params["dest"], params["basename"]
    warnings, changed = [], False
    paths = dict((fmt, os.path.join(dest, "%s.%s" % (basename, FORMATS[fmt]))) for fmt in formats)
    chromium = None
    if "pdf" in formats:
        chromium, why_not = find_chromium(params.get("chromium"))
        if why_not:
            warnings.append(why_not)
            formats.remove("pdf")
    if not check_mode:
        if not os.path.isdir(dest):
            try:
                os.makedirs(dest)
            except OSError as exc:
                return {"failed": True, "msg": "Cannot create the report directory %s: %s." % (dest, exc)}
        for fmt in formats:
            if fmt == "pdf":
                continue
            try:
                changed |= _prometheus.write_atomically(paths[fmt], rendered[fmt], mode, unless_same=True)
            except OSError as exc:
                return {"failed": True, "msg": "Cannot write the report %s: %s." % (paths[fmt], exc.strerror or exc),
                        "detail": str(exc), "files": dict((f, paths[f]) for f in formats[:formats.index(fmt)])}
        if "pdf" in formats:
            work = tempfile.mkdtemp(prefix="vaultcube-report-")
            try:
                html_path = paths.get("html")
                if "html" not in paths:
                    html_path = os.path.join(work, "%s.html" % basename)
                    with open(html_path, "wb") as handle:
                        handle.write(rendered["html"].encode("utf-8"))
                pdf_tmp = os.path.join(work, "%s.pdf" % basename)
                why_not = print_pdf(chromium, html_path, pdf_tmp)
                if why_not:
                    warnings.append(why_not)
                    formats.remove("pdf")
                else:
                    with open(pdf_tmp, "rb") as handle:
                        changed |= _prometheus.write_atomically(paths["pdf"], handle.read(), mode, unless_same=True)
            except OSError as exc:
                return {"failed": True, "msg": "Cannot write the report %s: %s." % (paths["pdf"], exc.strerror or exc),
                        "detail": str(exc)}
            finally:
                shutil.rmtree(work, ignore_errors=True)
    files = dict((fmt, paths[fmt]) for fmt in formats)

    result = _report.task_result(report, files, changed)
    if warnings:
        result["warnings"] = warnings
    return result
