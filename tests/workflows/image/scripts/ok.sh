#!/bin/sh
# Succeeds with two findings over the files of /target, reports progress, leaves an artifact.
set -e
echo "::progress 10 listing /target"
n=$(find /target -type f | wc -l)
echo "scanning $n files"
echo "warning line on stderr" >&2
echo "::progress 60 writing results"
mkdir -p /results/artifacts
find /target -type f | sort > /results/artifacts/files.txt
first=$(cd /target && find . -type f | sort | head -n 1 | sed 's|^\./||')
cat > /results/results.sarif <<SARIF
{"version": "2.1.0",
 "\$schema": "https://json.schemastore.org/sarif-2.1.0.json",
 "runs": [{"tool": {"driver": {"name": "ff-test", "rules": [
     {"id": "T001", "defaultConfiguration": {"level": "error"}},
     {"id": "T002"}]}},
   "results": [
     {"ruleId": "T001", "message": {"text": "first file is ${first}; greeting ${FF_PARAM_GREETING:-none}"},
      "locations": [{"physicalLocation": {"artifactLocation": {"uri": "${first}"},
                     "region": {"startLine": 1}}}],
      "partialFingerprints": {"t/v1": "fp-${first}"}},
     {"ruleId": "T002", "level": "note", "message": {"text": "scanned ${n} files"}}]}]}
SARIF
echo "::progress 100 done"
