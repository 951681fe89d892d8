# What GitHub code scanning needs of a SARIF log beyond the official schema, checked on `log`
# (itest_check_sarif has validated it against the schema and loaded it). The C test sets
# AUTOMATION_ID (the id every run must carry), TARGET (the scanned tree: the literals on the
# lines of its results must not appear in any rule's metadata) and CODEFLOWS (whether crash
# results must carry codeFlows) before this text.
import os
import re

SEVERITY = re.compile(r"^\d+(\.\d+)?$")
CWE_TAG = re.compile(r"^external/cwe/cwe-[1-9]\d*$")
LITERAL = re.compile(r"\"([^\"]{6,})\"|'([^']{6,})'|[=:]\s*([^\s\"',;]{6,})")


def source_line(path, n):
    try:
        with open(os.path.join(TARGET, path), encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f, 1):
                if i == n:
                    return line
    except OSError:
        pass
    return ""


for run in log["runs"]:
    assert run.get("automationDetails", {}).get("id") == AUTOMATION_ID, \
        "automationDetails.id %r, want %r" % (run.get("automationDetails"), AUTOMATION_ID)
    rules = run["tool"]["driver"].get("rules", [])
    for r in rules:
        what = "rule %s of %s" % (r["id"], run["tool"]["driver"]["name"])
        assert r["shortDescription"]["text"].strip(), what + ": shortDescription"
        assert r["fullDescription"]["text"].strip(), what + ": fullDescription"
        assert r["help"]["text"].strip() and r["help"]["markdown"].strip(), what + ": help"
        sev = r["properties"]["security-severity"]
        assert isinstance(sev, str) and SEVERITY.match(sev) and 0 <= float(sev) <= 10, \
            what + ": security-severity %r" % sev
        tags = r["properties"]["tags"]
        assert "security" in tags, what + ": tags %r" % tags
        for t in tags:
            assert not t.lower().startswith("external/cwe") or CWE_TAG.match(t), \
                what + ": tag %r" % t
        assert "cwe" not in r["properties"], what + ": properties.cwe (a tag instead)"
    meta = repr(rules)
    for x in run.get("results", []):
        assert "cwe" not in x.get("properties", {}), "properties.cwe on a result"
        for loc in x.get("locations", []):
            pl = loc.get("physicalLocation", {})
            line = source_line(pl.get("artifactLocation", {}).get("uri", ""),
                               pl.get("region", {}).get("startLine", 0))
            for m in LITERAL.finditer(line):
                lit = next(g for g in m.groups() if g)
                assert lit not in meta, "%r from %s is in the rules' metadata" % (
                    lit, pl["artifactLocation"]["uri"])
        if CODEFLOWS and x["ruleId"] not in ("build-failure", "fuzzer-failure",
                                             "unknown-fuzzer"):
            tf = x["codeFlows"][0]["threadFlows"][0]
            assert tf["locations"] and all("location" in l for l in tf["locations"]), x["ruleId"]
