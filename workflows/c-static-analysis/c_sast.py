#!/usr/bin/python3
"""c-static-analysis: runs cppcheck and flawfinder over a C/C++ source tree and writes one
SARIF 2.1.0 log with a run per tool.

cppcheck does semantic analysis (data flow, leaks, bounds); flawfinder matches risky calls
(strcpy, scanf("%s"), system, ...) lexically. Where both report one weakness on one line
(same CWE family, or the same function), the finding is kept once: the more severe of the two,
cppcheck's on a tie, with the other recorded in its properties ("duplicates").

usage: c_sast.py [ROOT [OUT]]   (defaults /target and /results/results.sarif)
Parameters come from the environment, as the platform passes them:
  FF_PARAM_INCLUDE          comma-separated globs: only these paths (default: all)
  FF_PARAM_EXCLUDE          comma-separated globs of paths to skip
  FF_PARAM_MIN_LEVEL        error | warning | note (default note)
  FF_PARAM_CPPCHECK_ENABLE  cppcheck --enable value (see workflow.json for the choices)
Exit status: 0 the analysis ran (with or without findings), 1 a tool crashed or ROOT/OUT is
unusable, 2 an invalid parameter.
"""
import csv
import io
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from ffworkflow import (Lines, ToolCrash, UsageError, chunked, cpu_count, findings_run, finish,
                        glob_hit, list_files, location, log, norm_path, now_utc, path_included,
                        path_params, progress, rule_descriptor, run_main, run_tool,
                        tool_version)

SOURCE_EXT = {".c", ".cc", ".cp", ".cpp", ".cxx", ".c++"}
HEADER_EXT = {".h", ".hh", ".hpp", ".hxx", ".h++", ".inl", ".ipp", ".tpp"}
SKIP_DIRS = {".git", ".hg", ".svn", ".bzr", "CVS"}
LEVELS = ["error", "warning", "note"]
ENABLE_CHOICES = ["warning", "warning,performance,portability",
                  "warning,style,performance,portability", "all"]
MAX_INCLUDE_DIRS = 64
CHUNK = 500  # files per flawfinder invocation, well under ARG_MAX

# cppcheck messages about the analysis rather than the code: notifications, not results
CPPCHECK_NOTIFY_IDS = {
    "syntaxError", "internalAstError", "internalError", "cppcheckError", "unknownMacro",
    "preprocessorErrorDirective", "missingInclude", "missingIncludeSystem", "toomanyconfigs",
    "purgedConfiguration", "noValidConfiguration", "unmatchedSuppression", "checkersReport",
    "normalCheckLevelMaxBranches", "bailoutUninitVar", "ConfigurationNotChecked",
    "instantiationError", "templateRecursion", "syntaxConfig", "simplifyUsing"}
CPPCHECK_LEVEL = {"error": "error", "warning": "warning", "style": "note",
                  "performance": "note", "portability": "note", "information": "note"}

# CWEs that name one weakness from different angles; a pair of findings on one line whose CWEs
# fall in one family is one finding. CWEs too broad to match on (20, 398) are in none.
CWE_FAMILIES = [
    {119, 120, 121, 122, 123, 124, 125, 126, 127, 129, 131, 135, 170, 193, 785, 786, 787,
     788, 805, 806},
    {134},
    {190, 191, 192, 194, 195, 196, 197, 681, 682},
    {362, 367},
    {78, 88},
    {327, 330, 338},
    {377, 378, 379},
    {476},
    {457, 908, 909},
    {401, 404, 771, 772, 775},
    {415, 416, 590, 672, 761, 762},
    {22, 23, 36},
]
BROAD_CWES = {0, 20, 398}


# --- selecting files -------------------------------------------------------------------------

def path_excluded(globs, rel):
    """True if rel, or a directory above it, is excluded."""
    parts = rel.split("/")
    for i in range(1, len(parts)):
        if parts[i - 1] in SKIP_DIRS or glob_hit(globs, "/".join(parts[:i]), parts[i - 1], True):
            return True
    return glob_hit(globs, rel, parts[-1], False)


def is_c_file(rel, full):
    ext = os.path.splitext(rel)[1].lower()
    if ext not in SOURCE_EXT and ext not in HEADER_EXT:
        return False
    if "\n" in rel:  # cannot be named in cppcheck's --file-list
        log("warning", "skipped a file with a newline in its name", path=repr(rel))
        return False
    return True


def c_files(root, globs):
    """Sorted relative paths of the C/C++ sources and headers under root, symbolic links not
    followed; and the directories named include (for cppcheck's -I)."""
    dirs = []
    files = list_files(root, globs, SKIP_DIRS, is_c_file, dirs)
    incdirs = [d for d in dirs if os.path.basename(d) in ("include", "inc")][:MAX_INCLUDE_DIRS]
    sources = [f for f in files if os.path.splitext(f)[1].lower() in SOURCE_EXT]
    headers = [f for f in files if os.path.splitext(f)[1].lower() not in SOURCE_EXT]
    return sources, headers, sorted(incdirs)


# --- running the tools -----------------------------------------------------------------------

def cppcheck_catalogue():
    """id -> (severity, msg, verbose, cwe) of every checker cppcheck knows (--errorlist)."""
    cat = {}
    try:
        out = subprocess.run(["cppcheck", "--errorlist"], capture_output=True, text=True,
                             timeout=120).stdout
        # cppcheck's own output (no DTD; expat 2.5 caps entity expansion anyway)
        for e in ET.fromstring(out).iter("error"):  # nosec B314
            cat[e.get("id")] = (e.get("severity"), e.get("msg", ""), e.get("verbose", ""),
                                int(e.get("cwe", "0") or 0))
    except (OSError, subprocess.TimeoutExpired, ET.ParseError) as e:
        # only the rules' generic descriptions are lost: each falls back to a message
        log("warning", "cannot read cppcheck --errorlist", error=str(e))
    return cat


def run_cppcheck(sources, incdirs, enable, tmp, pct_from, pct_to):
    """Runs cppcheck; returns (xml root, argv). Its progress lines become ::progress lines."""
    listing = os.path.join(tmp, "cppcheck-files.txt")
    with open(listing, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\n".join(sources) + "\n")
    xml_out = os.path.join(tmp, "cppcheck.xml")
    # unusedFunction (in "all") only runs single-threaded
    jobs = 1 if enable == "all" else cpu_count()
    argv = ["cppcheck", "--xml", "--xml-version=2", "--output-file=" + xml_out,
            "--enable=" + enable, "--inline-suppr", "--suppress=missingIncludeSystem",
            "--library=posix", "-j", str(jobs)]
    argv += ["-I" + d for d in incdirs]
    argv += ["--file-list=" + listing]
    log("info", "running cppcheck", files=len(sources), jobs=jobs, enable=enable)
    done = re.compile(r"^(\d+)/(\d+) files checked (\d+)% done")
    # stderr to a file: two pipes read one after the other can deadlock
    with open(os.path.join(tmp, "cppcheck.err"), "w+", encoding="utf-8",
              errors="replace") as errf:
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errf, text=True,
                                    errors="replace")
        except OSError as e:
            raise ToolCrash("cppcheck: %s" % e)
        last = -1
        for line in proc.stdout:
            m = done.match(line)
            if m:
                pct = pct_from + (pct_to - pct_from) * int(m.group(3)) // 100
                if pct != last:
                    progress(pct, "cppcheck: %s of %s files" % (m.group(1), m.group(2)))
                    last = pct
        rc = proc.wait()
        errf.seek(0)
        err = errf.read()
    if rc != 0:
        raise ToolCrash("cppcheck exited with %d: %s" % (rc, err.strip()[-2000:]))
    try:
        # cppcheck escapes what it quotes from the code; the XML has no DTD
        return ET.parse(xml_out).getroot(), argv  # nosec B314
    except (OSError, ET.ParseError) as e:
        raise ToolCrash("cppcheck wrote no readable XML: %s" % e)


def run_flawfinder(files, pct_from, pct_to):
    """Runs flawfinder over files in chunks; returns (csv rows as dicts, argv of the first)."""
    rows, argv0 = [], None
    for _, chunk in chunked(files, CHUNK, "flawfinder", pct_from, pct_to):
        # -F: no hits for names not followed by '(' nor for char array declarations
        argv = ["flawfinder", "--csv", "--columns", "--falsepositive", "--minlevel=1", "--"]
        argv0 = argv0 or argv + ["..."]
        p = run_tool(argv + chunk)
        if p.returncode != 0:
            raise ToolCrash("flawfinder exited with %d: %s" % (p.returncode,
                                                              p.stderr.strip()[-2000:]))
        rows.extend(csv.DictReader(io.StringIO(p.stdout)))
    return rows, argv0 or []


# --- findings --------------------------------------------------------------------------------

def cwe_family(cwes):
    keys = set()
    for c in cwes:
        if c in BROAD_CWES:
            continue
        fam = next((i for i, f in enumerate(CWE_FAMILIES) if c in f), None)
        keys.add(("family", fam) if fam is not None else ("cwe", c))
    return keys


def cppcheck_function(rule_id):
    """The function a cppcheck checker is about, for matching flawfinder's hit on it."""
    if rule_id.startswith("invalidscanf"):
        return "scanf"
    m = re.match(r"^(\w+?)Called$", rule_id)
    return m.group(1) if m else None


def related_location(path, line, col, message):
    loc = location(path, line, col)
    if message:
        loc["message"] = {"text": message}
    return loc


def cppcheck_findings(root_xml, catalogue, globs, notes):
    findings = []
    errors = root_xml.find("errors")
    for e in (errors if errors is not None else []):
        rid, sev = e.get("id", "unknown"), e.get("severity", "")
        msg = e.get("msg", "")
        locs = [(norm_path(lc.get("file")), int(lc.get("line", "0") or 0),
                 int(lc.get("column", "0") or 0), lc.get("info"))
                for lc in e.findall("location")]
        if rid in CPPCHECK_NOTIFY_IDS or sev in ("information", "debug") or not locs:
            notes.append(notification(rid, "warning" if sev == "error" else "note", msg,
                                      locs[0] if locs else None))
            continue
        path, line, col, _ = locs[0]
        if path is None or line < 1:
            continue  # in a system header, not in the target
        if path_excluded(globs, path):
            continue
        cwe = int(e.get("cwe", "0") or 0)
        related = [related_location(p, ln, c, info) for p, ln, c, info in locs[1:]
                   if p is not None and ln >= 1]
        for i, r in enumerate(related):
            r["id"] = i + 1
        cat = catalogue.get(rid)
        findings.append({
            "tool": "cppcheck", "ruleId": rid, "level": CPPCHECK_LEVEL.get(sev, "warning"),
            "message": msg, "path": path, "line": line, "col": col, "related": related,
            "cwes": [cwe] if cwe else [], "function": cppcheck_function(rid),
            "props": {"severity": sev,
                      **({"inconclusive": True} if e.get("inconclusive") == "true" else {}),
                      **({"symbols": [s.text for s in e.findall("symbol") if s.text]}
                         if e.findall("symbol") else {})},
            # the rule's texts from cppcheck's catalogue only: msg quotes the code
            "rule": {"short": cat[1] if cat else "", "full": cat[2] if cat else "",
                     "severity": sev, "cwe": cwe},
        })
    return findings


def flawfinder_level(risk):
    # flawfinder's own SARIF mapping: risk 4-5 error, 3 warning, 0-2 note
    return "error" if risk >= 4 else "warning" if risk == 3 else "note"


def flawfinder_findings(rows, globs):
    findings = []
    for r in rows:
        path = norm_path(r.get("File"))
        try:
            line, col = int(r.get("Line") or 0), int(r.get("Column") or 0)
            risk, default_risk = int(r.get("Level") or 0), int(r.get("DefaultLevel") or 0)
        except ValueError:
            continue
        if path is None or line < 1 or path_excluded(globs, path):
            continue
        name, warning = r.get("Name", ""), r.get("Warning", "")
        suggestion, note = r.get("Suggestion", ""), r.get("Note", "")
        cwes = [int(c) for c in re.findall(r"CWE-(\d+)", r.get("CWEs", ""))]
        text = "%s: %s" % (name, warning)
        if suggestion:
            text += " " + suggestion
        if note:
            text += " " + note
        rid = r.get("RuleId") or "%s/%s" % (r.get("Category", ""), name)
        findings.append({
            "tool": "flawfinder", "ruleId": rid, "level": flawfinder_level(risk),
            "message": text, "path": path, "line": line, "col": col, "related": [],
            "cwes": cwes, "function": name,
            "props": {"risk": risk, "category": r.get("Category", "")},
            "rule": {"name": "%s/%s" % (r.get("Category", ""), name), "short": warning,
                     "full": (warning + " " + suggestion).strip(), "cwe": cwes[0] if cwes else 0,
                     "help_uri": r.get("HelpUri", ""), "default_level":
                     flawfinder_level(default_risk), "default_risk": default_risk},
        })
    return findings


def similar(a, b):
    if a["function"] and b["function"] and a["function"] == b["function"]:
        return True
    return bool(cwe_family(a["cwes"]) & cwe_family(b["cwes"]))


def deduplicate(cpp, ff):
    """Merges flawfinder hits into cppcheck findings on the same line and weakness (or the
    reverse, when flawfinder's is the more severe). Returns the two kept lists."""
    rank = {"error": 0, "warning": 1, "note": 2}
    by_line = {}
    for f in cpp:
        by_line.setdefault((f["path"], f["line"]), []).append(f)
    drop = set()
    for g in ff:
        for c in by_line.get((g["path"], g["line"]), []):
            if id(c) in drop or not similar(c, g):
                continue
            win, lose = (g, c) if rank[g["level"]] < rank[c["level"]] else (c, g)
            win["props"].setdefault("duplicates", []).append(
                {"tool": lose["tool"], "ruleId": lose["ruleId"], "level": lose["level"],
                 "message": lose["message"]})
            win["props"]["reportedBy"] = sorted({win["tool"], lose["tool"]})
            drop.add(id(lose))
            break
    return ([f for f in cpp if id(f) not in drop], [f for f in ff if id(f) not in drop])


def notification(rid, level, msg, loc):
    n = {"level": level, "message": {"text": msg or rid}, "descriptor": {"id": rid}}
    if loc and loc[0] and loc[1] >= 1:
        n["locations"] = [location(loc[0], loc[1], loc[2])]
    return n


# cppcheck's severities and flawfinder's default risk (0-5) as GitHub's security-severity
CPPCHECK_SEVERITY = {"error": "7.5", "warning": "5.0", "style": "2.0", "performance": "1.0",
                     "portability": "2.0", "information": "1.0"}
FLAWFINDER_SEVERITY = {5: "8.5", 4: "7.5", 3: "5.5", 2: "3.5", 1: "2.0", 0: "1.0"}


def cppcheck_rule(rid, f):
    """From cppcheck's catalogue (--errorlist); a checker not in it gets a fixed generic
    description (a result's message quotes the code, so it is never used)."""
    r = f["rule"]
    short = r["short"] or "cppcheck check %s" % rid
    full = r["full"] or "A problem that cppcheck's checker %s reports." % rid
    uri = ("https://cwe.mitre.org/data/definitions/%d.html" % r["cwe"] if r["cwe"]
           else "https://cppcheck.sourceforge.io/")
    level = CPPCHECK_LEVEL.get(r["severity"], "warning")
    return rule_descriptor(rid, short, full, "Fix the code as the description says, or "
                           "suppress a reviewed line with // cppcheck-suppress %s." % rid, level,
                           CPPCHECK_SEVERITY.get(r["severity"]), [r["cwe"]], uri, tags=["c"],
                           props={"severity": r["severity"]})


def flawfinder_rule(rid, f):
    """flawfinder's texts of the rule (its ruleset's warning and suggestion for the function,
    not the code), or a fixed generic description."""
    r = f["rule"]
    short = r["short"] or "flawfinder rule %s" % rid
    return rule_descriptor(rid, short, r["full"] or short,
                           "Replace the call with a safer one or check its arguments; see "
                           "flawfinder's documentation.", r["default_level"],
                           FLAWFINDER_SEVERITY.get(r["default_risk"]), [r["cwe"]],
                           r["help_uri"] or "https://dwheeler.com/flawfinder/", name=r["name"],
                           tags=["c"])


def params():
    includes, globs = path_params()
    min_level = os.environ.get("FF_PARAM_MIN_LEVEL", "") or "note"
    if min_level not in LEVELS:
        raise UsageError("min_level must be one of %s" % ", ".join(LEVELS))
    enable = os.environ.get("FF_PARAM_CPPCHECK_ENABLE", "") or ENABLE_CHOICES[2]
    if enable not in ENABLE_CHOICES:
        raise UsageError("cppcheck_enable must be one of %s" % " | ".join(ENABLE_CHOICES))
    return includes, globs, min_level, enable


def analyse(root, out, p):
    """Runs both tools over the tree at root (run_main has checked it) and writes the log."""
    includes, globs, min_level, enable = p
    os.chdir(root)
    progress(0, "listing files")
    sources, headers, incdirs = c_files(root, globs)
    sources = [f for f in sources if path_included(includes, f)]
    headers = [f for f in headers if path_included(includes, f)]
    # a header-only tree: cppcheck checks the headers themselves
    cpp_files = sources or headers
    progress(5, "%d sources, %d headers" % (len(sources), len(headers)))
    log("info", "files selected", sources=len(sources), headers=len(headers),
        include_dirs=len(incdirs))
    notes_cpp, notes_ff = [], []
    cpp_inv = {"executionSuccessful": True, "startTimeUtc": now_utc()}
    ff_inv = {"executionSuccessful": True}
    cpp, ff = [], []
    try:
        cpp_version = tool_version(["cppcheck", "--version"], r"Cppcheck\s+(\S+)")
        ff_version = tool_version(["flawfinder", "--version"], r"^\s*(\S+)")
        with tempfile.TemporaryDirectory(prefix="c-sast.") as tmp:
            if cpp_files:
                catalogue = cppcheck_catalogue()
                xml_root, cpp_argv = run_cppcheck(cpp_files, incdirs, enable, tmp, 5, 80)
                cpp_inv["arguments"] = cpp_argv
                cpp = cppcheck_findings(xml_root, catalogue, globs, notes_cpp)
            cpp_inv["endTimeUtc"] = ff_inv["startTimeUtc"] = now_utc()
            if sources or headers:
                progress(80, "flawfinder")
                rows, ff_argv = run_flawfinder(sources + headers, 80, 95)
                ff_inv["arguments"] = ff_argv
                ff = flawfinder_findings(rows, globs)
            ff_inv["endTimeUtc"] = now_utc()
    except ToolCrash as e:
        log("error", "a tool crashed", error=str(e))
        return 1
    total = len(cpp) + len(ff)
    cpp, ff = deduplicate(cpp, ff)
    merged = total - len(cpp) - len(ff)
    keep = set(LEVELS[:LEVELS.index(min_level) + 1])
    # cppcheck follows #includes: what it finds outside the included paths is dropped
    cpp = [f for f in cpp if f["level"] in keep and path_included(includes, f["path"])]
    ff = [f for f in ff if f["level"] in keep]
    cpp_inv["toolExecutionNotifications"] = notes_cpp
    ff_inv["toolExecutionNotifications"] = notes_ff
    lines = Lines(root)
    progress(95, "writing the SARIF log")
    runs = [
        findings_run("cppcheck", cpp_version, "https://cppcheck.sourceforge.io/", cpp, lines,
                     cpp_inv, cppcheck_rule),
        findings_run("flawfinder", ff_version, "https://dwheeler.com/flawfinder/", ff, lines,
                     ff_inv, flawfinder_rule),
    ]
    for run, n in zip(runs, (len(sources), len(sources) + len(headers))):
        run["properties"] = {"filesAnalyzed": n, "minLevel": min_level}
    runs[0]["properties"]["enable"] = enable
    return finish(out, runs, len(cpp) + len(ff),
                  None if sources or headers else "C or C++ files", cppcheck=len(cpp),
                  flawfinder=len(ff), merged=merged,
                  notifications=len(notes_cpp) + len(notes_ff))


if __name__ == "__main__":
    sys.exit(run_main(sys.argv, __doc__, params, analyse))
