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
                        list_files, log, now_utc, path_included, path_params, progress, run_main,
                        run_tool, tool_version, tree_path)

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

def rule_name(r):
    """bandit's test name, or for its blacklist tests the name in the doc anchor
    (".../blacklist_calls.html#b301-pickle" -> "pickle")."""
    name = r.get("test_name") or ""
    if name == "blacklist":
        m = re.search(r"#b\d+-(.+)$", r.get("more_info") or "")
        if m:
            name = m.group(1).replace("-", "_")
    return name


def findings_of(results, globs):
    out = []
    for r in results:
        path = tree_path(r.get("filename"))
        line = int(r.get("line_number") or 0)
        if not path or line < 1:
            continue
        sev = str(r.get("issue_severity", "")).lower()
        conf = str(r.get("issue_confidence", "")).lower()
        cwe = (r.get("issue_cwe") or {}).get("id") if isinstance(r.get("issue_cwe"), dict) else None
        props = {"severity": sev, "confidence": conf}
        if cwe:
            props["cwe"] = "CWE-%s" % cwe
        # no end_line: bandit 1.6's line_range runs past an import into the blank line after it
        out.append({"ruleId": r.get("test_id") or "unknown", "path": path, "line": line,
                    "col": int(r["col_offset"]) + 1 if isinstance(r.get("col_offset"), int)
                    else 0, "sev": sev, "conf": conf, "level": LEVEL_OF.get(sev, "warning"),
                    "message": r.get("issue_text") or "", "props": props, "raw": r})
    return out


def make_rule(rid, f):
    r = f["raw"]
    rule = {"id": rid, "name": rule_name(r),
            "shortDescription": {"text": f["message"] or rid},
            "defaultConfiguration": {"level": LEVEL_OF.get(f["sev"], "warning")},
            "properties": {"tags": ["security"]}}
    if r.get("more_info"):
        rule["helpUri"] = r["more_info"]
    return rule


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
    return finish(out, [run], len(findings), findings=len(findings),
                  below_threshold=len(results) - len(findings), nosec=nosec, errors=len(errors))


if __name__ == "__main__":
    sys.exit(run_main(sys.argv, __doc__, params, analyse))
