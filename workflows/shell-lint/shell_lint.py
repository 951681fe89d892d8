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
import json
import os
import sys

from ffworkflow import (Lines, ToolCrash, UsageError, chunked, findings_run, finish, first_line,
                        list_files, log, now_utc, path_included, path_params, progress,
                        rule_descriptor, run_main, run_tool, tool_version, tree_path)

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
    line = first_line(path)
    if line is None or not line.startswith(b"#!"):
        return None
    words = line[2:].decode("latin-1").split()
    if words and os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    name = os.path.basename(words[0]) if words else ""
    return name if name in SHELLS else None


def shell_scripts(root, globs, notes):
    """Sorted relative paths of the shell scripts under root, symbolic links not followed; a
    script too big to check is told in notes."""

    def is_script(rel, full):
        if os.path.splitext(rel)[1].lower() not in SHELL_EXT and not shebang_shell(full):
            return False
        if os.path.getsize(full) > MAX_FILE:
            notes.append({"level": "note", "message": {
                "text": "%s: skipped, larger than %d MiB" % (rel, MAX_FILE >> 20)}})
            return False
        return True

    return list_files(root, globs, SKIP_DIRS, is_script)


# --- running shellcheck ----------------------------------------------------------------------

def run_shellcheck(files, severity, notes, pct_from, pct_to):
    """Runs shellcheck over files in chunks; returns (comments, argv)."""
    comments, argv0 = [], []
    for _, chunk in chunked(files, CHUNK, "shellcheck", pct_from, pct_to):
        # -x with SCRIPTDIR: a sourced helper teaches shellcheck its functions and variables
        argv = ["shellcheck", "--format=json1", "--severity=" + severity, "--external-sources",
                "--source-path=SCRIPTDIR", "--exclude=" + EXCLUDED_CODES, "--"]
        argv0 = argv0 or argv + ["..."]
        p = run_tool(argv + chunk)
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
    return comments, argv0


# --- SARIF -----------------------------------------------------------------------------------

def findings_of(comments):
    out = []
    for c in comments:
        path = tree_path(c.get("file"))
        if not path:
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
        # json1 counts a tab as one column and its endColumn is exclusive, as in SARIF
        out.append({"ruleId": "SC%04d" % code, "path": path, "line": line, "col": col,
                    "end_line": end_line, "end_col": end_col, "sev": sev,
                    "level": LEVEL_OF[sev], "message": str(c.get("message") or ""),
                    "props": {"severity": sev, "fixAvailable": bool(c.get("fix"))}})
    return out


def make_rule(rid, f):
    """shellcheck has no rule catalogue to ask, and a message can quote the script: a fixed
    generic description per code, its wiki page, and the severity of its level."""
    return rule_descriptor(rid, "ShellCheck %s" % rid,
                           "A shell script problem that ShellCheck reports as %s: quoting, "
                           "word splitting or globbing, portability or a likely bug." % rid,
                           "ShellCheck's wiki page for %s explains the problem and its fix."
                           % rid, f["level"], None, [], "https://www.shellcheck.net/wiki/" + rid,
                           tags=["shell"], props={"severity": f["sev"]})


def params():
    includes, globs = path_params()
    severity = (os.environ.get("FF_PARAM_SEVERITY", "") or "style").lower()
    if severity not in SEVERITIES:
        raise UsageError("severity must be one of %s" % ", ".join(SEVERITIES))
    return includes, globs, severity


def analyse(root, out, p):
    """Runs shellcheck over the tree at root (run_main has checked it) and writes the log."""
    includes, globs, severity = p
    os.chdir(root)
    progress(0, "listing files")
    notes = []
    files = [f for f in shell_scripts(root, globs, notes) if path_included(includes, f)]
    progress(5, "%d shell scripts" % len(files))
    log("info", "files selected", files=len(files))
    inv = {"executionSuccessful": True, "startTimeUtc": now_utc()}
    comments = []
    try:
        version = tool_version(["shellcheck", "--version"], r"(?m)^version:[ \t]*(.*?)\s*$")
        if files:
            comments, inv["arguments"] = run_shellcheck(files, severity, notes, 5, 90)
    except ToolCrash as e:
        log("error", "shellcheck crashed", error=str(e))
        return 1
    inv["endTimeUtc"] = now_utc()
    inv["toolExecutionNotifications"] = notes
    findings = findings_of(comments)
    progress(95, "writing the SARIF log")
    run = findings_run("shellcheck", version, "https://www.shellcheck.net/", findings,
                       Lines(root, MAX_FILE), inv, make_rule)
    run["properties"] = {"filesAnalyzed": len(files), "severity": severity}
    return finish(out, [run], len(findings), None if files else "shell scripts",
                  findings=len(findings), files=len(files))


if __name__ == "__main__":
    sys.exit(run_main(sys.argv, __doc__, params, analyse))
