// mcp_client — `ff mcp` driven by the official TypeScript SDK's client over stdio, as an AI
// agent's host would: initialize, list the tools, scan examples/secrets with
// secret-detection, follow the run to its end, read its findings, and check that a bad call
// is a tool error (isError), not a protocol failure. Prints the exchange as a transcript.
//
// usage: node mcp_client.mjs SDK_DIR FF EXAMPLES_DIR   (FF_URL, FF_API_KEY in the environment)
import path from "node:path";
import { pathToFileURL } from "node:url";

const [sdkDir, ff, examples] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(path.join(sdkDir, "dist/esm", p)).href);
const { Client } = await load("client/index.js");
const { StdioClientTransport } = await load("client/stdio.js");

function check(ok, what) {
  if (!ok) {
    console.error(`mcp_client: FAIL: ${what}`);
    process.exit(1);
  }
}
const show = (what, v) => console.log(`${what}: ${JSON.stringify(v).slice(0, 400)}`);

const transport = new StdioClientTransport({ command: ff, args: ["mcp"], env: process.env, stderr: "inherit" });
const client = new Client({ name: "fuzzforge-e2e", version: "1.0.0" });
await client.connect(transport);
show("server", client.getServerVersion());
show("capabilities", client.getServerCapabilities());

const { tools } = await client.listTools();
show("tools", tools.map((t) => t.name));
for (const name of ["list_workflows", "upload_directory", "start_scan", "get_run", "list_findings", "cancel_run"])
  check(tools.some((t) => t.name === name && t.inputSchema?.type === "object"), `no tool ${name}`);

const call = async (name, args) => {
  const r = await client.callTool({ name, arguments: args });
  show(`${name}(${JSON.stringify(args)})`, r.isError ? r.content : r.structuredContent);
  return r;
};

const wf = await call("list_workflows", {});
const sd = wf.structuredContent.workflows.find((w) => w.name === "secret-detection");
check(sd && sd.parameters?.properties?.min_entropy, "secret-detection and its parameters listed");

const started = await call("start_scan", { workflow: "secret-detection", path: path.join(examples, "secrets"), labels: { agent: "e2e" } });
check(!started.isError && started.structuredContent.id, "start_scan gave a run");
const id = started.structuredContent.id;

let run;
const deadline = Date.now() + 300000;
for (;;) {
  run = (await client.callTool({ name: "get_run", arguments: { run_id: id } })).structuredContent;
  if (["succeeded", "failed", "timed_out", "cancelled"].includes(run.state)) break;
  check(Date.now() < deadline, `run ${id} still ${run.state} after 300 s`);
  await new Promise((r) => setTimeout(r, 250)); // the pause between two looks, not a wait
}
show("get_run (final)", { state: run.state, findings_summary: run.findings_summary });
check(run.state === "succeeded", `run ended ${run.state}`);

const f = await call("list_findings", { run_id: id, limit: 5 });
check(!f.isError && f.structuredContent.total >= 15, "at least the 15 planted findings");
check(f.structuredContent.findings.length === 5 && f.structuredContent.truncated, "limit 5 honoured");
const base = await call("list_findings", { run_id: id, baseline: id });
check(base.structuredContent.new === 0, "against itself nothing is new");

const bad = await call("get_run", { run_id: "00000000-0000-4000-8000-000000000000" });
check(bad.isError === true && /not|no run/i.test(bad.content[0].text), "an unknown run is a tool error");
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

await client.close();
console.log("mcp_client: ok");
