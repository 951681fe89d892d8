#!/bin/sh
# workflow.secret_detection_sample: runs ff-secret-scan on examples/secrets and examples/clean,
# validates both logs against the official SARIF 2.1.0 schema, checks the findings are exactly
# examples/secrets/EXPECTED.json (rule, path, line), that no reported secret appears anywhere
# in the log, that the clean tree has no results but notes (placeholders), and the exit codes
# and parameter handling.
#
# usage: test_sample.sh SCANNER EXAMPLES_DIR WORKFLOW_DIR SARIF_SCHEMA
# Exits 77 (skipped) only when the schema or python3-jsonschema is missing and all else passed.
set -eu

scanner=$1
examples=$2
wfdir=$3
schema=$4
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# the platform's parameters must not leak in from whoever runs ctest
unset FF_PARAM_MIN_ENTROPY FF_PARAM_INCLUDE FF_PARAM_EXCLUDE FF_PARAM_MAX_FILE_KB

# 1. the planted secrets
rc=0
"$scanner" "$examples/secrets" "$tmp/secrets.sarif" >"$tmp/secrets.out" 2>"$tmp/secrets.err" || rc=$?
[ "$rc" -eq 0 ] || fail "scan of examples/secrets exited $rc: $(cat "$tmp/secrets.err")"
grep -q '^::progress 100 ' "$tmp/secrets.out" || fail "no final ::progress line"
n=$(grep -c '^::progress ' "$tmp/secrets.out")
[ "$n" -le 40 ] || fail "$n progress lines, expected at most 40"
if grep -v '^::progress [0-9][0-9]* ' "$tmp/secrets.out" | grep -q .; then
	fail "stdout holds something other than progress lines"
fi
for f in "$tmp"/*tmp.*; do
	[ ! -e "$f" ] || fail "temporary output left behind: $f"
done

# 2. the clean tree
rc=0
"$scanner" "$examples/clean" "$tmp/clean.sarif" >/dev/null 2>"$tmp/clean.err" || rc=$?
[ "$rc" -eq 0 ] || fail "scan of examples/clean exited $rc: $(cat "$tmp/clean.err")"

# 3. findings, redaction, fingerprints
$py - "$examples" "$tmp/secrets.sarif" "$tmp/clean.sarif" <<'EOF'
import json, sys

examples, secrets_log, clean_log = sys.argv[1:4]
def fail(msg):
    sys.exit("FAIL: " + msg)

log = json.load(open(secrets_log, encoding="utf-8"))
text = open(secrets_log, encoding="utf-8").read()
run = log["runs"][0]
rules = run["tool"]["driver"]["rules"]
got = []
for r in run["results"]:
    loc = r["locations"][0]["physicalLocation"]
    got.append((r["ruleId"], loc["artifactLocation"]["uri"], loc["region"]["startLine"]))
    if rules[r["ruleIndex"]]["id"] != r["ruleId"]:
        fail("ruleIndex does not point at ruleId for %r" % (got[-1],))
    if loc["artifactLocation"].get("uriBaseId") != "SRCROOT":
        fail("no uriBaseId SRCROOT")
    fp = r["partialFingerprints"]["secretHash/v1"]
    if len(fp) != 64 or any(c not in "0123456789abcdef" for c in fp):
        fail("bad fingerprint %r" % fp)
    # the secret, read back from the file at the reported region, must not be in the log
    src = open("%s/secrets/%s" % (examples, loc["artifactLocation"]["uri"]),
               encoding="utf-8").read().split("\n")
    region = loc["region"]
    line = src[region["startLine"] - 1]
    secret = line[region["startColumn"] - 1:region["endColumn"] - 1]
    if r["ruleId"] == "private-key":
        if not secret.startswith("-----BEGIN"):
            fail("private-key region %r" % secret)
        secret = src[region["startLine"]]  # the first line of the key's body
    if len(secret) < 8:
        fail("region %r of %r is too short to be the secret" % (secret, got[-1]))
    if secret in text:
        fail("the secret of %r appears in the log" % (got[-1],))
    if "\u2026" not in r["message"]["text"] or secret[:4] + "\u2026" not in r["message"]["text"]:
        fail("message %r does not show the redacted secret" % r["message"]["text"])
    if r["ruleId"] != "private-key" and secret[:4] + "\u2026" not in region["snippet"]["text"]:
        fail("snippet %r is not redacted" % region["snippet"]["text"])

# a row without "level" expects the rule's own level; placeholders are notes
levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
expected = [(e["rule_id"], e["path"], e["start_line"], e.get("level", levels[e["rule_id"]]))
            for e in json.load(open(examples + "/secrets/EXPECTED.json"))]
got = [g + (r["level"],) for g, r in zip(got, run["results"])]
if sorted(got) != sorted(expected):
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    fail("findings differ from EXPECTED.json\n  missing: %r\n  unexpected: %r" % (missing, extra))

# the clean tree's placeholders (changeme, AKIAIOSFODNN7EXAMPLE) are notes; nothing more
clean = json.load(open(clean_log, encoding="utf-8"))
loud = [r for r in clean["runs"][0]["results"] if r["level"] != "note"]
if loud:
    fail("examples/clean has findings: %r" % loud)
print("ok: %d findings match EXPECTED.json, clean tree has only notes" % len(got))
EOF

# 4. parameters: the environment, flags winning over it, usage and I/O errors
FF_PARAM_EXCLUDE='scripts/*,*.py' "$scanner" "$examples/secrets" "$tmp/ex.sarif" >/dev/null 2>&1 ||
	fail "scan with FF_PARAM_EXCLUDE failed"
$py -c 'import json,sys
paths = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
         for r in json.load(open(sys.argv[1]))["runs"][0]["results"]}
assert paths == {".env", "config/settings.yaml"}, paths' "$tmp/ex.sarif" ||
	fail "FF_PARAM_EXCLUDE was not applied"
FF_PARAM_EXCLUDE='scripts/*' "$scanner" --exclude '' "$examples/secrets" "$tmp/flag.sarif" \
	>/dev/null 2>&1 || fail "scan with --exclude '' failed"
$py -c 'import json,sys
n = len(json.load(open(sys.argv[1]))["runs"][0]["results"])
assert n == int(sys.argv[2]), n' "$tmp/flag.sarif" "$(grep -c rule_id "$examples/secrets/EXPECTED.json")" ||
	fail "--exclude did not win over FF_PARAM_EXCLUDE"
FF_PARAM_INCLUDE='config,scripts/*' FF_PARAM_EXCLUDE='*.sh' "$scanner" "$examples/secrets" \
	"$tmp/in.sarif" >/dev/null 2>&1 || fail "scan with FF_PARAM_INCLUDE failed"
$py -c 'import json,sys
paths = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
         for r in json.load(open(sys.argv[1]))["runs"][0]["results"]}
assert paths == {"config/settings.yaml"}, paths' "$tmp/in.sarif" ||
	fail "FF_PARAM_INCLUDE with FF_PARAM_EXCLUDE was not applied"
FF_PARAM_INCLUDE=config "$scanner" --include app/ "$examples/secrets" "$tmp/inflag.sarif" \
	>/dev/null 2>&1 || fail "scan with --include failed"
$py -c 'import json,sys
paths = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
         for r in json.load(open(sys.argv[1]))["runs"][0]["results"]}
assert paths == {"app/client.py"}, paths' "$tmp/inflag.sarif" ||
	fail "--include did not win over FF_PARAM_INCLUDE"
FF_PARAM_MIN_ENTROPY=8 "$scanner" "$examples/secrets" "$tmp/e8.sarif" >/dev/null 2>&1 ||
	fail "scan with FF_PARAM_MIN_ENTROPY=8 failed"
$py -c 'import json,sys
ids = [r["ruleId"] for r in json.load(open(sys.argv[1]))["runs"][0]["results"] if r["level"] != "note"]
assert ids and "generic-credential" not in ids, ids' "$tmp/e8.sarif" ||
	fail "FF_PARAM_MIN_ENTROPY=8 still reports generic credentials"
FF_PARAM_MIN_ENTROPY=oops "$scanner" --min-entropy 3 "$examples/clean" "$tmp/ok.sarif" >/dev/null 2>&1 ||
	fail "a flag did not win over a malformed FF_PARAM_MIN_ENTROPY"
for bad in "" "--min-entropy 9 $examples/clean $tmp/x.sarif" "--max-file-kb 0 $examples/clean $tmp/x.sarif" \
	"--bogus $examples/clean $tmp/x.sarif" "$examples/clean"; do
	rc=0
	# shellcheck disable=SC2086 # word splitting of the argument list is the point
	"$scanner" $bad >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || fail "usage error '$bad' exited $rc, expected 2"
done
rc=0
FF_PARAM_MAX_FILE_KB=-5 "$scanner" "$examples/clean" "$tmp/x.sarif" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "bad FF_PARAM_MAX_FILE_KB exited $rc, expected 2"
rc=0
"$scanner" "$tmp/no-such-dir" "$tmp/x.sarif" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "missing ROOT exited $rc, expected 1"
rc=0
"$scanner" "$examples/clean" "$tmp/no-such-dir/x.sarif" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "unwritable OUT exited $rc, expected 1"

# 5. the manifest says what the binary does
$py - "$wfdir/workflow.json" <<'EOF' || fail "workflow.json"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["name"] == "secret-detection", m["name"]
assert m["command"] == ["/ff-secret-scan", "/target", "/results/results.sarif"], m["command"]
props = m["parameters"]["properties"]
assert set(props) == {"min_entropy", "include", "exclude", "max_file_kb"}, set(props)
assert props["min_entropy"]["default"] == 3.5 and props["max_file_kb"]["default"] == 1024
assert m["network"] == "none"
EOF

# 6. the official schema, last: it is the one check that can be skipped
if [ ! -r "$schema" ] || ! $py -c 'import jsonschema' 2>/dev/null; then
	echo "SKIP: no SARIF schema at $schema or no python3-jsonschema" >&2
	exit 77
fi
for f in secrets clean; do
	$py -c 'import json,sys,jsonschema; jsonschema.Draft4Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' \
		"$schema" "$tmp/$f.sarif" || fail "$f.sarif is not valid SARIF 2.1.0"
done
echo "ok: both logs validate against the SARIF 2.1.0 schema"
