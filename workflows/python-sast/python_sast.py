#!/usr/bin/python3
"""python-sast: runs bandit over the Python files of a source tree and converts its JSON
report to a SARIF 2.1.0 log (Debian 12's bandit 1.6.2 has no SARIF formatter).

usage: python_sast.py [ROOT [OUT]]   (defaults /target and /results/results.sarif)
Parameters come from the environment, as the platform passes them:
  FF_PARAM_INCLUDE         comma-separated globs: only these paths (default: all)
  FF_PARAM_EXCLUDE         comma-separated globs of paths to skip
  FF_PARAM_MIN_SEVERITY    low | medium | high (default low)
  FF_PARAM_MIN_CONFIDENCE  low | medium | high (default low)
Exit status: 0 the analysis ran (with or without findings), 1 bandit crashed or ROOT/OUT is
unusable, 2 an invalid parameter.
"""
import json
import os
import re
import sys
import tempfile

from ffworkflow import (Lines, ToolCrash, UsageError, chunked, findings_run, finish, first_line,
                        list_files, log, now_utc, path_included, path_params, progress,
                        rule_descriptor, run_main, run_tool, tool_version, tree_path)

PY_EXT = {".py", ".pyw"}
SKIP_DIRS = {".git", ".hg", ".svn", ".bzr", "CVS", "__pycache__", ".tox", ".nox", ".eggs",
             ".venv", "venv", "site-packages", "node_modules", ".mypy_cache", "*.egg"}
RANKS = ["low", "medium", "high"]
LEVEL_OF = {"high": "error", "medium": "warning", "low": "note"}
CHUNK = 1000  # files per bandit invocation, well under ARG_MAX
SHEBANG_PY = re.compile(rb"^#![ \t]*\S*?(?:/env(?:[ \t]+-\S+)*[ \t]+|/)?python[0-9.]*(?:[ \t]|$)")


# --- selecting files -------------------------------------------------------------------------

def is_python_script(path):
    """An extensionless file whose first line is a python shebang."""
    line = first_line(path)
    return line is not None and bool(SHEBANG_PY.match(line))


def is_python_file(rel, full):
    ext = os.path.splitext(rel)[1].lower()
    return ext in PY_EXT or (ext == "" and is_python_script(full))


# --- running bandit --------------------------------------------------------------------------

def run_bandit(files, tmp, pct_from, pct_to):
    """Runs bandit over files in chunks; returns (results, errors, nosec count, argv)."""
    results, errors, nosec, argv0 = [], [], 0, []
    for n, chunk in chunked(files, CHUNK, "bandit", pct_from, pct_to):
        out = os.path.join(tmp, "bandit-%d.json" % n)
        argv = ["bandit", "--format", "json", "--output", out, "--quiet", "--"]
        argv0 = argv0 or argv + ["..."]
        p = run_tool(argv + chunk)
        # bandit exits 1 when it found issues; a crash leaves no report behind
        try:
            with open(out, encoding="utf-8") as f:
                report = json.load(f)
        except (OSError, ValueError) as e:
            raise ToolCrash("bandit exited with %d and no report (%s): %s" % (
                p.returncode, e, p.stderr.strip()[-2000:]))
        if p.returncode not in (0, 1):
            raise ToolCrash("bandit exited with %d: %s" % (p.returncode, p.stderr.strip()[-2000:]))
        results.extend(report.get("results") or [])
        errors.extend(report.get("errors") or [])
        nosec += int((report.get("metrics") or {}).get("_totals", {}).get("nosec", 0) or 0)
    return results, errors, nosec, argv0


# --- SARIF -----------------------------------------------------------------------------------

# bandit's tests: id -> (test name, what it finds, CWE, security-severity). The rules' texts
# come from here, never from a result: bandit's issue text quotes the code (B105-B107 quote
# the password itself). The CWEs are those later bandit releases report.
BANDIT_TESTS = {
    "B101": ("assert_used", "Use of assert, removed when Python runs optimised.", 703, "2.0"),
    "B102": ("exec_used", "Use of exec on a string.", 78, "7.0"),
    "B103": ("set_bad_file_permissions", "A file made writable or executable by others.", 732,
             "5.5"),
    "B104": ("hardcoded_bind_all_interfaces", "A server bound to all network interfaces.", 605,
             "5.0"),
    "B105": ("hardcoded_password_string", "A hard-coded password assigned to a variable.", 259,
             "7.5"),
    "B106": ("hardcoded_password_funcarg", "A hard-coded password passed as an argument.", 259,
             "7.5"),
    "B107": ("hardcoded_password_default", "A hard-coded password as a parameter's default.",
             259, "7.5"),
    "B108": ("hardcoded_tmp_directory", "A fixed path in a shared temporary directory.", 377,
             "5.0"),
    "B110": ("try_except_pass", "An exception caught and silently ignored.", 703, "2.0"),
    "B112": ("try_except_continue", "An exception caught and skipped with continue.", 703,
             "2.0"),
    "B201": ("flask_debug_true", "A Flask app run in debug mode, which exposes a console.", 94,
             "8.0"),
    "B301": ("pickle", "Deserialisation with pickle, which can run code.", 502, "8.0"),
    "B302": ("marshal", "Deserialisation with marshal.", 502, "6.5"),
    "B303": ("md5", "Use of a weak hash (MD2, MD4, MD5, SHA-1).", 327, "5.5"),
    "B304": ("ciphers", "Use of a weak cipher.", 327, "6.5"),
    "B305": ("cipher_modes", "Use of the ECB cipher mode.", 327, "5.5"),
    "B306": ("mktemp_q", "tempfile.mktemp, which races with other processes.", 377, "5.0"),
    "B307": ("eval", "Use of eval, which runs any expression.", 78, "7.5"),
    "B308": ("mark_safe", "Django mark_safe, which can let cross-site scripting through.", 80,
             "6.0"),
    "B309": ("httpsconnection", "HTTPSConnection without certificate checks.", 295, "6.5"),
    "B310": ("urllib_urlopen", "urlopen of a URL whose scheme is not checked (file:).", 22,
             "5.5"),
    "B311": ("random", "A pseudo-random generator not fit for security.", 330, "4.0"),
    "B312": ("telnetlib", "Telnet, which sends everything in clear text.", 319, "7.0"),
    "B313": ("xml_bad_cElementTree", "XML parsed with a parser open to entity attacks.", 20,
             "5.5"),
    "B314": ("xml_bad_ElementTree", "XML parsed with a parser open to entity attacks.", 20,
             "5.5"),
    "B315": ("xml_bad_expatreader", "XML parsed with a parser open to entity attacks.", 20,
             "5.5"),
    "B316": ("xml_bad_expatbuilder", "XML parsed with a parser open to entity attacks.", 20,
             "5.5"),
    "B317": ("xml_bad_sax", "XML parsed with a parser open to entity attacks.", 20, "5.5"),
    "B318": ("xml_bad_minidom", "XML parsed with a parser open to entity attacks.", 20, "5.5"),
    "B319": ("xml_bad_pulldom", "XML parsed with a parser open to entity attacks.", 20, "5.5"),
    "B320": ("xml_bad_etree", "XML parsed with a parser open to entity attacks.", 20, "5.5"),
    "B321": ("ftplib", "FTP, which sends everything in clear text.", 319, "7.0"),
    "B322": ("input", "Python 2 input(), which evaluates what it reads.", 78, "8.0"),
    "B323": ("unverified_context", "An SSL context without certificate checks.", 295, "6.5"),
    "B324": ("hashlib_new_insecure_functions", "hashlib.new with a weak hash.", 327, "5.5"),
    "B325": ("tempnam", "os.tempnam or tmpnam, which race with other processes.", 377, "5.0"),
    "B401": ("import_telnetlib", "Import of telnetlib (clear-text protocol).", 319, "5.0"),
    "B402": ("import_ftplib", "Import of ftplib (clear-text protocol).", 319, "5.0"),
    "B403": ("import_pickle", "Import of pickle (unsafe deserialisation).", 502, "2.0"),
    "B404": ("import_subprocess", "Import of subprocess (command execution).", 78, "2.0"),
    "B405": ("import_xml_etree", "Import of an XML parser open to entity attacks.", 20, "2.0"),
    "B406": ("import_xml_sax", "Import of an XML parser open to entity attacks.", 20, "2.0"),
    "B407": ("import_xml_expat", "Import of an XML parser open to entity attacks.", 20, "2.0"),
    "B408": ("import_xml_minidom", "Import of an XML parser open to entity attacks.", 20,
             "2.0"),
    "B409": ("import_xml_pulldom", "Import of an XML parser open to entity attacks.", 20,
             "2.0"),
    "B410": ("import_lxml", "Import of lxml, open to entity attacks.", 20, "2.0"),
    "B411": ("import_xmlrpclib", "Import of xmlrpc, open to entity attacks.", 20, "5.0"),
    "B412": ("import_httpoxy", "Import of a CGI handler open to httpoxy.", 284, "7.5"),
    "B413": ("import_pycrypto", "Import of the unmaintained pycrypto.", 327, "5.0"),
    "B501": ("request_with_no_cert_validation", "An HTTPS request without certificate checks.",
             295, "7.5"),
    "B502": ("ssl_with_bad_version", "SSL or TLS with a broken protocol version.", 327, "7.5"),
    "B503": ("ssl_with_bad_defaults", "A default SSL or TLS protocol version that is broken.",
             327, "5.5"),
    "B504": ("ssl_with_no_version", "SSL or TLS without a protocol version.", 327, "4.0"),
    "B505": ("weak_cryptographic_key", "A cryptographic key too short to be safe.", 326, "7.0"),
    "B506": ("yaml_load", "yaml.load without a safe loader, which builds any object.", 20,
             "7.5"),
    "B507": ("ssh_no_host_key_verification", "SSH without host key checks.", 295, "7.5"),
    "B601": ("paramiko_calls", "A shell command run over paramiko.", 78, "6.5"),
    "B602": ("subprocess_popen_with_shell_equals_true", "A subprocess run through a shell.",
             78, "8.0"),
    "B603": ("subprocess_without_shell_equals_true", "A subprocess run without a shell: its "
             "input must still be checked.", 78, "2.0"),
    "B604": ("any_other_function_with_shell_equals_true", "A call with shell=True.", 78, "6.5"),
    "B605": ("start_process_with_a_shell", "A process started through a shell (os.system).",
             78, "8.0"),
    "B606": ("start_process_with_no_shell", "A process started without a shell.", 78, "2.0"),
    "B607": ("start_process_with_partial_path", "A program started by a partial path, found "
             "through PATH.", 78, "2.0"),
    "B608": ("hardcoded_sql_expressions", "SQL built from strings (injection).", 89, "7.5"),
    "B609": ("linux_commands_wildcard_injection", "A shell wildcard in a command.", 78, "6.5"),
    "B610": ("django_extra_used", "Django QuerySet.extra (SQL injection).", 89, "7.5"),
    "B611": ("django_rawsql_used", "Django RawSQL (SQL injection).", 89, "7.5"),
    "B701": ("jinja2_autoescape_false", "Jinja2 without autoescape (cross-site scripting).", 94,
             "7.5"),
    "B702": ("use_of_mako_templates", "Mako templates, which do not escape (cross-site "
             "scripting).", 80, "6.0"),
    "B703": ("django_mark_safe", "Django mark_safe (cross-site scripting).", 80, "6.0"),
}
BANDIT_DOCS = "https://bandit.readthedocs.io/en/latest/"


def bandit_doc_uri(rid, name):
    """The page of bandit's documentation on a test: its plugin page, or for the blacklists
    the anchor in the list of calls (B3xx) or imports (B4xx)."""
    if rid.startswith("B3"):
        return BANDIT_DOCS + "blacklists/blacklist_calls.html#%s-%s" % (
            rid.lower(), name.replace("_", "-"))
    if rid.startswith("B4"):
        return BANDIT_DOCS + "blacklists/blacklist_imports.html#%s-%s" % (
            rid.lower(), name.replace("_", "-"))
    return BANDIT_DOCS + "plugins/%s_%s.html" % (rid.lower(), name)


def findings_of(results, globs):
    out = []
    for r in results:
        path = tree_path(r.get("filename"))
        line = int(r.get("line_number") or 0)
        if not path or line < 1:
            continue
        sev = str(r.get("issue_severity", "")).lower()
        conf = str(r.get("issue_confidence", "")).lower()
        props = {"severity": sev, "confidence": conf}
        # no end_line: bandit 1.6's line_range runs past an import into the blank line after it
        out.append({"ruleId": r.get("test_id") or "unknown", "path": path, "line": line,
                    "col": int(r["col_offset"]) + 1 if isinstance(r.get("col_offset"), int)
                    else 0, "sev": sev, "conf": conf, "level": LEVEL_OF.get(sev, "warning"),
                    "message": r.get("issue_text") or "", "props": props})
    return out


def make_rule(rid, f):
    """From BANDIT_TESTS; a test not in it (a plugin, a newer bandit) gets a fixed generic
    description and the severity of its level."""
    level = LEVEL_OF.get(f["sev"], "warning")
    known = BANDIT_TESTS.get(rid)
    if known:
        name, text, cwe, severity = known
        return rule_descriptor(rid, text, "bandit %s (%s): %s" % (rid, name, text),
                               "Review the flagged code and fix it as bandit's documentation "
                               "for %s describes, or mark a reviewed line with # nosec." % rid,
                               level, severity, [cwe], bandit_doc_uri(rid, name), name=name,
                               tags=["python"])
    return rule_descriptor(rid, "bandit check %s" % rid,
                           "A security weakness that bandit's check %s reports." % rid,
                           "See bandit's documentation for %s." % rid, level, None, [],
                           BANDIT_DOCS, tags=["python"])


def params():
    includes, globs = path_params()
    vals = []
    for name in ("MIN_SEVERITY", "MIN_CONFIDENCE"):
        v = (os.environ.get("FF_PARAM_" + name, "") or "low").lower()
        if v not in RANKS:
            raise UsageError("%s must be one of low, medium, high" % name.lower())
        vals.append(v)
    return includes, globs, vals[0], vals[1]


def analyse(root, out, p):
    """Runs bandit over the tree at root (run_main has checked it) and writes the log."""
    includes, globs, min_sev, min_conf = p
    os.chdir(root)
    progress(0, "listing files")
    files = [f for f in list_files(root, globs, SKIP_DIRS, is_python_file)
             if path_included(includes, f)]
    progress(5, "%d python files" % len(files))
    log("info", "files selected", files=len(files))
    inv = {"executionSuccessful": True, "startTimeUtc": now_utc()}
    results, errors, nosec = [], [], 0
    try:
        version = tool_version(["bandit", "--version"], r"bandit\s+(\S+)")
        if files:
            with tempfile.TemporaryDirectory(prefix="python-sast.") as tmp:
                results, errors, nosec, inv["arguments"] = run_bandit(files, tmp, 5, 90)
    except ToolCrash as e:
        log("error", "bandit crashed", error=str(e))
        return 1
    inv["endTimeUtc"] = now_utc()
    # files bandit could not parse (python 2, syntax errors) are told, not hidden
    inv["toolExecutionNotifications"] = [
        {"level": "warning", "message": {"text": "%s: %s" % (e.get("filename", "?"),
                                                             e.get("reason", "error"))}}
        for e in errors]
    findings = [f for f in findings_of(results, globs)
                if f["sev"] in RANKS and RANKS.index(f["sev"]) >= RANKS.index(min_sev) and
                f["conf"] in RANKS and RANKS.index(f["conf"]) >= RANKS.index(min_conf)]
    progress(95, "writing the SARIF log")
    run = findings_run("bandit", version, "https://bandit.readthedocs.io/", findings, Lines(root),
                       inv, make_rule)
    run["properties"] = {"filesAnalyzed": len(files), "minSeverity": min_sev,
                         "minConfidence": min_conf, "nosecSuppressed": nosec,
                         "belowThreshold": len(results) - len(findings)}
    return finish(out, [run], len(findings), None if files else "Python files",
                  findings=len(findings),
                  below_threshold=len(results) - len(findings), nosec=nosec, errors=len(errors))


if __name__ == "__main__":
    sys.exit(run_main(sys.argv, __doc__, params, analyse))
