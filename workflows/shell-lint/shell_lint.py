#!/usr/bin/python3
"""shell-lint: runs shellcheck over the shell scripts of a source tree (*.sh, *.bash, *.ksh,
*.dash, and any file whose shebang names sh, bash, dash or ksh) and converts its json1 report
to a SARIF 2.1.0 log.

usage: shell_lint.py [ROOT [OUT]]   (defaults /target and /results/results.sarif)
Parameters come from the environment, as the platform passes them:
  FF_PARAM_INCLUDE   comma-separated globs: only these paths (default: all)
  FF_PARAM_EXCLUDE   comma-separated globs of paths to skip
  FF_PARAM_SEVERITY  the least severe level reported: error | warning | info | style (default
                     style, everything)
Exit status: 0 the analysis ran (with or without findings), 1 shellcheck crashed or ROOT/OUT
is unusable, 2 an invalid parameter.
"""
import hashlib
import json
import os
import subprocess
import sys
from urllib.parse import quote

from ffworkflow import (Lines, SARIF_SCHEMA, ToolCrash, UsageError, glob_hit, log, now_utc,
                        parse_globs, path_included, progress, write_log)

SHELL_EXT = {".sh", ".bash", ".ksh", ".dash"}
SHELLS = {"sh", "bash", "dash", "ksh"}
SKIP_DIRS = {".git", ".hg", ".svn", ".bzr", "CVS", "node_modules"}
SEVERITIES = ["error", "warning", "info", "style"]
LEVEL_OF = {"error": "error", "warning": "warning", "info": "note", "style": "note"}
MAX_FILE = 4 << 20  # bigger scripts are generated, and shellcheck is slow on them
CHUNK = 200  # files per shellcheck invocation: a progress step, and well under ARG_MAX
# SC1090/SC1091 say shellcheck could not follow a `source`: about the analysis, not the code
EXCLUDED_CODES = "SC1090,SC1091"


# --- selecting files -------------------------------------------------------------------------

def shebang_shell(path):
    """The shell a file's shebang names (sh, bash, dash or ksh), else None.
    '#!/bin/sh -e', '#!/usr/bin/env bash' and '#!/usr/bin/env -S bash -eu' all count."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("latin-1").split()
    if words and os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    name = os.path.basename(words[0]) if words else ""
    return name if name in SHELLS else None


def list_files(root, globs, notes):
    """Sorted relative paths of the shell scripts under root, symbolic links not followed."""
    files = []

    def onerror(e):
        log("warning", "cannot read directory", path=str(e.filename), error=e.strerror)

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        reldir = os.path.relpath(dirpath, root)
        reldir = "" if reldir == "." else reldir
        keep = []
        for d in sorted(dirnames):
            rel = reldir + "/" + d if reldir else d
            if d in SKIP_DIRS or os.path.islink(os.path.join(dirpath, d)) or \
                    glob_hit(globs, rel, d, True):
                continue
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            rel = reldir + "/" + f if reldir else f
            full = os.path.join(dirpath, f)
            if os.path.islink(full) or not os.path.isfile(full) or glob_hit(globs, rel, f, False):
                continue
            if os.path.splitext(f)[1].lower() not in SHELL_EXT and not shebang_shell(full):
                continue
            if os.path.getsize(full) > MAX_FILE:
                notes.append({"level": "note", "message": {
                    "text": "%s: skipped, larger than %d MiB" % (rel, MAX_FILE >> 20)}})
                continue
            files.append(rel)
    return sorted(files)


# --- running shellcheck ----------------------------------------------------------------------

def shellcheck_version():
    try:
        out = subprocess.run(["shellcheck", "--version"], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ToolCrash("shellcheck: %s" % e)
    for line in out.splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip()
    raise ToolCrash("shellcheck --version said %r" % out.strip())


def run_shellcheck(files, severity, notes, pct_from, pct_to):
    """Runs shellcheck over files in chunks; returns (comments, argv)."""
    comments, argv0 = [], []
    chunks = [files[i:i + CHUNK] for i in range(0, len(files), CHUNK)]
    for n, chunk in enumerate(chunks):
        # -x with SCRIPTDIR: a sourced helper teaches shellcheck its functions and variables
        argv = ["shellcheck", "--format=json1", "--severity=" + severity, "--external-sources",
                "--source-path=SCRIPTDIR", "--exclude=" + EXCLUDED_CODES, "--"]
        argv0 = argv0 or argv + ["..."]
        try:
            p = subprocess.run(argv + chunk, capture_output=True, text=True, errors="replace")
        except OSError as e:
            raise ToolCrash("shellcheck: %s" % e)
        # 0 clean, 1 comments, 2 some files could not be read; 3 and 4 are usage errors
        try:
            report = json.loads(p.stdout) if p.returncode in (0, 1, 2) else None
        except ValueError:
            report = None
        if not isinstance(report, dict):
            raise ToolCrash("shellcheck exited with %d: %s" % (p.returncode,
                                                              p.stderr.strip()[-2000:]))
        if p.returncode == 2 and p.stderr.strip():
            notes.append({"level": "warning", "message": {"text": p.stderr.strip()[-2000:]}})
        comments.extend(report.get("comments") or [])
        progress(pct_from + (pct_to - pct_from) * (n + 1) // len(chunks),
                 "shellcheck: %d of %d files" % (min((n + 1) * CHUNK, len(files)), len(files)))
    return comments, argv0


# --- SARIF -----------------------------------------------------------------------------------

def findings_of(comments):
    out = []
    for c in comments:
        path = os.path.normpath(str(c.get("file") or ""))
        if not path or path == "." or os.path.isabs(path) or path.startswith("../"):
            continue
        try:
            line, col = int(c.get("line") or 0), int(c.get("column") or 0)
            end_line, end_col = int(c.get("endLine") or 0), int(c.get("endColumn") or 0)
            code = int(c.get("code") or 0)
        except (TypeError, ValueError):
            continue
        if line < 1:
            continue
        sev = c.get("level") if c.get("level") in SEVERITIES else "warning"
        out.append({"ruleId": "SC%04d" % code, "path": path, "line": line, "col": col,
                    "end_line": end_line, "end_col": end_col, "sev": sev,
                    "message": str(c.get("message") or ""), "fix": bool(c.get("fix"))})
    return out


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
        region = {"startLine": f["line"]}
        if f["col"] > 0:
            region["startColumn"] = f["col"]
            # json1 counts a tab as one column and its endColumn is exclusive, as in SARIF
            if f["end_line"] >= f["line"] and f["end_col"] > 0 and \
                    (f["end_line"] > f["line"] or f["end_col"] > f["col"]):
                region["endLine"] = f["end_line"]
                region["endColumn"] = f["end_col"]
        if text.strip():
            region["snippet"] = {"text": text[:500]}
        results.append({
            "ruleId": f["ruleId"], "ruleIndex": index[f["ruleId"]], "level": LEVEL_OF[f["sev"]],
            "message": {"text": f["message"] or f["ruleId"]},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": quote(f["path"], safe="/"), "uriBaseId": "SRCROOT"},
                "region": region}}],
            "partialFingerprints": {"ruleLineHash/v1": "%s:%d" % (h, seen[h])},
            "properties": {"severity": f["sev"], "fixAvailable": f["fix"]}})
    # shellcheck has no rule catalogue to ask: a rule's description is its first message
    rules = [{"id": rid, "shortDescription": {"text": first[rid]["message"] or rid},
              "helpUri": "https://www.shellcheck.net/wiki/" + rid,
              "defaultConfiguration": {"level": LEVEL_OF[first[rid]["sev"]]},
              "properties": {"severity": first[rid]["sev"]}} for rid in rule_ids]
    return {
        "tool": {"driver": {"name": "shellcheck", "version": version,
                            "informationUri": "https://www.shellcheck.net/", "rules": rules}},
        "invocations": [invocation],
        "originalUriBaseIds": {"SRCROOT": {"uri": "file:///target/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }


def params():
    includes = parse_globs(os.environ.get("FF_PARAM_INCLUDE", ""))
    globs = parse_globs(os.environ.get("FF_PARAM_EXCLUDE", ""))
    severity = (os.environ.get("FF_PARAM_SEVERITY", "") or "style").lower()
    if severity not in SEVERITIES:
        raise UsageError("severity must be one of %s" % ", ".join(SEVERITIES))
    return includes, globs, severity


def main(argv):
    if len(argv) > 3 or (len(argv) > 1 and argv[1].startswith("-")):
        sys.stderr.write(__doc__)
        return 2
    root = argv[1] if len(argv) > 1 else "/target"
    out = argv[2] if len(argv) > 2 else "/results/results.sarif"
    try:
        includes, globs, severity = params()
    except UsageError as e:
        log("error", str(e))
        return 2
    if not os.path.isdir(root):
        log("error", "cannot read the source tree", path=root)
        return 1
    root = os.path.abspath(root)
    os.chdir(root)
    progress(0, "listing files")
    notes = []
    files = [f for f in list_files(root, globs, notes) if path_included(includes, f)]
    progress(5, "%d shell scripts" % len(files))
    log("info", "files selected", files=len(files))
    inv = {"executionSuccessful": True, "startTimeUtc": now_utc()}
    comments = []
    try:
        version = shellcheck_version()
        if files:
            comments, inv["arguments"] = run_shellcheck(files, severity, notes, 5, 90)
    except ToolCrash as e:
        log("error", "shellcheck crashed", error=str(e))
        return 1
    inv["endTimeUtc"] = now_utc()
    inv["toolExecutionNotifications"] = notes
    findings = findings_of(comments)
    progress(95, "writing the SARIF log")
    run = sarif_run(version, findings, Lines(root, MAX_FILE), inv)
    run["properties"] = {"filesAnalyzed": len(files), "severity": severity}
    try:
        write_log(out, {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]})
    except OSError as e:
        log("error", "cannot write the SARIF log", path=out, error=str(e))
        return 1
    log("info", "analysis done", findings=len(findings), files=len(files))
    progress(100, "%d findings" % len(findings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
