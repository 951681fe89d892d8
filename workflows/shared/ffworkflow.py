"""ffworkflow: what the built-in workflows written in Python share: their main(), structured
logs on stderr, ::progress lines, exclude and include globs, the walk that lists a tree's files,
running a tool (its version, its files in chunks), the CPU quota, paths relative to /target,
source lines for snippets and fingerprints, SARIF locations and runs, and an atomic write of the
SARIF log, and the runner's guard against the code it runs. deploy/build-images.sh puts this
file next to each workflow's script in its image."""
import ctypes
import datetime
import fnmatch
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from urllib.parse import quote

SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")


class UsageError(Exception):
    pass


class ToolCrash(Exception):
    pass


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def log(level, msg, **fields):
    rec = {"ts": now_utc(), "level": level, "msg": msg}
    rec.update(fields)
    sys.stderr.write(json.dumps(rec) + "\n")
    sys.stderr.flush()


def progress(pct, text):
    sys.stdout.write("::progress %d %s\n" % (pct, text))
    sys.stdout.flush()


PR_SET_DUMPABLE = 4


def guard_runner():
    """Code from the target (a build script, a harness) runs as the runner's user. A
    non-dumpable process cannot be ptrace-attached, nor its memory read, by a process of the
    same user without CAP_SYS_PTRACE, which no workflow container has: the target cannot
    stop or steer the runner. (Children start dumpable again at their execve.)"""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError) as e:
        log("warning", "runner left dumpable", error=str(e))


def end_target_processes():
    """Before the log is written: as the container's PID 1, ends every other process in it
    (kill(-1) spares PID 1), so that nothing the target left running (a detached child of a
    build script) can rewrite the log after it is written. Outside a container, nothing."""
    if os.getpid() != 1:
        return
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break


def run_main(argv, doc, params, body):
    """The main() of a workflow runner, `script [ROOT [OUT]]` (defaults /target and
    /results/results.sarif); any other use prints doc (exit 2). params() reads the parameters
    from the environment and raises UsageError if one is invalid (logged, exit 2); ROOT must be
    a directory (else exit 1). Then body(absolute ROOT, OUT, what params() returned) runs the
    workflow and returns the exit code."""
    guard_runner()
    if len(argv) > 3 or (len(argv) > 1 and argv[1].startswith("-")):
        sys.stderr.write(doc)
        return 2
    root = argv[1] if len(argv) > 1 else "/target"
    out = argv[2] if len(argv) > 2 else "/results/results.sarif"
    try:
        p = params()
    except UsageError as e:
        log("error", str(e))
        return 2
    if not os.path.isdir(root):
        log("error", "cannot read the source tree", path=root)
        return 1
    return body(os.path.abspath(root), out, p)


def parse_globs(spec):
    return [g.strip() for g in spec.split(",") if g.strip()]


def path_params():
    """The parameters include and exclude shared by the static analyses: two lists of globs."""
    return (parse_globs(os.environ.get("FF_PARAM_INCLUDE", "")),
            parse_globs(os.environ.get("FF_PARAM_EXCLUDE", "")))


def glob_hit(globs, rel, name, is_dir):
    """The exclude rules shared by the built-in workflows: a glob without '/' matches a file or
    directory name at any depth; one with '/' matches the whole relative path ('*' crosses
    '/', a leading '/' anchors at the root); a trailing '/' matches directories only."""
    for g in globs:
        dir_only = g.endswith("/")
        g = g.rstrip("/")
        if not g or (dir_only and not is_dir):
            continue
        if "/" in g:
            if fnmatch.fnmatchcase(rel, g.lstrip("/")):
                return True
        elif fnmatch.fnmatchcase(name, g):
            return True
    return False


def path_included(globs, rel):
    """The include rule shared by the built-in workflows: with no globs every path; else a path
    that a glob selects by the exclude rules (glob_hit), itself or through a directory above
    it, so that "src" or "src/" takes everything below src."""
    if not globs:
        return True
    parts = rel.split("/")
    for i in range(1, len(parts)):
        if glob_hit(globs, "/".join(parts[:i]), parts[i - 1], True):
            return True
    return glob_hit(globs, rel, parts[-1], False)


def list_files(root, globs, skip_dirs, wanted, dirs=None):
    """Sorted paths, relative to root, of the regular files under root that the exclude globs
    leave and wanted(rel, full path) accepts; wanted is asked only about those, in walk order.
    Symbolic links are not followed, to files or directories. A directory is not entered if its
    name matches one of skip_dirs (names, or name globs such as "*.egg") or the exclude globs
    exclude it; each one entered is appended, relative, to dirs if given. An unreadable
    directory is logged and passed over."""
    files = []

    def onerror(e):
        log("warning", "cannot read directory", path=str(e.filename), error=e.strerror)

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        reldir = os.path.relpath(dirpath, root)
        reldir = "" if reldir == "." else reldir
        keep = []
        for d in sorted(dirnames):
            rel = reldir + "/" + d if reldir else d
            if any(fnmatch.fnmatchcase(d, s) for s in skip_dirs) or \
                    os.path.islink(os.path.join(dirpath, d)) or glob_hit(globs, rel, d, True):
                continue
            keep.append(d)
            if dirs is not None:
                dirs.append(rel)
        dirnames[:] = keep
        for f in sorted(filenames):
            rel = reldir + "/" + f if reldir else f
            full = os.path.join(dirpath, f)
            if os.path.islink(full) or not os.path.isfile(full) or glob_hit(globs, rel, f, False):
                continue
            if wanted(rel, full):
                files.append(rel)
    return sorted(files)


def first_line(path):
    """The first line of a file, of its first 256 bytes, as bytes (a shebang); None if the file
    cannot be read."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    return head.split(b"\n", 1)[0]


def tool_version(argv, pattern):
    """What the first group of the regular expression pattern matches in the output of argv
    (such as ["cppcheck", "--version"]); ToolCrash if argv cannot run or says no such thing."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ToolCrash("%s: %s" % (argv[0], e))
    m = re.search(pattern, out)
    if not m:
        raise ToolCrash("%s --version said %r" % (argv[0], out.strip()))
    return m.group(1)


def run_tool(argv):
    """Runs argv to its end, its stdout and stderr captured as text; ToolCrash if it cannot
    start."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, errors="replace")
    except OSError as e:
        raise ToolCrash("%s: %s" % (argv[0], e))


def chunked(files, size, tool, pct_from, pct_to):
    """Yields (n, the n-th chunk of size files) for a tool run over files in chunks. When the
    caller is done with a chunk (asks for the next one), a ::progress line "<tool>: <k> of
    <total> files" tells it, the percentage going from pct_from to pct_to."""
    chunks = [files[i:i + size] for i in range(0, len(files), size)]
    for n, chunk in enumerate(chunks):
        yield n, chunk
        progress(pct_from + (pct_to - pct_from) * (n + 1) // len(chunks),
                 "%s: %d of %d files" % (tool, min((n + 1) * size, len(files)), len(files)))


def cpu_count():
    """Cores this container may use: the affinity mask, capped by a cgroup CPU quota."""
    n = len(os.sched_getaffinity(0))
    quota = None
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            q, p = f.read().split()[:2]
            if q != "max":
                quota = int(q) / int(p)
    except (OSError, ValueError):
        try:
            with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
                q = int(f.read())
            with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
                p = int(f.read())
            if q > 0 and p > 0:
                quota = q / p
        except (OSError, ValueError):
            pass
    if quota:
        n = min(n, max(1, int(quota + 0.5)))
    return max(1, n)


def norm_path(p):
    """The path relative to the root, or None if it is outside (a system header)."""
    if not p:
        return None
    p = os.path.normpath(p.replace("\\", "/"))
    if os.path.isabs(p):
        if not p.startswith("/target/"):
            return None
        p = p[len("/target/"):]
    if p == "." or p.startswith("../"):
        return None
    return p


def tree_path(p):
    """A path a tool reported relative to the tree (its working directory), normalised; None if
    it is empty, absolute or outside the tree."""
    if not p:
        return None
    p = os.path.normpath(str(p))
    if os.path.isabs(p) or p == "." or p.startswith("../"):
        return None
    return p


def uri_of(path):
    return quote(path, safe="/")


class Lines:
    """Source lines of the target's files, read once each, for fingerprints and snippets."""

    def __init__(self, root, max_bytes=64 << 20):
        self.root, self.cache, self.max_bytes = root, {}, max_bytes

    def get(self, path, line):
        if path not in self.cache:
            try:
                with open(os.path.join(self.root, path), "rb") as f:
                    self.cache[path] = f.read(self.max_bytes).decode("utf-8", "replace").split("\n")
            except OSError:
                self.cache[path] = []
        lines = self.cache[path]
        return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""


def location(path, line=0, col=0, end_line=0, end_col=0):
    """A SARIF location of a file of the tree (relative to SRCROOT). Its region, if line > 0,
    starts at line and col (if > 0), and with a start column ends at end_line and end_col if
    they are given and after the start."""
    loc = {"physicalLocation": {"artifactLocation": {"uri": uri_of(path), "uriBaseId": "SRCROOT"}}}
    if line and line > 0:
        region = {"startLine": line}
        if col and col > 0:
            region["startColumn"] = col
            if end_col > 0 and (end_line, end_col) > (line, col):
                region["endLine"] = end_line
                region["endColumn"] = end_col
        loc["physicalLocation"]["region"] = region
    return loc


# GitHub code scanning ranks a rule by properties.security-severity, a CVSS-like score
# ("9.0" and up critical, 7.0 high, 4.0 medium, below low); a rule without a score of its own
# gets one by its default level.
SEVERITY_OF_LEVEL = {"error": "7.5", "warning": "5.0", "note": "2.0", "none": "0.0"}


def rule_descriptor(rid, short, full, help_text, level, severity=None, cwes=(), help_uri=None,
                    name=None, tags=(), props=None):
    """A SARIF reportingDescriptor that GitHub code scanning ranks and explains: short and
    full descriptions, help as text and markdown (with the help URI as a link), the default
    level, properties.security-severity (a CVSS-like score as a string, from level when not
    given) and tags: "security", external/cwe/cwe-<n> for each CWE, then tags.

    Every text must come from a fixed table or the tool's own rule catalogue, never from a
    result: a result's message can quote the scanned code, a planted secret included."""
    cwes = sorted({int(c) for c in cwes if c})
    help_md = "%s\n\n%s" % (full, help_text)
    if cwes:
        help_md += "\n\n" + ", ".join(
            "[CWE-%d](https://cwe.mitre.org/data/definitions/%d.html)" % (c, c) for c in cwes)
    if help_uri:
        help_md += "\n\n[Documentation](%s)" % help_uri
    rule = {"id": rid, "shortDescription": {"text": short}, "fullDescription": {"text": full},
            "help": {"text": help_text + (" See %s" % help_uri if help_uri else ""),
                     "markdown": help_md},
            "defaultConfiguration": {"level": level},
            "properties": dict(props or {})}
    if name:
        rule["name"] = name
    if help_uri:
        rule["helpUri"] = help_uri
    rule["properties"]["security-severity"] = severity or SEVERITY_OF_LEVEL.get(level, "5.0")
    rule["properties"]["tags"] = ["security"] + ["external/cwe/cwe-%d" % c for c in cwes] + \
        [t for t in tags if t != "security"]
    return rule


def sarif_run(tool, version, info_uri, rules, invocation, results):
    """A SARIF run of one tool over the tree, mounted at /target (SRCROOT)."""
    return {
        "tool": {"driver": {"name": tool, "version": version, "informationUri": info_uri,
                            "rules": rules}},
        "invocations": [invocation],
        "originalUriBaseIds": {"SRCROOT": {"uri": "file:///target/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }


def findings_run(tool, version, info_uri, findings, lines, invocation, make_rule):
    """The SARIF run of a static analyser's findings, dicts with ruleId, level, message, path,
    line, col, props (the result's properties) and optionally end_line and end_col (the end of
    the region) and related (its relatedLocations). findings are sorted by place, in place; a
    result's region has its source line (lines, a Lines) as the snippet, and its fingerprint
    ruleLineHash/v1 hashes the rule, the path and the trimmed line, with a count among equal
    ones, so that it survives edits elsewhere in the file. The rules are make_rule(rule id,
    the rule's first finding), sorted by id: make_rule may read what the tool says of the
    rule (its severity, its CWE), never the finding's message (see rule_descriptor)."""
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
        loc = location(f["path"], f["line"], f["col"], f.get("end_line", 0), f.get("end_col", 0))
        if text.strip():
            loc["physicalLocation"]["region"]["snippet"] = {"text": text[:500]}
        res = {"ruleId": f["ruleId"], "ruleIndex": index[f["ruleId"]], "level": f["level"],
               "message": {"text": f["message"] or f["ruleId"]}, "locations": [loc],
               "partialFingerprints": {"ruleLineHash/v1": "%s:%d" % (h, seen[h])},
               "properties": f["props"]}
        if f.get("related"):
            res["relatedLocations"] = f["related"]
        results.append(res)
    return sarif_run(tool, version, info_uri, [make_rule(rid, first[rid]) for rid in rule_ids],
                     invocation, results)


def write_log(out, log_obj):
    """Writes the log next to out and renames it into place, so a reader never sees half."""
    d = os.path.dirname(out) or "."
    fd, tmp = tempfile.mkstemp(prefix=".results.", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(log_obj, f, indent=1, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_sarif(out, runs):
    """Writes the SARIF 2.1.0 log of runs to out (write_log), once every other process of
    the container has ended; False, once logged, if it cannot."""
    end_target_processes()
    try:
        write_log(out, {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs})
    except OSError as e:
        log("error", "cannot write the SARIF log", path=out, error=str(e))
        return False
    return True


def finish(out, runs, count, kind=None, **fields):
    """The end of a static analysis: writes the SARIF log of runs, logs "analysis done" with
    fields and a last ::progress line of count findings. The exit code: 0, or 1 if the log could
    not be written.

    kind names the files the analysis looks for ("Python files") when the tree has none: the
    rule every built-in static analysis keeps is that nothing to analyse is a success with 0
    findings, said in a note-level notification of each run and in the last ::progress line
    ("nothing to analyse: no Python files")."""
    empty = "nothing to analyse: no %s" % kind if kind else None
    if empty:
        for run in runs:
            for inv in run.get("invocations", []):
                inv.setdefault("toolExecutionNotifications", []).append(
                    {"level": "note", "message": {"text": empty}})
    if not write_sarif(out, runs):
        return 1
    log("info", "analysis done", **fields)
    progress(100, empty or "%d findings" % count)
    return 0
