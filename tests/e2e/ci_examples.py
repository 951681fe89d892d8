#!/usr/bin/env python3
"""ci_examples — runs the shell steps of examples/ci/github-actions.yml and gitlab-ci.yml
against a real platform (FF_URL, FF_API_KEY), as their CI services would, on a copy of
examples/secrets as the repository: the default branch's first scan reports and passes
(no baseline yet), a branch with the same tree passes against that baseline, a branch that
adds a secret fails with exit 3; each writes a SARIF log that validates against the
official schema and a JUnit report with one test case per finding, and each run carries the
branch and commit labels. Steps only a CI service can run (checkout, installing the client,
upload-sarif) are not run: the client is the one on PATH; a step this test does not know
is a failure, so none is skipped unseen. Each extracted script is also held to shellcheck.

usage: ci_examples.py EXAMPLES_DIR SARIF_SCHEMA"""
import json, os, re, shutil, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

import jsonschema
import yaml

examples, schema_path = sys.argv[1], sys.argv[2]
schema = json.load(open(schema_path))
SARIF, JUNIT = "fuzzforge.sarif", "fuzzforge-junit.xml"
# steps that only make sense on GitHub: its checkout and its code scanning upload
GITHUB_ONLY = ("actions/checkout@", "github/codeql-action/upload-sarif@")
# the client the job builds; the test uses the one on PATH, built from this tree
INSTALL_STEP = "Install the FuzzForge client"
# the analysis name the GitHub job gives its log for code scanning (else the platform's
# <workflow>/<labels>/)
AUTOMATION_ID = {"github": "fuzzforge/secret-detection/"}


def fail(msg):
    print("ci_examples: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def shellcheck(name, script, shell_opts):
    """The script as its runner sees it (a bash script with these options)."""
    text = "#!/bin/bash\nset %s\n%s\n" % (shell_opts, script)
    p = subprocess.run(["shellcheck", "-s", "bash", "-"], input=text, text=True,
                       capture_output=True)
    if p.returncode:
        fail("%s: shellcheck:\n%s" % (name, p.stdout + p.stderr))


def github_steps(doc):
    """The job's shell steps, in order: (id, script, env, bash options). Checks on the way
    that every other step is one the test knows, and what the upload step uploads."""
    job = doc["jobs"]["secret-detection"]
    out, install, upload = [], False, None
    for step in job["steps"]:
        if "uses" in step:
            if not step["uses"].startswith(GITHUB_ONLY):
                fail("github: a step the test does not know: uses %s" % step["uses"])
            if step["uses"].startswith(GITHUB_ONLY[1]):
                upload = step
            continue
        if "run" not in step:
            fail("github: a step with neither uses nor run: %r" % step)
        if step.get("name") == INSTALL_STEP:
            install = True
            continue
        if "id" not in step:
            fail("github: step %r has no id (later steps read outputs by it)" % step.get("name"))
        # GitHub: shell: bash is bash --noprofile --norc -eo pipefail {0}; no shell on
        # Linux is bash -e {0}
        shell = step.get("shell")
        if shell not in (None, "bash"):
            fail("github: step %s: shell %s" % (step["id"], shell))
        opts = "-eo pipefail" if shell == "bash" else "-e"
        env = dict(job.get("env", {}))
        env.update(step.get("env", {}))
        shellcheck("github step " + step["id"], step["run"], opts)
        out.append((step["id"], step["run"], env, opts, step.get("if")))
    if not install:
        fail("github: no step %r" % INSTALL_STEP)
    if upload is None:
        fail("github: no upload-sarif step")
    # the findings go to code scanning even when the scan failed the job
    if not str(upload.get("if", "")).startswith("always()"):
        fail("github: the upload-sarif step does not run always(): %r" % upload.get("if"))
    if upload.get("with", {}).get("sarif_file") != SARIF:
        fail("github: upload-sarif uploads %r, not %s" % (upload.get("with"), SARIF))
    return out


def github_expr(value, ctx):
    """${{ … }} in value, from ctx; an expression the test does not know is a failure."""
    def sub(m):
        expr = m.group(1).strip()
        if expr not in ctx:
            fail("unknown expression ${{ %s }}" % expr)
        return ctx[expr]
    return re.sub(r"\$\{\{(.*?)\}\}", sub, str(value))


def run(script, env, cwd, opts):
    """script as a file run by bash with opts, as both runners do."""
    path = os.path.join(cwd, "..", "step.sh")
    with open(path, "w") as f:
        f.write(script)
    full = dict(os.environ)
    full.update(env)
    p = subprocess.run(["bash", "--noprofile", "--norc"] + opts.split() + [path], cwd=cwd,
                       env=full, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    return p.returncode, p.stdout


ALWAYS_IF = re.compile(r"^always\(\) && hashFiles\('([^']+)'\) != ''$")


def github_runs(cond, failed, repo):
    """Whether a step with if: cond runs (GitHub: no if is success(), steps after a failure
    are skipped). The test knows one if: always() && hashFiles('FILE') != ''."""
    if cond is None:
        return not failed
    m = ALWAYS_IF.match(str(cond))
    if not m:
        fail("github: an if the test does not know: %r" % cond)
    return os.path.exists(os.path.join(repo, m.group(1)))


def run_github(steps, repo, branch, default, sha):
    outputs = {}
    rc, log = 0, ""
    for step_id, script, env, opts, cond in steps:
        if not github_runs(cond, rc != 0, repo):
            log += "--- step %s skipped\n" % step_id
            continue
        gh_out = os.path.join(repo, "..", "github_output")
        open(gh_out, "w").close()
        ctx = {"secrets.FF_URL": os.environ["FF_URL"], "secrets.FF_API_KEY": os.environ["FF_API_KEY"],
               "github.head_ref || github.ref_name": branch,
               "github.event.pull_request.head.sha || github.sha": sha,
               "github.event.repository.default_branch": default,
               "vars.FUZZFORGE_GIT": "unused"}
        for k, v in outputs.items():
            ctx["steps.%s" % k] = v
        env = {k: github_expr(v, ctx) for k, v in env.items()}
        env["GITHUB_OUTPUT"] = gh_out
        step_rc, out = run(script, env, repo, opts)
        log += "--- step %s (exit %d)\n%s" % (step_id, step_rc, out)
        for line in open(gh_out):
            k, _, v = line.rstrip("\n").partition("=")
            outputs["%s.outputs.%s" % (step_id, k)] = v
        rc = rc or step_rc  # the job's status: its first failure
    return rc, log


def gitlab_script(doc):
    job = doc["fuzzforge-secret-detection"]
    art = job.get("artifacts", {})
    if art.get("when") != "always":
        fail("gitlab: artifacts are not kept when the job fails: when %r" % art.get("when"))
    if SARIF not in art.get("paths", []):
        fail("gitlab: %s is not an artifact: %r" % (SARIF, art.get("paths")))
    reports = art.get("reports", {})
    if reports.get("junit") != JUNIT:
        fail("gitlab: reports:junit is %r, not %s" % (reports.get("junit"), JUNIT))
    if "sast" in reports:
        fail("gitlab: reports:sast takes GitLab's own format, not SARIF")
    # before_script installs the client (the test uses the one on PATH); script is the scan
    script = "\n".join(job["script"])
    shellcheck("gitlab script", script, "-e")
    return script


def run_gitlab(script, repo, branch, default, sha):
    env = {"CI_DEFAULT_BRANCH": default, "CI_COMMIT_REF_NAME": branch, "CI_COMMIT_SHA": sha}
    # the runner's bash: one session for the whole script, stopping at the first failure;
    # the script sets pipefail itself
    rc, out = run(script, env, repo, "-e")
    return rc, "--- script (exit %d)\n%s" % (rc, out)


def ff_json(*args):
    p = subprocess.run(["ff"] + list(args) + ["--json"], text=True, capture_output=True)
    if p.returncode:
        fail("ff %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return json.loads(p.stdout)


def check_reports(repo, what, branch, sha, new):
    """The reports of the scan just run: a valid SARIF log labelled with the branch and
    commit, a JUnit report with one failing test case per finding, and the run on the
    platform carrying both labels. new: the findings the baseline lacks (None: none)."""
    sarif = os.path.join(repo, SARIF)
    if not os.path.exists(sarif):
        fail("%s: no %s" % (what, SARIF))
    log = json.load(open(sarif))
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    if not results:
        fail("%s: the SARIF log has no results" % what)
    auto = log["runs"][0].get("automationDetails", {}).get("id", "")
    want = AUTOMATION_ID.get(what.split()[0], "secret-detection/branch=%s,commit=%s/" % (branch, sha))
    if auto != want:
        fail("%s: automationDetails.id is %r; runs[0] keys %r, %d runs, %d bytes"
             % (what, auto, sorted(log["runs"][0]), len(log["runs"]), os.path.getsize(sarif)))
    junit = os.path.join(repo, JUNIT)
    if not os.path.exists(junit):
        fail("%s: no %s" % (what, JUNIT))
    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    failing = [c for c in cases if c.find("failure") is not None]
    if len(cases) != len(results) or len(failing) != len(results):
        fail("%s: JUnit has %d test cases, %d failing, for %d findings"
             % (what, len(cases), len(failing), len(results)))
    if new and not any(new in c.get("name", "") for c in cases):
        fail("%s: JUnit has no test case for %s" % (what, new))
    runs = ff_json("runs", "--label", "commit=" + sha)["runs"]
    if len(runs) != 1 or runs[0]["labels"] != {"branch": branch, "commit": sha}:
        fail("%s: the runs of commit %s: %r" % (what, sha, runs))
    os.remove(sarif)
    os.remove(junit)


def scenario(name, runner, steps):
    work = tempfile.mkdtemp(prefix="ff-ci-%s-" % name)
    repo = os.path.join(work, "repo")
    shutil.copytree(os.path.join(examples, "secrets"), repo)
    tag = "%s-%d" % (name, os.getpid())  # runs of other tests are no baseline
    default = "main-" + tag

    sha = "c0ffee1-" + tag
    rc, log = runner(steps, repo, default, default, sha)
    print(log)
    if rc != 0 or "baseline: none" not in log:
        fail("%s: the default branch's first scan exited %d, not 0 without a baseline" % (name, rc))
    check_reports(repo, name + " first scan", default, sha, None)

    sha = "c0ffee2-" + tag
    rc, log = runner(steps, repo, "feature", default, sha)
    print(log)
    if rc != 0 or "against the baseline: 0 new" not in log:
        fail("%s: an unchanged branch exited %d, not 0 with 0 new" % (name, rc))
    if "already stored" not in log:
        fail("%s: the unchanged tree was sent again" % name)
    check_reports(repo, name + " unchanged branch", "feature", sha, None)

    with open(os.path.join(repo, "app", "added.py"), "w") as f:
        f.write('GITHUB_TOKEN = "ghp_4Fq9zR2mXcV7bN1kL8pW3sT6yH0jD5aGeUoI"\n')
    sha = "c0ffee3-" + tag
    rc, log = runner(steps, repo, "feature-2", default, sha)
    print(log)
    if rc != 3 or "against the baseline: 1 new" not in log:
        fail("%s: a branch adding a secret exited %d, not 3 with 1 new" % (name, rc))
    # the reports are there for the job to upload even though it failed
    check_reports(repo, name + " branch with a new secret", "feature-2", sha, "app/added.py")
    shutil.rmtree(work)
    print("ci_examples: %s: ok" % name)


scenario("github", run_github,
         github_steps(yaml.safe_load(open(os.path.join(examples, "ci", "github-actions.yml")))))
scenario("gitlab", run_gitlab,
         gitlab_script(yaml.safe_load(open(os.path.join(examples, "ci", "gitlab-ci.yml")))))
print("ci_examples: both examples ok")
