#!/usr/bin/python3
"""libfuzzer: builds a source tree's libFuzzer harnesses with ASan and UBSan, runs a
time-boxed fuzzing campaign over them and writes each unique crash as a SARIF 2.1.0 result,
with its reproducer input under /results/artifacts/.

Build. If the tree has fuzz/build.sh, it builds the fuzzers (OSS-Fuzz style): it runs in a
copy of the tree (SRC; /target is read-only) with CC, CXX, CFLAGS, CXXFLAGS,
LIB_FUZZING_ENGINE and OUT set, and every executable it leaves in OUT that links libFuzzer is a
fuzzer. Otherwise every .c/.cc/.cpp/.cxx file defining LLVMFuzzerTestOneInput is a harness,
built together with each .c/.cc/.cpp/.cxx file of its own directory that defines neither main
nor LLVMFuzzerTestOneInput. A harness that does not build is a note-level "build-failure"
result, not a failed run.

Campaign. max_total_time is the budget of the whole campaign, split evenly across the
fuzzers, which run one after another, each in libFuzzer's fork mode with one worker per CPU
of the container. Fork mode keeps fuzzing past a crash, so one run can find several bugs.

Results. Every crash input is replayed once with symbolised stack traces; crashes of one
kind whose top three frames inside the tree are the same functions are one result, whose
reproducer is the smallest input that showed it.

usage: libfuzzer_run.py [ROOT [OUT]]   (defaults /target and /results/results.sarif)
Parameters come from the environment, as the platform passes them:
  FF_PARAM_MAX_TOTAL_TIME       campaign budget in seconds (default 60, 1..3600)
  FF_PARAM_MAX_LEN              longest input libFuzzer generates, bytes (default 4096)
  FF_PARAM_FUZZERS              comma-separated fuzzer names to run (default: all)
  FF_PARAM_TIMEOUT_PER_INPUT_S  an input running longer is a "timeout" crash (default 10)
  FF_TIMEOUT_S                  the run's time limit; the campaign is cut to fit it
  FF_LIBFUZZER_WORK             scratch directory (default /tmp; for tests outside the image)
Exit status: 0 the campaign ran (with or without findings, also when some harnesses did not
build), 1 "no fuzz harness found" (neither a harness nor fuzz/build.sh: the log says so in
its invocation), there were harnesses and none built, or the runner broke, 2 an invalid
parameter.
"""
import concurrent.futures
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

from ffworkflow import (ToolCrash, UsageError, cpu_count, location, log, now_utc,
                        rule_descriptor, run_main, sarif_run, tool_version, uri_of, write_sarif)

CC, CXX = "clang", "clang++"
SYMBOLIZERS = ["/usr/lib/llvm-14/bin/llvm-symbolizer", "/usr/bin/llvm-symbolizer",
               "/usr/bin/llvm-symbolizer-14"]
C_EXT = {".c"}
CXX_EXT = {".cc", ".cpp", ".cxx"}
SKIP_DIRS = {".git", ".hg", ".svn", ".bzr", "CVS", "node_modules"}
SANITIZE = ["-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=undefined"]
BASE_FLAGS = ["-g", "-O1", "-fno-omit-frame-pointer",
              "-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"]
# build.sh gets OSS-Fuzz's split: objects instrumented, libFuzzer linked by LIB_FUZZING_ENGINE
SCRIPT_FLAGS = BASE_FLAGS + ["-fsanitize=address,undefined,fuzzer-no-link",
                             "-fno-sanitize-recover=undefined"]

MAX_SCAN_FILES = 200000      # files looked at when discovering harnesses
MAX_SOURCE_BYTES = 4 << 20   # bigger files are not read for discovery
MAX_HARNESSES = 64
COMPILE_TIMEOUT_S = 600      # one compiler or linker invocation
SCRIPT_TIMEOUT_S = 1800      # fuzz/build.sh
REPRO_PER_FUZZER = 30        # crash inputs replayed per fuzzer (the smallest first)
REPRO_TIMEOUTS_PER_FUZZER = 3  # of which inputs that timed out (each costs a timeout)
MAX_OUTPUT = 1 << 20         # bytes kept of one replay's or build's output
RELAY_LINES = 400            # libFuzzer lines per fuzzer copied to our log
PROGRESS_EVERY_S = 2.0
RESERVE_S = 90               # of the run's time limit, kept for replays and the log
STACK_FRAMES = 24            # frames kept in a result's stack
SIGNATURE_FRAMES = 3

RULES = {
    "heap-buffer-overflow": ("Heap buffer overflow",
                             "A read or write outside the bounds of a heap allocation."),
    "stack-buffer-overflow": ("Stack buffer overflow",
                              "A read or write outside the bounds of a stack variable."),
    "global-buffer-overflow": ("Global buffer overflow",
                               "A read or write outside the bounds of a global variable."),
    "dynamic-stack-buffer-overflow": ("Dynamic stack buffer overflow",
                                      "A read or write outside the bounds of an alloca or a "
                                      "variable-length array."),
    "use-after-free": ("Use after free", "Memory accessed after it was freed."),
    "double-free": ("Double free", "Memory freed twice."),
    "bad-free": ("Invalid free", "free() of an address that malloc() did not return."),
    "stack-use-after-return": ("Stack use after return",
                               "A stack variable accessed after its function returned."),
    "stack-use-after-scope": ("Stack use after scope",
                              "A stack variable accessed outside its scope."),
    "stack-overflow": ("Stack overflow", "Unbounded recursion or a huge stack frame."),
    "segv": ("Invalid memory access (SEGV)",
             "A read or write of an unmapped address, such as a null pointer dereference."),
    "undefined-behavior": ("Undefined behavior",
                           "UndefinedBehaviorSanitizer found undefined behavior, such as a "
                           "signed integer overflow or a misaligned or null pointer."),
    "leak": ("Memory leak", "Memory allocated while running one input was never freed."),
    "timeout": ("Timeout", "One input ran longer than timeout_per_input_s."),
    "oom": ("Out of memory", "One input used more memory than the fuzzer's limit."),
    "deadly-signal": ("Deadly signal",
                      "The fuzz target died of a signal, such as SIGABRT from abort() or a "
                      "failed assert()."),
    "fuzz-target-exited": ("Fuzz target exited", "The fuzz target called exit()."),
    "crash": ("Crash that did not reproduce",
              "libFuzzer saw this input crash, but it ran cleanly when replayed."),
    "build-failure": ("Harness build failure", "A fuzz harness did not compile or link."),
    "fuzzer-failure": ("Fuzzer failure", "A fuzzer stopped without fuzzing."),
    "unknown-fuzzer": ("Unknown fuzzer",
                       "The fuzzers parameter names a fuzzer the target does not have."),
}
NOTE_RULES = {"build-failure", "fuzzer-failure", "unknown-fuzzer"}
# each rule's CWE (0: none) and GitHub security-severity (a CVSS-like score)
RULE_RANK = {
    "heap-buffer-overflow": (122, "8.8"), "stack-buffer-overflow": (121, "8.8"),
    "global-buffer-overflow": (787, "8.1"), "dynamic-stack-buffer-overflow": (121, "8.8"),
    "use-after-free": (416, "8.8"), "double-free": (415, "8.1"), "bad-free": (590, "7.5"),
    "stack-use-after-return": (562, "7.5"), "stack-use-after-scope": (562, "7.5"),
    "stack-overflow": (674, "5.5"), "segv": (476, "7.0"), "undefined-behavior": (758, "5.0"),
    "leak": (401, "3.5"), "timeout": (835, "3.5"), "oom": (789, "4.0"),
    "deadly-signal": (617, "5.5"), "fuzz-target-exited": (0, "3.0"), "crash": (0, "5.0"),
    "build-failure": (0, "1.0"), "fuzzer-failure": (0, "1.0"), "unknown-fuzzer": (0, "1.0"),
}
NO_HARNESS = "no fuzz harness found"
ARTIFACT_PREFIXES = ("crash-", "leak-", "timeout-", "oom-")

STATUS_RE = re.compile(r"^#(\d+)[:\s].*?\bcov: (\d+)(?:.*?\bft: (\d+))?(?:.*?\bcorp: (\d+))?"
                       r".*?\bexec/s:? (\d+)")
FRAME_RE = re.compile(r"^\s*#(\d+)\s+0x[0-9a-fA-F]+\s*(.*)$")
STAT_RE = re.compile(r"^stat::(number_of_executed_units|average_exec_per_sec): (\d+)")
SUMMARY_RE = re.compile(r"^SUMMARY: (\w+): (.*)$", re.M)
HARNESS_RE = re.compile(rb"\bLLVMFuzzerTestOneInput\s*\(")
MAIN_RE = re.compile(rb"\bmain\s*\(")
CC_ERROR_RE = re.compile(r"^(.+?):(\d+):(?:(\d+):)? (?:fatal )?error: ", re.M)


class Progress:
    """::progress lines on stdout, at most one per PROGRESS_EVERY_S unless forced."""

    def __init__(self):
        self.last = 0.0

    def __call__(self, pct, text, force=False):
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        sys.stdout.write("::progress %d %s\n" % (max(0, min(100, int(pct))), text))
        sys.stdout.flush()


progress = Progress()


# --- environment -----------------------------------------------------------------------------

def memory_mb():
    """The container's memory limit in MiB, or None when unlimited."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                v = f.read().strip()
        except OSError:
            continue
        if v.isdigit() and int(v) < (1 << 50):
            return int(v) >> 20
        return None
    return None


def rss_limit_mb(workers):
    """Per fuzzing process: the container's memory shared by the workers, less room for the
    fork-mode parent and /tmp; libFuzzer's own default (2048) when there is no limit."""
    mem = memory_mb()
    if not mem:
        return 2048
    return max(256, min(2048, (mem - 384) // workers))


def symbolizer():
    for p in SYMBOLIZERS:
        if os.access(p, os.X_OK):
            return p
    return shutil.which("llvm-symbolizer")


def sanitizer_env(work, symbolize):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("FF_PARAM_"):
            del env[k]
    sym = symbolizer()
    asan = ["symbolize=%d" % symbolize, "detect_leaks=1", "print_summary=1"]
    if symbolize and sym:
        asan.append("external_symbolizer_path=" + sym)
    env["ASAN_OPTIONS"] = ":".join(asan)
    env["UBSAN_OPTIONS"] = ":".join(["print_stacktrace=1", "halt_on_error=1",
                                     "symbolize=%d" % symbolize, "print_summary=1"] +
                                    (["external_symbolizer_path=" + sym]
                                     if symbolize and sym else []))
    env["TMPDIR"] = work
    return env


def clang_version():
    try:
        return tool_version([CC, "--version"], r"clang version (\S+)")
    except ToolCrash:
        return "unknown"


def run_capture(argv, cwd, timeout, env=None):
    """Runs argv with stdout and stderr together; returns (exit code or None on timeout or
    exec failure, output text capped at MAX_OUTPUT)."""
    try:
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
    except OSError as e:
        return None, "%s: %s" % (argv[0], e)
    out = bytearray()
    fired = []

    def expire():
        fired.append(True)
        kill_group(p)

    timer = threading.Timer(timeout, expire)
    timer.start()
    try:
        while True:
            chunk = p.stdout.read(65536)
            if not chunk:
                break
            if len(out) < MAX_OUTPUT:
                out += chunk[:MAX_OUTPUT - len(out)]
        rc = p.wait()
    finally:
        timer.cancel()
        p.stdout.close()
    kill_group(p)  # whatever it left running
    text = out.decode("utf-8", "replace")
    return (None if fired else rc), text


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- parameters ------------------------------------------------------------------------------

def int_param(name, default, lo, hi):
    raw = os.environ.get("FF_PARAM_" + name, "").strip()
    if not raw:
        return default
    try:
        v = int(float(raw))
    except ValueError:
        raise UsageError("%s must be an integer" % name.lower())
    if v < lo or v > hi:
        raise UsageError("%s must be between %d and %d" % (name.lower(), lo, hi))
    return v


def params():
    p = {
        "max_total_time": int_param("MAX_TOTAL_TIME", 60, 1, 3600),
        "max_len": int_param("MAX_LEN", 4096, 1, 1 << 20),
        "timeout_per_input_s": int_param("TIMEOUT_PER_INPUT_S", 10, 1, 300),
        "fuzzers": [],
    }
    for name in os.environ.get("FF_PARAM_FUZZERS", "").split(","):
        name = name.strip()
        if name and name not in p["fuzzers"]:
            p["fuzzers"].append(name)
    return p


# --- discovery and build ---------------------------------------------------------------------

class Fuzzer:
    def __init__(self, name, binary=None, harness=None, sources=(), seed_dirs=(), dicts=()):
        self.name = name
        self.binary = binary
        self.harness = harness          # path relative to the tree (discovery), or None
        self.sources = list(sources)    # absolute paths (discovery)
        self.seed_dirs = list(seed_dirs)
        self.dicts = list(dicts)
        self.stats = {"seconds": 0, "execs": 0, "execPerSec": 0, "coverage": 0,
                      "features": 0, "corpus": 0, "crashInputs": 0, "uniqueCrashes": 0,
                      "firstCrashAfterS": None}


def read_head(path):
    try:
        if os.path.getsize(path) > MAX_SOURCE_BYTES:
            return None
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def walk_sources(root):
    """Yields absolute paths of the C and C++ sources under root, no symlinks followed."""
    seen = 0
    for d, dirs, files in os.walk(root, onerror=lambda e: log("warning", "cannot list",
                                                                  path=e.filename)):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("."))
        for name in sorted(files):
            seen += 1
            if seen > MAX_SCAN_FILES:
                log("warning", "too many files, discovery stopped", limit=MAX_SCAN_FILES)
                return
            ext = os.path.splitext(name)[1]
            path = os.path.join(d, name)
            if ext in C_EXT | CXX_EXT and os.path.isfile(path) and not os.path.islink(path):
                yield path


def line_of(data, rx):
    m = rx.search(data)
    return data.count(b"\n", 0, m.start()) + 1 if m else 1


def seeds_for(name, dirs):
    seeds, dicts = [], []
    for d in dirs:
        for cand in (os.path.join(d, name + "_seed_corpus"), os.path.join(d, "corpus", name)):
            if os.path.isdir(cand) and cand not in seeds:
                seeds.append(cand)
        cand = os.path.join(d, name + ".dict")
        if os.path.isfile(cand) and not dicts:
            dicts.append(cand)
    return seeds, dicts


def discover(root):
    """Harnesses under root: [(name, harness abs path, [sources], harness line)]."""
    by_dir = {}
    for path in walk_sources(root):
        data = read_head(path)
        if data is None:
            continue
        d = os.path.dirname(path)
        kind = ("harness" if HARNESS_RE.search(data)
                else "main" if MAIN_RE.search(data) else "lib")
        by_dir.setdefault(d, []).append((path, kind, data))
    harnesses = []
    for d in sorted(by_dir):
        libs = [p for p, k, _ in by_dir[d] if k == "lib"]
        for path, kind, data in by_dir[d]:
            if kind == "harness":
                harnesses.append((path, [path] + libs, line_of(data, HARNESS_RE)))
    if len(harnesses) > MAX_HARNESSES:
        log("warning", "too many harnesses, the rest are skipped", limit=MAX_HARNESSES,
            found=len(harnesses))
        harnesses = harnesses[:MAX_HARNESSES]
    # a fuzzer is named after its harness file; two of one name are told apart by path
    stems = {}
    for path, _, _ in harnesses:
        stem = os.path.splitext(os.path.basename(path))[0]
        stems[stem] = stems.get(stem, 0) + 1
    out = []
    for path, sources, line in harnesses:
        stem = os.path.splitext(os.path.basename(path))[0]
        if stems[stem] > 1:
            stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.splitext(
                os.path.relpath(path, root))[0])
        out.append((stem, path, sources, line))
    return out


def include_dirs(root, d):
    cands = [d, os.path.join(d, "include"), os.path.dirname(d),
             os.path.join(os.path.dirname(d), "include"), os.path.join(root, "include"), root]
    out = []
    for c in cands:
        c = os.path.normpath(c)
        if (c == root or c.startswith(root + os.sep)) and os.path.isdir(c) and c not in out:
            out.append(c)
    return ["-I" + c for c in out]


def first_error(text, root, fallback_path, fallback_line):
    """(relative path, line, column) of the compiler's first error inside the tree."""
    for m in CC_ERROR_RE.finditer(text):
        rel = in_tree(m.group(1), root, ())
        if rel:
            return rel, int(m.group(2)), int(m.group(3) or 0)
    return fallback_path, fallback_line, 0


def error_excerpt(text, limit=3000):
    """The compiler's output from its first error on, short enough for a message."""
    lines = text.splitlines()
    start = 0
    for i, ln in enumerate(lines):
        if " error: " in ln or ln.startswith("error:") or "undefined reference" in ln:
            start = i
            break
    out = "\n".join(lines[start:start + 40]).strip()
    if len(out) > limit:
        out = out[:limit] + "\n..."
    return out or "(no output)"


def build_harness(root, build, name, harness, sources):
    """Compiles and links one harness. Returns (binary, None) or (None, failure dict)."""
    objdir = os.path.join(build, "obj", name)
    os.makedirs(objdir, exist_ok=True)
    incs = include_dirs(root, os.path.dirname(harness))
    objs, cxx = [], False
    for i, src in enumerate(sources):
        is_cxx = os.path.splitext(src)[1] in CXX_EXT
        cxx = cxx or is_cxx
        obj = os.path.join(objdir, "%d_%s.o" % (i, os.path.basename(src)))
        argv = [CXX if is_cxx else CC] + BASE_FLAGS + SANITIZE + incs + ["-c", src, "-o", obj]
        rc, out = run_capture(argv, os.path.dirname(src), COMPILE_TIMEOUT_S)
        if rc != 0:
            return None, {"stage": "compile", "source": src, "output": out,
                          "timed_out": rc is None}
        objs.append(obj)
    binary = os.path.join(build, "bin", name)
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    argv = [CXX if cxx else CC] + BASE_FLAGS + SANITIZE + objs + ["-o", binary]
    rc, out = run_capture(argv, build, COMPILE_TIMEOUT_S)
    if rc != 0:
        return None, {"stage": "link", "source": harness, "output": out,
                      "timed_out": rc is None}
    return binary, None


def is_fuzzer_binary(path):
    try:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return False
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                return False
            f.seek(0)
            data = f.read(512 << 20)
        return b"LLVMFuzzerTestOneInput" in data or b"libFuzzer" in data
    except OSError:
        return False


def build_with_script(root, build, findings):
    """Runs fuzz/build.sh in a copy of the tree; returns (fuzzers, source copy)."""
    src = os.path.join(build, "src")
    out = os.path.join(build, "out")
    scratch = os.path.join(build, "work")
    for d in (out, scratch):
        os.makedirs(d, exist_ok=True)
    progress(2, "copying the tree for fuzz/build.sh", force=True)
    try:
        shutil.copytree(root, src, symlinks=True)
    except (OSError, shutil.Error) as e:
        findings.append(build_failure("fuzz/build.sh", 0, 0, "fuzz/build.sh",
                                      "cannot copy the tree to build it: %s" % e))
        return [], src
    script = os.path.join(src, "fuzz", "build.sh")
    argv = [script] if os.access(script, os.X_OK) else ["/bin/sh", script]
    flags = " ".join(SCRIPT_FLAGS)
    env = dict(os.environ, OUT=out, SRC=src, WORK=scratch, CC=CC, CXX=CXX, CFLAGS=flags,
               CXXFLAGS=flags, LIB_FUZZING_ENGINE="-fsanitize=fuzzer", SANITIZER="address",
               FUZZING_ENGINE="libfuzzer", ARCHITECTURE="x86_64", TMPDIR=scratch)
    progress(3, "running fuzz/build.sh", force=True)
    log("info", "running fuzz/build.sh", argv=argv)
    rc, text = run_capture(argv, src, SCRIPT_TIMEOUT_S, env)
    log("info", "fuzz/build.sh output", exit_code=rc,
        tail=text.strip().splitlines()[-20:])
    if rc != 0:
        what = ("timed out after %d s" % SCRIPT_TIMEOUT_S if rc is None
                else "exited with code %d" % rc)
        tail = "\n".join(text.strip().splitlines()[-30:])[-3000:]
        findings.append(build_failure("fuzz/build.sh", 0, 0, "fuzz/build.sh",
                                      "fuzz/build.sh %s:\n%s" % (what, tail)))
        log("warning", "fuzz/build.sh failed", exit_code=rc)
    fuzzers = []
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if is_fuzzer_binary(path):
            seeds, dicts = seeds_for(name, [out, os.path.join(root, "fuzz")])
            fuzzers.append(Fuzzer(name, binary=path, seed_dirs=seeds, dicts=dicts))
    return fuzzers, src


def build_failure(fuzzer, line, col, path, text):
    return {"ruleId": "build-failure", "level": "note", "message": text, "path": path,
            "line": line, "col": col, "props": {"fuzzer": fuzzer},
            "fingerprint": sha256("build-failure\0%s" % fuzzer)}


def sha256(s):
    return hashlib.sha256(s.encode("utf-8", "surrogateescape")).hexdigest()


# --- campaign --------------------------------------------------------------------------------

class Campaign:
    """Runs the fuzzers one after another and streams their progress."""

    def __init__(self, work, p, ncpu, budget_s):
        self.work = work
        self.p = p
        self.ncpu = ncpu
        self.budget = max(1, budget_s)
        self.started = None

    def pct(self):
        return min(99, int(100 * (time.monotonic() - self.started) / self.budget))

    def crash_inputs(self, d):
        try:
            return sum(1 for n in os.listdir(d) if n.startswith(ARTIFACT_PREFIXES))
        except OSError:
            return 0

    def run(self, f, seconds, hard_deadline):
        corpus = os.path.join(self.work, "corpus", f.name)
        crashes = os.path.join(self.work, "crashes", f.name)
        cwd = os.path.join(self.work, "work", f.name)
        for d in (corpus, crashes, cwd):
            os.makedirs(d, exist_ok=True)
        rss = rss_limit_mb(self.ncpu)
        argv = [f.binary, "-fork=%d" % self.ncpu, "-ignore_crashes=1", "-ignore_timeouts=1",
                "-ignore_ooms=1", "-max_total_time=%d" % seconds,
                "-max_len=%d" % self.p["max_len"], "-timeout=%d" % self.p["timeout_per_input_s"],
                "-rss_limit_mb=%d" % rss, "-artifact_prefix=%s/" % crashes,
                "-print_final_stats=1"]
        if f.dicts:
            argv.append("-dict=" + f.dicts[0])
        argv += [corpus] + f.seed_dirs
        log("info", "fuzzing", fuzzer=f.name, seconds=seconds, workers=self.ncpu,
            rss_limit_mb=rss, argv=argv)
        state = {"execs": 0, "eps": 0, "cov": 0, "ft": 0, "corp": 0, "lines": 0, "tail": []}
        lock = threading.Lock()
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=sanitizer_env(cwd, 0),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            return "cannot start %s: %s" % (f.binary, e)

        def reader():
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                m = STATUS_RE.match(line)
                st = STAT_RE.match(line)
                with lock:
                    if st:
                        state["execs" if st.group(1).startswith("number") else "eps"] = \
                            int(st.group(2))
                    if m:
                        state["execs"] = int(m.group(1))
                        state["cov"] = int(m.group(2))
                        state["ft"] = int(m.group(3) or 0)
                        state["corp"] = int(m.group(4) or 0)
                        state["eps"] = int(m.group(5))
                    state["tail"] = (state["tail"] + [line])[-40:]
                    state["lines"] += 1
                    n = state["lines"]
                if n <= RELAY_LINES:
                    log("info", "libfuzzer", fuzzer=f.name, line=line[:2000])
                elif n == RELAY_LINES + 1:
                    log("info", "further libFuzzer output not copied", fuzzer=f.name)

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        killed = False
        while proc.poll() is None:
            time.sleep(0.5)
            with lock:
                execs, cov = state["execs"], state["cov"]
            # fork mode's exec/s is the last job's; the average since the start is steadier
            eps = int(execs / max(1e-3, time.monotonic() - t0))
            ncrash = self.crash_inputs(crashes)
            if ncrash and f.stats["firstCrashAfterS"] is None:
                f.stats["firstCrashAfterS"] = round(time.monotonic() - t0, 1)
                log("info", "first crash", fuzzer=f.name,
                    after_s=f.stats["firstCrashAfterS"])
            progress(self.pct(), "%s: %d exec/s, cov %d, crashes %d"
                     % (f.name, eps, cov, ncrash))
            if time.monotonic() > hard_deadline and not killed:
                log("warning", "fuzzer overran its time, stopped", fuzzer=f.name)
                kill_group(proc)
                killed = True
        kill_group(proc)  # fork-mode jobs it may have left behind
        th.join(10)
        elapsed = time.monotonic() - t0
        with lock:
            f.stats.update({"seconds": round(elapsed, 1), "execs": state["execs"],
                            "execPerSec": int(state["execs"] / elapsed) if elapsed > 0 else 0,
                            "coverage": state["cov"], "features": state["ft"],
                            "corpus": state["corp"]})
            tail = list(state["tail"])
        f.stats["crashInputs"] = self.crash_inputs(crashes)
        log("info", "fuzzer done", fuzzer=f.name, exit_code=proc.returncode, **f.stats)
        # fork mode exits 0, or 1 after crashes it ignored; anything else early with nothing
        # to show means the fuzzer never fuzzed
        if (proc.returncode not in (0, 1) and not killed and not f.stats["crashInputs"]
                and not state["execs"]):
            return "%s exited with code %s after %.0f s:\n%s" % (
                f.name, proc.returncode, elapsed, "\n".join(tail[-20:]))
        return None


# --- crash reports ---------------------------------------------------------------------------

def in_tree(path, root, extra_roots):
    """The path relative to the tree when it names a file of the tree, else None."""
    if not path or path.startswith("?"):
        return None
    p = os.path.normpath(path)
    for base in (root,) + tuple(extra_roots):
        if p.startswith(base + os.sep):
            rel = p[len(base) + 1:]
            if os.path.isfile(os.path.join(root, rel)):
                return rel
    return None


def parse_frame(line):
    """One frame of a sanitizer stack: "#1 0x... in func /path/file.c:12:3", "#2 0x... in func
    (/path/module+0x1f)" or "#3 0x... (/path/module+0x1f)", any "(BuildId: ...)" dropped."""
    m = FRAME_RE.match(line)
    if not m:
        return None
    rest = re.sub(r"\s*\(BuildId: [0-9a-fA-F]+\)\s*$", "", m.group(2)).strip()
    fr = {"func": "", "path": None, "line": 0, "col": 0, "module": None, "offset": None}
    if rest.startswith("in "):
        rest = rest[3:]
        mm = re.match(r"^(.*?)\s*\(([^()]*?)\+(0x[0-9a-fA-F]+)\)$", rest)
        fl = re.match(r"^(.*) (\S+?):(\d+)(?::(\d+))?$", rest)
        if mm:
            fr.update(func=mm.group(1).strip(), module=mm.group(2), offset=mm.group(3))
        elif fl:
            fr.update(func=fl.group(1).strip(), path=fl.group(2), line=int(fl.group(3)),
                      col=int(fl.group(4) or 0))
        else:
            fr["func"] = rest
    else:
        mm = re.match(r"^\(([^()]*?)(?:\+(0x[0-9a-fA-F]+))?\)$", rest)
        if mm:
            fr.update(module=mm.group(1), offset=mm.group(2))
    return fr


def first_stack(lines, start):
    """The first run of frames (#0, #1, ...) at or after lines[start]."""
    frames = []
    for ln in lines[start:]:
        fr = parse_frame(ln)
        if fr:
            frames.append(fr)
        elif frames:
            break
    return frames


def kind_of(sanitizer, rest):
    """The rule id of a report from its SUMMARY line ("AddressSanitizer", "heap-buffer-overflow
    /target/a.c:3:1 in f"): the sanitizer's own name for the bug, lowercased, but one name per
    kind whichever tool saw it (leak, oom, use-after-free)."""
    words = rest.split()
    first = words[0] if words else ""
    if sanitizer == "LeakSanitizer" or re.match(r"^\d+ byte\(s\) leaked", rest):
        return "leak"
    if sanitizer == "UndefinedBehaviorSanitizer":
        return "undefined-behavior"
    if first in ("out-of-memory", "malloc", "allocator") or rest.startswith("out of memory"):
        return "oom"
    if first == "heap-use-after-free":
        return "use-after-free"
    if sanitizer == "libFuzzer":
        for phrase in ("deadly signal", "fuzz target exited", "timeout"):
            if rest.startswith(phrase):
                return slug(phrase)
    return slug(first) or "crash"


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def parse_report(text, root, extra_roots):
    """The sanitizer report of one replay: kind, summary (the SUMMARY line), detail (what the
    first lines add: the access, UBSan's diagnosis, the leak's size), frames of the failing
    thread; None if the input ran cleanly."""
    lines = text.splitlines()
    start, detail = None, ""
    for i, ln in enumerate(lines):
        if "ERROR: " in ln and ("Sanitizer" in ln or "libFuzzer" in ln):
            start = i
            detail = re.sub(r"^==\d+==\s*ERROR:\s*", "", ln).strip()
            break
        if ": runtime error: " in ln:
            start = i
            detail = ln.split(": runtime error: ", 1)[1].strip()
            break
    sm = SUMMARY_RE.search(text)
    if start is None and not sm:
        return None
    if sm:
        kind = kind_of(sm.group(1), sm.group(2).strip())
        summary = "%s: %s" % (sm.group(1), sm.group(2).strip())
        # addresses and build ids differ from build to build: not part of a message
        summary = re.sub(r" \((BuildId: [0-9a-fA-F]+|[^()]*\+0x[0-9a-fA-F]+)\)", "", summary)
        summary = re.sub(r"(\s+in)?\s*\.?$", "", summary)
    else:
        kind, summary = "crash", detail
    detail = re.sub(r" on (unknown )?address 0x[0-9a-f]+( at pc 0x[0-9a-f]+ bp 0x[0-9a-f]+ "
                    r"sp 0x[0-9a-f]+)?", "", detail)
    detail = re.sub(r"^(AddressSanitizer|LeakSanitizer|libFuzzer): ", "", detail)
    for ln in lines[start + 1:start + 4] if start is not None else []:
        m = re.match(r"^(READ|WRITE) of size (\d+)", ln.strip())
        lk = re.match(r"^((Direct|Indirect) leak of \d+ byte\(s\) in \d+ object\(s\))", ln)
        if m or lk:
            detail = m.group(0) if m else lk.group(1)
            break
    frames = first_stack(lines, start if start is not None else 0)
    for fr in frames:
        fr["rel"] = in_tree(fr["path"], root, extra_roots)
        if fr["module"]:
            fr["module"] = os.path.basename(fr["module"])
    for base in (root,) + tuple(extra_roots):
        summary = summary.replace(base + "/", "")
        detail = detail.replace(base + "/", "")
    if detail and detail in summary:
        detail = ""
    return {"kind": kind, "detail": detail[:500], "summary": summary[:500].strip(),
            "frames": frames}


def replay(f, path, p, ncpu, work, symbolize):
    argv = [f.binary, "-timeout=%d" % p["timeout_per_input_s"],
            "-rss_limit_mb=%d" % rss_limit_mb(ncpu), path]
    cwd = os.path.join(work, "work", f.name)
    os.makedirs(cwd, exist_ok=True)
    return run_capture(argv, cwd, p["timeout_per_input_s"] + 120,
                       sanitizer_env(cwd, symbolize))


def raw_key(text):
    """What an unsymbolised report says about a crash: the sanitizer's kind and the module
    offsets of the top frames. Stable for one binary, and finer than the final signature, so
    inputs of one key need one symbolised replay between them."""
    sm = SUMMARY_RE.search(text)
    frames = first_stack(text.splitlines(), 0)
    if not sm and not frames:
        return None
    top = ["%s+%s" % (os.path.basename(fr["module"] or ""), fr["offset"]) if fr["offset"]
           else fr["func"] for fr in frames[:8]]
    return "\n".join([sm.group(0) if sm else ""] + top)


def crash_inputs(crash_dir):
    """The campaign's crash inputs, the ones to replay first first: the smallest of each
    kind of file in turn, timeouts capped."""
    by_prefix = {}
    try:
        names = os.listdir(crash_dir)
    except OSError:
        return []
    for n in names:
        for pre in ARTIFACT_PREFIXES:
            if n.startswith(pre):
                path = os.path.join(crash_dir, n)
                try:
                    size = os.path.getsize(path)
                except OSError:
                    continue
                by_prefix.setdefault(pre, []).append((size, n, path))
    for v in by_prefix.values():
        v.sort()
    if "timeout-" in by_prefix:
        by_prefix["timeout-"] = by_prefix["timeout-"][:REPRO_TIMEOUTS_PER_FUZZER]
    order = []
    while any(by_prefix.values()) and len(order) < REPRO_PER_FUZZER:
        for pre in ARTIFACT_PREFIXES:
            if by_prefix.get(pre):
                order.append(by_prefix[pre].pop(0))
    return order[:REPRO_PER_FUZZER]


def signature(kind, frames, fuzzer):
    """Kind plus the functions of the top frames inside the tree (all frames when none is),
    never addresses or line numbers, so a crash keeps its identity across builds."""
    funcs = [fr["func"] for fr in frames if fr.get("rel") and fr["func"]][:SIGNATURE_FRAMES]
    if not funcs:
        funcs = [fr["func"] for fr in frames if fr["func"]][:SIGNATURE_FRAMES]
    if not funcs:
        funcs = ["fuzzer:" + fuzzer]
    return sha256("\n".join([kind] + funcs)), funcs


def collect_crashes(fuzzers, work, root, extra_roots, p, ncpu, deadline, results_dir):
    """Replays the crash inputs and returns the unique crashes as results. Symbolising a
    stack costs about a second, so crash and leak inputs are first replayed without it and
    grouped by raw stack (one shallow bug can leave dozens of inputs); each group's smallest
    input, and every timeout and oom input (slow to replay twice), is replayed symbolised."""
    uniq = {}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=ncpu)

    def run_all(fn, items):
        return list(pool.map(fn, items))

    try:
        for f in fuzzers:
            inputs = crash_inputs(os.path.join(work, "crashes", f.name))

            def raw(item, f=f):
                if item[1].startswith(("timeout-", "oom-")) or time.monotonic() > deadline:
                    return item, None
                rc, out = replay(f, item[2], p, ncpu, work, 0)
                return item, raw_key(out) if rc is not None else None

            groups = {}
            for item, key in run_all(raw, inputs):
                groups.setdefault(key if key else "input:" + item[1], []).append(item)
            reps = [(min(items), len(items)) for items in groups.values()]

            def symbolised(r, f=f):
                if time.monotonic() > deadline:
                    return r, None, ""
                return (r,) + replay(f, r[0][2], p, ncpu, work, 1)

            for ((size, name, path), count), rc, out in run_all(symbolised, reps):
                if rc is None and not out:
                    log("warning", "out of time, crash input left unreplayed", fuzzer=f.name,
                        input=name)
                    continue
                rep = parse_report(out, root, extra_roots)
                if rep is None:
                    kind = {"timeout": "timeout", "oom": "oom", "leak": "leak"}.get(
                        name.split("-", 1)[0], "crash")
                    rep = {"kind": kind, "summary": "", "frames": [], "unreproducible": True,
                           "detail": "libFuzzer saw %s fail, but it ran cleanly when "
                           "replayed (exit code %s)" % (name, rc)}
                sig, funcs = signature(rep["kind"], rep["frames"], f.name)
                u = uniq.get(sig)
                if u is None:
                    uniq[sig] = u = {"sig": sig, "funcs": funcs, "rep": rep, "fuzzer": f,
                                     "input": path, "size": size, "count": 0, "fuzzers": []}
                    f.stats["uniqueCrashes"] += 1
                u["count"] += count
                if f.name not in u["fuzzers"]:
                    u["fuzzers"].append(f.name)
                if size < u["size"]:
                    u["input"], u["size"] = path, size
                log("info", "crash replayed", fuzzer=f.name, input=name, inputs=count,
                    kind=rep["kind"], signature=sig[:16])
    finally:
        pool.shutdown(wait=True)
    art_dir = os.path.join(results_dir, "artifacts")
    return [crash_finding(u, art_dir) for u in uniq.values()]


def crash_finding(u, art_dir):
    """A unique crash as a result; its smallest input is saved as the reproducer."""
    rep, f = u["rep"], u["fuzzer"]
    art = "crash-%s-%s" % (f.name, u["sig"][:16])
    os.makedirs(art_dir, exist_ok=True)
    shutil.copyfile(u["input"], os.path.join(art_dir, art))
    os.chmod(os.path.join(art_dir, art), 0o644)
    frames = rep["frames"]
    top = next((fr for fr in frames if fr.get("rel")), None)
    shown = [fr for fr in frames if fr.get("rel")][:SIGNATURE_FRAMES] or frames[:SIGNATURE_FRAMES]
    where = ", ".join("%s (%s:%d)" % (fr["func"] or "?", fr["rel"] or fr["path"] or
                                      fr["module"] or "?", fr["line"]) for fr in shown)
    text = rep["summary"] or rep["kind"]
    if rep["detail"]:
        text += " (%s)" % rep["detail"]
    text += ", found by fuzzer %s." % f.name
    if where:
        text += " Top frames: %s." % where
    text += " Reproducer: artifact %s (%d bytes)" % (art, u["size"])
    text += "; %d crash inputs replayed had this signature." % u["count"] if u["count"] > 1 \
        else "."
    reproducible = not rep.get("unreproducible", False)
    props = {"fuzzer": f.name, "reproducer": art, "reproducerPath": "artifacts/" + art,
             "reproducerSize": u["size"], "crashInputs": u["count"],
             "signatureFrames": u["funcs"], "reproducible": reproducible}
    if len(u["fuzzers"]) > 1:
        props["fuzzers"] = u["fuzzers"]
    if rep["summary"]:
        props["summary"] = rep["summary"]
    return {"ruleId": rep["kind"], "level": "error" if reproducible else "warning",
            "message": text, "path": top["rel"] if top else None,
            "line": top["line"] if top else 0, "col": top["col"] if top else 0,
            "props": props, "fingerprint": u["sig"], "frames": frames[:STACK_FRAMES]}


# --- SARIF -----------------------------------------------------------------------------------

def sarif_stack(frames):
    out = []
    for fr in frames:
        if fr.get("rel"):
            loc = location(fr["rel"], fr["line"], fr["col"])
        elif fr["path"]:
            loc = {"physicalLocation": {"artifactLocation": {"uri": "file://" + uri_of(
                fr["path"]) if fr["path"].startswith("/") else uri_of(fr["path"])}}}
            if fr["line"] > 0:
                loc["physicalLocation"]["region"] = {"startLine": fr["line"]}
        else:
            loc = {}
        if fr["func"]:
            loc["logicalLocations"] = [{"fullyQualifiedName": fr["func"], "kind": "function"}]
        sf = {"location": loc}
        if fr["module"]:
            sf["module"] = fr["module"]
        out.append(sf)
    return {"message": {"text": "the stack of the failing thread"}, "frames": out}


def sarif_result(fnd, index):
    res = {"ruleId": fnd["ruleId"], "ruleIndex": index[fnd["ruleId"]], "level": fnd["level"],
           "message": {"text": fnd["message"]},
           "partialFingerprints": {"crashSignature/v1": fnd["fingerprint"]},
           "properties": fnd["props"]}
    if fnd["path"]:
        res["locations"] = [location(fnd["path"], fnd["line"], fnd["col"])]
    if fnd.get("frames"):
        stack = sarif_stack(fnd["frames"])
        res["stacks"] = [stack]
        # GitHub shows codeFlows, not stacks: the same frames, outermost call first
        res["codeFlows"] = [{"message": {"text": "the call path to the crash"}, "threadFlows": [
            {"locations": [{"location": fr["location"], "nestingLevel": i}
                           for i, fr in enumerate(reversed(stack["frames"]))]}]}]
    return res


def fuzz_run(findings, version, invocation, run_props):
    findings.sort(key=lambda f: (f["level"] != "error", f["path"] or "", f["line"],
                                 f["ruleId"], f["fingerprint"]))
    rule_ids = sorted({f["ruleId"] for f in findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    rules = []
    for rid in rule_ids:
        short, full = RULES.get(rid, ("Sanitizer report %s" % rid,
                                      "A crash the sanitizers report as %s." % rid))
        cwe, severity = RULE_RANK.get(rid, (0, None))
        help_text = ("Fix the harness or its build, then run again." if rid in NOTE_RULES else
                     "Replay the reproducer artifact against the fuzzer to see the sanitizer "
                     "report, fix the code at the top frames, and keep the input as a "
                     "regression seed.")
        rules.append(rule_descriptor(rid, short, full, help_text,
                                     "note" if rid in NOTE_RULES else "error", severity, [cwe],
                                     "https://llvm.org/docs/LibFuzzer.html", name=short,
                                     tags=["fuzzing"]))
    run = sarif_run("libFuzzer", version, "https://llvm.org/docs/LibFuzzer.html", rules,
                    invocation, [sarif_result(f, index) for f in findings])
    run["properties"] = run_props
    return run


# --- main ------------------------------------------------------------------------------------

def build_all(root, build, p, findings):
    """Builds the fuzzers; returns (fuzzers built, number of harnesses or scripts tried,
    extra roots where their sources live, build mode)."""
    if os.path.isfile(os.path.join(root, "fuzz", "build.sh")):
        fuzzers, src = build_with_script(root, build, findings)
        return fuzzers, 1, (src,), "build.sh"
    progress(1, "discovering harnesses", force=True)
    found = discover(root)
    log("info", "harnesses found", count=len(found),
        harnesses=[os.path.relpath(h, root) for _, h, _, _ in found])
    if p["fuzzers"]:
        found = [h for h in found if h[0] in p["fuzzers"]]
    fuzzers = []
    for i, (name, harness, sources, line) in enumerate(found):
        rel = os.path.relpath(harness, root)
        progress(1 + 4 * i // max(1, len(found)), "building %s (%d of %d)"
                 % (name, i + 1, len(found)))
        binary, fail = build_harness(root, build, name, harness, sources)
        if fail:
            path, ln, col = first_error(fail["output"], root, rel, line)
            what = ("timed out after %d s" % COMPILE_TIMEOUT_S if fail["timed_out"]
                    else "failed")
            text = "harness %s of fuzzer %s did not build: %s of %s %s:\n%s" % (
                rel, name, fail["stage"], os.path.relpath(fail["source"], root), what,
                error_excerpt(fail["output"].replace(root + "/", "")))
            findings.append(build_failure(name, ln, col, path, text))
            findings[-1]["props"]["harness"] = rel
            log("warning", "harness did not build", fuzzer=name, harness=rel)
            continue
        seeds, dicts = seeds_for(name, [os.path.dirname(harness), os.path.join(root, "fuzz")])
        fuzzers.append(Fuzzer(name, binary=binary, harness=rel, sources=sources,
                              seed_dirs=seeds, dicts=dicts))
        log("info", "harness built", fuzzer=name, harness=rel,
            sources=[os.path.relpath(s, root) for s in sources])
    return fuzzers, len(found), (), "discovery"


def fuzz(root, out, p):
    """Builds and fuzzes the tree at root (run_main has checked it) and writes the log."""
    t_start = time.monotonic()
    work = os.path.abspath(os.environ.get("FF_LIBFUZZER_WORK", "/tmp"))
    results_dir = os.path.dirname(os.path.abspath(out))
    build = build_dir(work, results_dir)
    try:
        return campaign(root, out, p, work, build, results_dir, t_start)
    finally:
        if not build.startswith(work + os.sep):
            shutil.rmtree(build, ignore_errors=True)


def build_dir(work, results_dir):
    """Where the fuzzers are built: <work>/build, unless the scratch file system does not
    allow running programs (a tmpfs mounted noexec); then a directory on the results volume,
    removed before the runner exits so the platform does not collect it."""
    build = os.path.join(work, "build")
    os.makedirs(build, exist_ok=True)
    if not os.statvfs(build).f_flag & os.ST_NOEXEC:
        return build
    alt = os.path.join(results_dir, ".libfuzzer-build")
    log("warning", "the scratch directory is mounted noexec, building on the results volume "
        "instead (the platform should mount /tmp with exec)", scratch=build, build=alt)
    os.makedirs(alt, exist_ok=True)
    return alt


def campaign(root, out, p, work, build, results_dir, t_start):
    try:
        limit_s = int(os.environ.get("FF_TIMEOUT_S", "0"))
    except ValueError:
        limit_s = 0
    hard_end = t_start + limit_s - RESERVE_S if limit_s > RESERVE_S else None
    ncpu = cpu_count()
    invocation = {"executionSuccessful": True, "startTimeUtc": now_utc()}
    findings = []

    fuzzers, tried, extra_roots, mode = build_all(root, build, p, findings)
    built = len(fuzzers)
    if p["fuzzers"]:
        have = {f.name for f in fuzzers} | {fnd["props"]["fuzzer"] for fnd in findings}
        for name in p["fuzzers"]:
            if name not in have:
                findings.append({"ruleId": "unknown-fuzzer", "level": "note", "message":
                                 "the fuzzers parameter names %s, which the target does not "
                                 "have" % name, "path": None, "line": 0, "col": 0,
                                 "props": {"fuzzer": name},
                                 "fingerprint": sha256("unknown-fuzzer\0" + name)})
                log("warning", "no such fuzzer", fuzzer=name)
        fuzzers = [f for f in fuzzers if f.name in p["fuzzers"]]

    budget = p["max_total_time"]
    if hard_end is not None:
        budget = max(1, min(budget, int(hard_end - time.monotonic())))
    per = max(1, budget // len(fuzzers)) if fuzzers else 0
    camp = Campaign(work, p, ncpu, per * len(fuzzers) if fuzzers else 1)
    camp.started = time.monotonic()
    log("info", "campaign", mode=mode, fuzzers=[f.name for f in fuzzers], seconds_each=per,
        cpus=ncpu)
    for f in fuzzers:
        # a fuzzer gets its share plus what earlier ones left unused, and a grace period
        # to wrap up before it is stopped
        left = camp.budget - (time.monotonic() - camp.started)
        seconds = max(per, int(left) - per * (len(fuzzers) - fuzzers.index(f) - 1))
        seconds = max(1, seconds)
        grace = 30 + p["timeout_per_input_s"]
        deadline = time.monotonic() + seconds + grace
        if hard_end is not None:
            deadline = min(deadline, hard_end)
        err = camp.run(f, seconds, deadline)
        if err:
            findings.append({"ruleId": "fuzzer-failure", "level": "note", "message": err,
                             "path": f.harness, "line": 0, "col": 0,
                             "props": {"fuzzer": f.name},
                             "fingerprint": sha256("fuzzer-failure\0" + f.name)})
    if fuzzers:
        progress(99, "replaying crash inputs", force=True)
    # replays are capped in number; time only matters near the run's own limit
    replay_end = (hard_end + RESERVE_S - 30 if hard_end is not None
                  else time.monotonic() + 600)
    findings += collect_crashes(fuzzers, work, root, extra_roots, p, ncpu, replay_end,
                                results_dir)
    invocation["endTimeUtc"] = now_utc()
    built_none = tried > 0 and built == 0
    # no harness and no fuzz/build.sh: the campaign asked for cannot run, the run fails
    no_harness = tried == 0 and not p["fuzzers"]
    if built_none or no_harness:
        invocation["executionSuccessful"] = False
    if no_harness:
        invocation["toolExecutionNotifications"] = [{"level": "error", "message": {
            "text": NO_HARNESS}}]
    run_props = {"buildMode": mode, "maxTotalTime": p["max_total_time"],
                 "secondsPerFuzzer": per, "cpus": ncpu, "maxLen": p["max_len"],
                 "timeoutPerInputS": p["timeout_per_input_s"],
                 "fuzzers": [dict(name=f.name, harness=f.harness, **f.stats) for f in fuzzers]}
    if not write_sarif(out, [fuzz_run(findings, clang_version(), invocation, run_props)]):
        return 1
    crashes = sum(1 for fnd in findings if fnd["ruleId"] not in NOTE_RULES)
    log("info", "campaign done", fuzzers=len(fuzzers), unique_crashes=crashes,
        notes=len(findings) - crashes)
    if built_none:
        log("error", "no harness could be built", tried=tried)
        return 1
    if no_harness:
        log("error", NO_HARNESS, hint="a file defining LLVMFuzzerTestOneInput, or fuzz/build.sh")
        progress(100, NO_HARNESS, force=True)
        return 1
    progress(100, "%d fuzzers, %d unique crashes" % (len(fuzzers), crashes), force=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(run_main(sys.argv, __doc__, params, fuzz))
    except Exception as e:  # the runner itself broke: say so, fail the run
        log("error", "runner failed", error="%s: %s" % (type(e).__name__, e))
        raise
