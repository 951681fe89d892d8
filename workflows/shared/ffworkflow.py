"""ffworkflow: what the built-in workflows written in Python share: structured logs on stderr,
::progress lines, exclude globs, the CPU quota, source lines for snippets and fingerprints,
paths relative to /target, and an atomic write of the SARIF log. deploy/build-images.sh puts
this file next to each workflow's script in its image."""
import datetime
import fnmatch
import json
import os
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


def parse_globs(spec):
    return [g.strip() for g in spec.split(",") if g.strip()]


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
