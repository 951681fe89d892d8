// mcp_client — `ff mcp` driven by the official TypeScript SDK's client over stdio, as an AI
// agent's host would: initialize, list the tools, upload examples/secrets and scan it with
// secret-detection, follow the run to its end, read its findings, and check that bad calls
// are tool errors (isError), not protocol failures. Prints the exchange as a transcript.
//
// usage: node mcp_client.mjs FF EXAMPLES_DIR   (FF_URL, FF_API_KEY in the environment)
// The SDK is resolved from tests/e2e/node_modules (scripts/node-deps.sh installs it).
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InitializeResultSchema } from "@modelcontextprotocol/sdk/types.js";

const [ff, examples] = process.argv.slice(2);

function check(ok, what) {
  if (!ok) {
    console.error(`mcp_client: FAIL: ${what}`);
    process.exit(1);
  }
}
const show = (what, v) => console.log(`${what}: ${JSON.stringify(v).slice(0, 400)}`);

const transport = new StdioClientTransport({ command: ff, args: ["mcp"], env: process.env, stderr: "inherit" });
const client = new Client({ name: "fuzzforge-e2e", version: "1.0.0" });
// The transport reports a stdout line that is not a JSON-RPC message here: ff must print none.
const transportErrors = [];
client.onerror = (e) => transportErrors.push(String(e));
await client.connect(transport);
show("server", client.getServerVersion());
show("capabilities", client.getServerCapabilities());

// Version negotiation with older clients: a revision the server supports comes back as asked.
for (const asked of ["2025-06-18", "2025-03-26", "2024-11-05"]) {
  const init = await client.request(
    { method: "initialize", params: { protocolVersion: asked, capabilities: {}, clientInfo: { name: "old", version: "0" } } },
    InitializeResultSchema,
  );
  show(`initialize(${asked})`, { protocolVersion: init.protocolVersion });
  check(init.protocolVersion === asked, `asked for ${asked}, got ${init.protocolVersion}`);
}
await client.ping();
console.log("ping: ok");

const { tools } = await client.listTools();
show("tools", tools.map((t) => t.name));
for (const name of ["list_workflows", "upload_directory", "start_scan", "get_run", "list_findings", "cancel_run"])
  check(tools.some((t) => t.name === name && t.inputSchema?.type === "object"), `no tool ${name}`);

const call = async (name, args) => {
  const r = await client.callTool({ name, arguments: args });
  show(`${name}(${JSON.stringify(args)})`, r.isError ? r.content : r.structuredContent);
  if (!r.isError)
    check(JSON.stringify(JSON.parse(r.content[0].text)) === JSON.stringify(r.structuredContent),
      `${name}: the text content is the structuredContent`);
  return r;
};

const wf = await call("list_workflows", {});
const sd = wf.structuredContent.workflows.find((w) => w.name === "secret-detection");
check(sd && sd.parameters?.properties?.min_entropy, "secret-detection and its parameters listed");

const dir = path.join(examples, "secrets");
const up = await call("upload_directory", { path: dir });
const sha = up.structuredContent?.sha256;
check(!up.isError && /^[0-9a-f]{64}$/.test(sha), "upload_directory gave a sha256");
const again = await call("upload_directory", { path: dir });
check(again.structuredContent?.sha256 === sha, "the same tree uploads to the same digest");

const started = await call("start_scan", { workflow: "secret-detection", target: sha, labels: { agent: "e2e" } });
check(!started.isError && started.structuredContent.id, "start_scan gave a run");
check(started.structuredContent.target === sha, "the run scans the uploaded target");
const id = started.structuredContent.id;

let run;
const deadline = Date.now() + 300000;
for (;;) {
  run = (await client.callTool({ name: "get_run", arguments: { run_id: id } })).structuredContent;
  if (["succeeded", "failed", "timed_out", "cancelled"].includes(run.state)) break;
  check(Date.now() < deadline, `run ${id} still ${run.state} after 300 s`);
  await new Promise((r) => setTimeout(r, 250)); // the pause between two looks, not a wait
}
const { state, progress, progress_text, error, findings_summary } = run;
show("get_run (final)", { state, progress, progress_text, error, findings_summary });
check(run.state === "succeeded", `run ended ${run.state}`);
for (const key of ["state", "progress", "progress_text", "error"]) check(key in run, `get_run gives ${key}`);

const f = await call("list_findings", { run_id: id, limit: 5 });
check(!f.isError && f.structuredContent.findings.length > 0, "the run has findings");
check(f.structuredContent.total >= 15, "at least the 15 planted findings");
check(f.structuredContent.findings.length === 5 && f.structuredContent.truncated, "limit 5 honoured");
const errs = await call("list_findings", { run_id: id, level: "error" });
check(errs.structuredContent.findings.length > 0 && errs.structuredContent.findings.every((x) => x.level === "error"),
  "level error gives only errors");
const base = await call("list_findings", { run_id: id, baseline: id });
check(base.structuredContent.new === 0, "against itself nothing is new");

const unknown = "00000000-0000-4000-8000-000000000000";
const bad = await call("get_run", { run_id: unknown });
check(bad.isError === true && /not|no run/i.test(bad.content[0].text), "an unknown run is a tool error");
const badFindings = await call("list_findings", { run_id: unknown });
check(badFindings.isError === true, "findings of an unknown run are a tool error");
const notUuid = await call("get_run", { run_id: "not-a-run" });
check(notUuid.isError === true, "a run id that is no UUID is a tool error");
const late = await call("cancel_run", { run_id: id });
check(late.isError === true && /cancel/i.test(late.content[0].text), "a finished run can't be cancelled: a tool error");
const noWorkflow = await call("start_scan", { workflow: "no-such-workflow", target: sha });
check(noWorkflow.isError === true, "an unknown workflow is a tool error");
const missing = await call("start_scan", { workflow: "secret-detection" });
check(missing.isError === true, "start_scan without path or target is a tool error");
let protocolError = null;
try {
  await client.callTool({ name: "no_such_tool", arguments: {} });
} catch (e) {
  protocolError = e;
}
show("no_such_tool", String(protocolError));
check(protocolError !== null, "an unknown tool is a protocol error");

check(transportErrors.length === 0, `stdout held only protocol messages: ${transportErrors.join("; ")}`);
await client.close();
console.log("mcp_client: ok");
