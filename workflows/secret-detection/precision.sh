#!/bin/sh
# False positives of ff-secret-scan on ordinary code and text of this machine, which holds no
# real secret: Debian's /usr/include and /usr/share/doc, the Python standard library, and
# examples/clean. Prints, per tree and in all, the files scanned and the findings by level as
# a count and per 10,000 files, and every error finding with its place, to be reviewed by
# hand: these trees hold no secret of ours, but they may hold someone's (a package's example
# key is still a private key, and is reported as one).
#
# usage: precision.sh SCANNER [TREE...]   (default: the trees above)
set -eu
scanner=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
py=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
[ $# -gt 0 ] || set -- /usr/include /usr/share/doc "$py" "$here/../../examples/clean"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
i=0
for tree in "$@"; do
	i=$((i + 1))
	"$scanner" "$tree" "$out/$i.sarif" >/dev/null 2>&1
	printf '%s\t%s\n' "$tree" "$out/$i.sarif"
done | /usr/bin/python3 -c '
import json, sys
rows, total = [], {"files": 0, "error": 0, "warning": 0, "note": 0}
for line in sys.stdin:
    tree, path = line.rstrip("\n").split("\t")
    run = json.load(open(path))["runs"][0]
    files = run["invocations"][0]["properties"]["filesScanned"]
    n = {"error": 0, "warning": 0, "note": 0}
    for r in run["results"]:
        n[r.get("level", "warning")] += 1
        if r.get("level") == "error":
            loc = r["locations"][0]["physicalLocation"]
            print("  error: %s %s:%s %s" % (r["ruleId"], loc["artifactLocation"]["uri"],
                  loc["region"]["startLine"], r["message"]["text"][:80]))
    total["files"] += files
    for k in n:
        total[k] += n[k]
    rows.append((tree, files, n))
rows.append(("all", total["files"], total))
for tree, files, n in rows:
    per = lambda k: n[k] * 10000.0 / files if files else 0.0
    print("precision: %-40s %6d files: error %d (%.2f/10k), warning %d (%.2f/10k), note %d" %
          (tree[-40:], files, n["error"], per("error"), n["warning"], per("warning"), n["note"]))
'
