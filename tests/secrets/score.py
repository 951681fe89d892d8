#!/usr/bin/python3
"""Scores ff-secret-scan on tests/secrets/corpus against tests/secrets/expect.tsv.

usage: score.py SCANNER [--check] [--mb N]

Prints recall (expected findings reported with the expected rule on the expected line),
level agreement, precision (error- or warning-level findings on lines expect.tsv does not
list, or with another rule, count against it) and the scanner's MB/s on a tree made of the
corpus copied until it holds about N MB (default 20; 0 skips it).

--check (the CTest mode) exits 1 when an expected finding is missing or has another level,
or when a near-miss line ("none") has an error- or warning-level finding. Rows whose sixth
column is "todo" are techniques the scanner does not handle yet: they are scored but do not
fail the check (and a todo row that now passes is pointed out, so its mark can go).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, "corpus")


def load_expect():
    rows = []
    for n, line in enumerate(open(os.path.join(here, "expect.tsv"), encoding="utf-8"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) < 5:
            sys.exit("expect.tsv:%d: want path, line, rule, level, technique" % n)
        path, lno, rule, level, tech = f[:5]
        todo = len(f) > 5 and f[5] == "todo"
        if not os.path.isfile(os.path.join(corpus, path)):
            sys.exit("expect.tsv:%d: no file %s in the corpus" % (n, path))
        rows.append((path, int(lno), rule, level, tech, todo))
    if not rows:
        sys.exit("expect.tsv holds no rows")
    return rows


def scan(scanner, root, out):
    p = subprocess.run([scanner, root, out], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("scanner exited %d: %s" % (p.returncode, p.stderr))
    return p.stderr


def findings(sarif):
    got = []
    for r in json.load(open(sarif, encoding="utf-8"))["runs"][0]["results"]:
        loc = r["locations"][0]["physicalLocation"]
        got.append((loc["artifactLocation"]["uri"], loc["region"]["startLine"], r["ruleId"],
                    r.get("level", "warning"), r["message"]["text"]))
    return got


def throughput(scanner, mb, tmp):
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(corpus) for f in fs)
    tree = os.path.join(tmp, "tree")
    for i in range(max(1, mb * 1000 * 1000 // size)):
        shutil.copytree(corpus, os.path.join(tree, "c%04d" % i))
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tree) for f in fs)
    best = 0.0
    for _ in range(3):
        log = scan(scanner, tree, os.path.join(tmp, "bench.sarif"))
        # the summary log line: "scanned N of M files (X MiB in S s, …)"
        m = re.search(r" in ([0-9.]+) s", json.loads(log.strip().splitlines()[-1])["msg"])
        secs = float(m.group(1)) if m else 0
        if secs > 0:
            best = max(best, total / 1e6 / secs)
    return total, best


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    scanner, check, mb = args[0], "--check" in args, 20
    if "--mb" in args:
        mb = int(args[args.index("--mb") + 1])
    rows = load_expect()
    tmp = tempfile.mkdtemp()
    try:
        scan(scanner, corpus, os.path.join(tmp, "corpus.sarif"))
        got = findings(os.path.join(tmp, "corpus.sarif"))
        by_line = {}
        for g in got:
            by_line.setdefault((g[0], g[1]), []).append(g)
        planted = [r for r in rows if r[2] != "-"]
        listed = {(r[0], r[1], r[2]) for r in planted}
        failures, fixed, found, level_ok = [], [], 0, 0
        for path, lno, rule, level, tech, todo in rows:
            here_ = by_line.get((path, lno), [])
            if rule == "-":
                bad = [g for g in here_ if g[3] in ("error", "warning")]
                ok = not bad
                why = "near miss reported: %s" % [(g[2], g[3], g[4]) for g in bad]
            else:
                hits = [g for g in here_ if g[2] == rule]
                found += bool(hits)
                ok = any(g[3] == level for g in hits)
                level_ok += ok
                why = ("missed" if not hits else "level %s, expected %s (%s)" %
                       (hits[0][3], level, hits[0][4]))
            if not ok and not todo:
                failures.append("%s:%d %s [%s]: %s" % (path, lno, rule, tech, why))
            if ok and todo:
                fixed.append("%s:%d %s [%s]" % (path, lno, rule, tech))
        extra = [g for g in got if (g[0], g[1], g[2]) not in listed and g[3] != "note"]
        tp = found
        precision = tp / (tp + len(extra)) if tp + len(extra) else 1.0
        notes = sum(1 for g in got if g[3] == "note")
        print("corpus: %d planted in %d files, %d near-miss lines" %
              (len(planted), len({r[0] for r in planted}), len(rows) - len(planted)))
        print("recall %.1f%% (%d/%d), right level %d/%d, precision %.1f%% "
              "(%d error/warning findings elsewhere), %d notes" %
              (100.0 * found / len(planted), found, len(planted), level_ok, len(planted),
               100.0 * precision, len(extra), notes))
        for g in extra:
            print("  unexpected: %s:%d %s %s: %s" % g)
        if mb:
            total, rate = throughput(scanner, mb, tmp)
            print("speed: %.0f MB/s on %.1f MB of corpus copies" % (rate, total / 1e6))
        for f in fixed:
            print("  todo passes now (drop its mark): %s" % f)
        for f in failures:
            print("FAIL: %s" % f)
        if check and failures:
            return 1
        return 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
