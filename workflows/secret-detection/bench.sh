#!/bin/sh
# Throughput of ff-secret-scan on a generated tree of source-like text (default 100 MB in
# 10,000 files, one planted FAKE secret in every tenth file). Prints MB/s of the scan itself
# (the scanner's own timer), of its CPU time (user + system: what the scanner costs whatever
# else the machine runs) and of the whole run, best of three.
#
# With FF set to an ff client (and FF_URL, FF_API_KEY for a running platform), the same tree
# is also scanned through the platform (`ff scan secret-detection`: pack, upload, queue,
# container, results), once, and its wall time printed beside.
#
# usage: bench.sh SCANNER [MB] [FILES] [DIR]  (DIR: a temporary directory by default, removed after)
set -eu
scanner=$1
mb=${2:-100}
files=${3:-10000}
dir=${4:-}
cleanup=
if [ -z "$dir" ]; then
	dir=$(mktemp -d)
	cleanup=$dir
fi
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT INT TERM

/usr/bin/python3 - "$dir/tree" "$mb" "$files" <<'PY'
import os, random, sys
root, mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
words = ("self user config value result data items index count name path request response "
         "client server handler error status token_count password_hash session cache key id "
         "offset limit buffer stream reader writer parse encode decode format").split()
def ident():
    return "_".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
def b64(n):
    a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(rng.choice(a) for _ in range(n))
def line():
    k = rng.random()
    if k < 0.30:
        return "    %s = %s(%s, %s)" % (ident(), ident(), ident(), rng.randint(0, 9999))
    if k < 0.45:
        return "    # %s" % " ".join(rng.choice(words) for _ in range(rng.randint(4, 12)))
    if k < 0.60:
        return '    "%s": "%s",' % (ident(), " ".join(rng.choice(words) for _ in range(3)))
    if k < 0.70:
        return "    if %s == %s:" % (ident(), ident())
    if k < 0.78:
        return "    url = \"https://%s.example.invalid/%s?%s=%d\"" % (
            rng.choice(words), ident(), ident(), rng.randint(0, 99))
    if k < 0.83:
        return "    blob = \"%s\"" % b64(rng.randint(40, 120))
    if k < 0.90:
        return "    return %s.%s(%s)" % (ident(), ident(), ident())
    return "def %s(%s, %s):" % (ident(), ident(), ident())
total, n = mb * 1000 * 1000, int(sys.argv[3])
per = total // n
for i in range(n):
    d = os.path.join(root, "pkg%02d" % (i % 40), "mod%02d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    out, size = [], 0
    while size < per:
        s = line()
        out.append(s)
        size += len(s) + 1
    if i % 10 == 0:
        out.insert(len(out) // 2, "AWS_KEY = 'AKIAFAKE%012d'" % i)
    with open(os.path.join(d, "f%04d.py" % i), "w") as f:
        f.write("\n".join(out) + "\n")
PY

bytes=$(du -sb "$dir/tree" | cut -f1)
best_scan=0
best_cpu=0
best_wall=0
for _ in 1 2 3; do
	t0=$(date +%s.%N)
	# /usr/bin/time: the scanner's own user + system seconds
	/usr/bin/time -f '%U %S' -o "$dir/cpu" "$scanner" "$dir/tree" "$dir/out.sarif" >/dev/null 2>"$dir/log"
	t1=$(date +%s.%N)
	scan=$(sed -n 's/.*in \([0-9.]*\) s.*/\1/p' "$dir/log")
	cpu=$(awk '{print $1 + $2}' "$dir/cpu")
	best_scan=$(echo "$bytes $scan $best_scan" | awk '{r = $1 / 1e6 / $2; print (r > $3 ? r : $3)}')
	best_cpu=$(echo "$bytes $cpu $best_cpu" | awk '{r = $2 > 0 ? $1 / 1e6 / $2 : 0; print (r > $3 ? r : $3)}')
	best_wall=$(echo "$bytes $t0 $t1 $best_wall" | awk '{r = $1 / 1e6 / ($3 - $2); print (r > $4 ? r : $4)}')
done
findings=$(grep -c '"ruleId"' "$dir/out.sarif" || true)
printf 'bench: %.1f MB in %s files: scan %.0f MB/s (CPU time %.0f MB/s), whole run %.0f MB/s, %s findings; floor 100 MB/s\n' \
	"$(echo "$bytes" | awk '{print $1 / 1e6}')" "$(find "$dir/tree" -type f | wc -l)" \
	"$best_scan" "$best_cpu" "$best_wall" "$findings"
if [ -n "${FF:-}" ]; then
	t0=$(date +%s.%N)
	"$FF" scan secret-detection "$dir/tree" --json-out "$dir/scan.json" >/dev/null 2>"$dir/ff.log" ||
		[ $? -eq 3 ] || { cat "$dir/ff.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	printf 'bench: through the platform (ff scan secret-detection): %.1f s wall, %.0f MB/s, %s findings\n' \
		"$(echo "$t0 $t1" | awk '{print $2 - $1}')" \
		"$(echo "$bytes $t0 $t1" | awk '{print $1 / 1e6 / ($3 - $2)}')" \
		"$(grep -o '"rule_id"' "$dir/scan.json" | wc -l)"
fi
