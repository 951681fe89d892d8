#!/usr/bin/env python3
"""ci_examples — runs the shell steps of examples/ci/github-actions.yml and gitlab-ci.yml
against a real platform (FF_URL, FF_API_KEY), as their CI services would, on a copy of
examples/secrets as the repository: the default branch's first scan reports and passes
(no baseline yet), a branch with the same tree passes against that baseline, a branch that
adds a secret fails with exit 3; each writes a SARIF log that validates against the
official schema, and a JUnit report. Steps only a CI service can run (checkout, installing
the client, upload-sarif) are not run: the client is the one on PATH.

usage: ci_examples.py EXAMPLES_DIR SARIF_SCHEMA"""
import json, os, re, shutil, subprocess, sys, tempfile

import jsonschema
import yaml

examples, schema_path = sys.argv[1], sys.argv[2]
schema = json.load(open(schema_path))


def fail(msg):
    print("ci_examples: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def github_steps(doc, ctx):
    """The job's shell steps with an id, in order: (name, script, env, shell)."""
    job = doc["jobs"]["secret-detection"]
    out = []
    for step in job["steps"]:
        if "id" not in step:
            continue
        env = dict(job.get("env", {}))
        env.update(step.get("env", {}))
        out.append((step["id"], step["run"], env))
    return out


def github_expr(value, ctx):
    """${{ … }} in value, from ctx; an expression the test does not know is a failure."""
    def sub(m):
        expr = m.group(1).strip()
        if expr not in ctx:
            fail("unknown expression ${{ %s }}" % expr)
        return ctx[expr]
    return re.sub(r"\$\{\{(.*?)\}\}", sub, str(value))


def run(script, env, cwd, shell):
    full = dict(os.environ)
    full.update(env)
    p = subprocess.run(shell + [script], cwd=cwd, env=full, text=True, capture_output=True,
                       timeout=600)
    return p.returncode, p.stdout + p.stderr


def run_github(doc, repo, branch, default, sha):
    outputs = {}
    rc, log = 0, ""
    for step_id, script, env in github_steps(doc, None):
        gh_out = os.path.join(repo, "..", "github_output")
        open(gh_out, "w").close()
        ctx = {"secrets.FF_URL": os.environ["FF_URL"], "secrets.FF_API_KEY": os.environ["FF_API_KEY"],
               "github.head_ref || github.ref_name": branch, "github.sha": sha,
               "github.event.repository.default_branch": default,
               "vars.FUZZFORGE_GIT": "unused"}
        for k, v in outputs.items():
            ctx["steps.%s" % k] = v
        env = {k: github_expr(v, ctx) for k, v in env.items()}
        env["GITHUB_OUTPUT"] = gh_out
        # GitHub runs shell: bash as bash --noprofile --norc -eo pipefail {0}
        rc, out = run(script, env, repo, ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"])
        log += "--- step %s (exit %d)\n%s" % (step_id, rc, out)
        for line in open(gh_out):
            k, _, v = line.rstrip("\n").partition("=")
            outputs["%s.outputs.%s" % (step_id, k)] = v
        if rc:
            break
    return rc, log


def run_gitlab(doc, repo, branch, default, sha):
    job = doc["fuzzforge-secret-detection"]
    script = "\n".join(job["script"])
    env = {"CI_DEFAULT_BRANCH": default, "CI_COMMIT_REF_NAME": branch, "CI_COMMIT_SHA": sha}
    # the runner's bash shell: one session for the whole script, -eo pipefail
    rc, out = run(script, env, repo, ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"])
    return rc, "--- script (exit %d)\n%s" % (rc, out)


def check_reports(repo, what):
    sarif = os.path.join(repo, "fuzzforge.sarif")
    if not os.path.exists(sarif):
        fail("%s: no fuzzforge.sarif" % what)
    log = json.load(open(sarif))
    jsonschema.validate(log, schema)
    if not log["runs"][0]["results"]:
        fail("%s: the SARIF log has no results" % what)
    if not os.path.exists(os.path.join(repo, "fuzzforge-junit.xml")):
        fail("%s: no fuzzforge-junit.xml" % what)
    os.remove(sarif)
    os.remove(os.path.join(repo, "fuzzforge-junit.xml"))


def scenario(name, runner, doc):
    work = tempfile.mkdtemp(prefix="ff-ci-%s-" % name)
    repo = os.path.join(work, "repo")
    shutil.copytree(os.path.join(examples, "secrets"), repo)
    default = "main-%s-%d" % (name, os.getpid())  # runs of other tests are no baseline

    rc, log = runner(doc, repo, default, default, "c0ffee1")
    print(log)
    if rc != 0 or "baseline: none" not in log:
        fail("%s: the default branch's first scan exited %d, not 0 without a baseline" % (name, rc))
    check_reports(repo, name + " first scan")

    rc, log = runner(doc, repo, "feature", default, "c0ffee2")
    print(log)
    if rc != 0 or "against the baseline: 0 new" not in log:
        fail("%s: an unchanged branch exited %d, not 0 with 0 new" % (name, rc))
    check_reports(repo, name + " unchanged branch")

    with open(os.path.join(repo, "app", "added.py"), "w") as f:
        f.write('GITHUB_TOKEN = "ghp_4Fq9zR2mXcV7bN1kL8pW3sT6yH0jD5aGeUoI"\n')
    rc, log = runner(doc, repo, "feature-2", default, "c0ffee3")
    print(log)
    if rc != 3 or "against the baseline: 1 new" not in log:
        fail("%s: a branch adding a secret exited %d, not 3 with 1 new" % (name, rc))
    check_reports(repo, name + " branch with a new secret")
    shutil.rmtree(work)
    print("ci_examples: %s: ok" % name)


scenario("github", run_github, yaml.safe_load(open(os.path.join(examples, "ci", "github-actions.yml"))))
scenario("gitlab", run_gitlab, yaml.safe_load(open(os.path.join(examples, "ci", "gitlab-ci.yml"))))
print("ci_examples: both examples ok")
