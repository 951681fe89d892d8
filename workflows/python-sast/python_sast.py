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
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from urllib.parse import quote

from ffworkflow import (Lines, SARIF_SCHEMA, ToolCrash, UsageError, glob_hit, log, now_utc,
                        parse_globs, path_included, progress, write_log)

PY_EXT = {".py", ".pyw"}
SKIP_DIRS = {".git", ".hg", ".svn", ".bzr", "CVS", "__pycache__", ".tox", ".nox", ".eggs",
             ".venv", "venv", "site-packages", "node_modules", ".mypy_cache"}
RANKS = ["low", "medium", "high"]
LEVEL_OF = {"high": "error", "medium": "warning", "low": "note"}
CHUNK = 1000  # files per bandit invocation, well under ARG_MAX
SHEBANG_PY = re.compile(rb"^#![ \t]*\S*?(?:/env(?:[ \t]+-\S+)*[ \t]+|/)?python[0-9.]*(?:[ \t]|$)")


# --- selecting files -------------------------------------------------------------------------

def is_python_script(path):
    """An extensionless file whose first line is a python shebang."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return False
    return bool(SHEBANG_PY.match(head.split(b"\n", 1)[0]))


def list_files(root, globs):
    """Sorted relative paths of the Python files under root, symbolic links not followed."""
    files = []

    def onerror(e):
        log("warning", "cannot read directory", path=str(e.filename), error=e.strerror)

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        reldir = os.path.relpath(dirpath, root)
        reldir = "" if reldir == "." else reldir
        keep = []
        for d in sorted(dirnames):
            rel = reldir + "/" + d if reldir else d
            if d in SKIP_DIRS or d.endswith(".egg") or os.path.islink(os.path.join(dirpath, d)) \
                    or glob_hit(globs, rel, d, True):
                continue
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            rel = reldir + "/" + f if reldir else f
            full = os.path.join(dirpath, f)
            if os.path.islink(full) or not os.path.isfile(full) or glob_hit(globs, rel, f, False):
                continue
            ext = os.path.splitext(f)[1].lower()
            if ext in PY_EXT or (ext == "" and is_python_script(full)):
                files.append(rel)
    return sorted(files)


# --- running bandit --------------------------------------------------------------------------

def bandit_version():
    try:
        out = subprocess.run(["bandit", "--version"], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ToolCrash("bandit: %s" % e)
    m = re.search(r"bandit\s+(\S+)", out)
    if not m:
        raise ToolCrash("bandit --version said %r" % out.strip())
    return m.group(1)


def run_bandit(files, tmp, pct_from, pct_to):
    """Runs bandit over files in chunks; returns (results, errors, nosec count, argv)."""
    results, errors, nosec, argv0 = [], [], 0, []
    chunks = [files[i:i + CHUNK] for i in range(0, len(files), CHUNK)]
    for n, chunk in enumerate(chunks):
        out = os.path.join(tmp, "bandit-%d.json" % n)
        argv = ["bandit", "--format", "json", "--output", out, "--quiet", "--"]
        argv0 = argv0 or argv + ["..."]
        try:
            p = subprocess.run(argv + chunk, capture_output=True, text=True, errors="replace")
        except OSError as e:
            raise ToolCrash("bandit: %s" % e)
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
        progress(pct_from + (pct_to - pct_from) * (n + 1) // len(chunks),
                 "bandit: %d of %d files" % (min((n + 1) * CHUNK, len(files)), len(files)))
    return results, errors, nosec, argv0


# --- SARIF -----------------------------------------------------------------------------------

def norm_path(p):
    if not p:
        return None
    p = os.path.normpath(p)
    if os.path.isabs(p) or p == "." or p.startswith("../"):
        return None
    return p


def location(path, line, col=0):
    # no endLine: bandit 1.6's line_range runs past an import into the blank line after it
    region = {"startLine": line}
    if col and col > 0:
        region["startColumn"] = col
    return {"physicalLocation": {"artifactLocation": {"uri": quote(path, safe="/"),
                                                      "uriBaseId": "SRCROOT"},
                                 "region": region}}


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
        path = norm_path(r.get("filename"))
        line = int(r.get("line_number") or 0)
        if not path or line < 1:
            continue
        sev = str(r.get("issue_severity", "")).lower()
        conf = str(r.get("issue_confidence", "")).lower()
        cwe = (r.get("issue_cwe") or {}).get("id") if isinstance(r.get("issue_cwe"), dict) else None
        props = {"severity": sev, "confidence": conf}
        if cwe:
            props["cwe"] = "CWE-%s" % cwe
        out.append({"ruleId": r.get("test_id") or "unknown", "path": path, "line": line,
                    "col": int(r["col_offset"]) + 1 if isinstance(r.get("col_offset"), int)
                    else 0, "sev": sev, "conf": conf,
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


def sarif_run(version, findings, lines, invocation):
    findings.sort(key=lambda f: (f["path"], f["line"], f["col"], f["ruleId"], f["message"]))
    rule_ids = sorted({f["ruleId"] for f in findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    first = {}
    for f in findings:
        first.setdefault(f["ruleId"], f)
    seen, results = {}, []
    for f in findings:
        text = lines.get(f["path"], f["line"])
        h = hashlib.sha256("\0".join([f["ruleId"], f["path"], text.strip()]).encode(
            "utf-8", "surrogateescape")).hexdigest()
        seen[h] = seen.get(h, 0) + 1
        loc = location(f["path"], f["line"], f["col"])
        if text.strip():
            loc["physicalLocation"]["region"]["snippet"] = {"text": text[:500]}
        results.append({"ruleId": f["ruleId"], "ruleIndex": index[f["ruleId"]],
                        "level": LEVEL_OF.get(f["sev"], "warning"),
                        "message": {"text": f["message"] or f["ruleId"]}, "locations": [loc],
                        "partialFingerprints": {"ruleLineHash/v1": "%s:%d" % (h, seen[h])},
                        "properties": f["props"]})
    return {
        "tool": {"driver": {"name": "bandit", "version": version,
                            "informationUri": "https://bandit.readthedocs.io/",
                            "rules": [make_rule(rid, first[rid]) for rid in rule_ids]}},
        "invocations": [invocation],
        "originalUriBaseIds": {"SRCROOT": {"uri": "file:///target/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }


def params():
    includes = parse_globs(os.environ.get("FF_PARAM_INCLUDE", ""))
    globs = parse_globs(os.environ.get("FF_PARAM_EXCLUDE", ""))
    vals = []
    for name in ("MIN_SEVERITY", "MIN_CONFIDENCE"):
        v = (os.environ.get("FF_PARAM_" + name, "") or "low").lower()
        if v not in RANKS:
            raise UsageError("%s must be one of low, medium, high" % name.lower())
        vals.append(v)
    return includes, globs, vals[0], vals[1]


def main(argv):
    if len(argv) > 3 or (len(argv) > 1 and argv[1].startswith("-")):
        sys.stderr.write(__doc__)
        return 2
    root = argv[1] if len(argv) > 1 else "/target"
    out = argv[2] if len(argv) > 2 else "/results/results.sarif"
    try:
        includes, globs, min_sev, min_conf = params()
    except UsageError as e:
        log("error", str(e))
        return 2
    if not os.path.isdir(root):
        log("error", "cannot read the source tree", path=root)
        return 1
    root = os.path.abspath(root)
    os.chdir(root)
    progress(0, "listing files")
    files = [f for f in list_files(root, globs) if path_included(includes, f)]
    progress(5, "%d python files" % len(files))
    log("info", "files selected", files=len(files))
    inv = {"executionSuccessful": True, "startTimeUtc": now_utc()}
    results, errors, nosec = [], [], 0
    try:
        version = bandit_version()
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
    run = sarif_run(version, findings, Lines(root), inv)
    run["properties"] = {"filesAnalyzed": len(files), "minSeverity": min_sev,
                         "minConfidence": min_conf, "nosecSuppressed": nosec,
                         "belowThreshold": len(results) - len(findings)}
    try:
        write_log(out, {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]})
    except OSError as e:
        log("error", "cannot write the SARIF log", path=out, error=str(e))
        return 1
    log("info", "analysis done", findings=len(findings), below_threshold=len(results) -
        len(findings), nosec=nosec, errors=len(errors))
    progress(100, "%d findings" % len(findings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
