// The official MCP conformance suite (@modelcontextprotocol/conformance)
// against skimmer-mcp's streamable HTTP endpoint, stateless (the default)
// and --stateful. Run with Node 22 (the suite's own requirement comes from
// its dependencies).
//
// Every server scenario the pinned suite lists is run, unless a rule below
// shows, against the live server, that it needs something this server
// deliberately does not offer: then it is printed as N/A with the reason and
// not counted. A scenario no rule covers (say, from a newer suite) is run and
// counted, so it fails loudly until someone looks at it.
//
// A scenario passes when the suite exits 0 and its checks.json holds at
// least one SUCCESS and no FAILURE or WARNING.
//
// Environment (set by .ci/interop/run): CONFORMANCE_BIN (its dist/index.js),
// HTTP_URL, HTTP_STATEFUL_URL, CONFORMANCE_OUT (a folder for results).

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { check, expect, fail, finish, notApplicable, oneLine, requireEnv, withTimeout } from './lib.mjs';

const SUITE = requireEnv('CONFORMANCE_BIN');
const OUT = requireEnv('CONFORMANCE_OUT');
const servers = [
  { name: 'http', url: requireEnv('HTTP_URL') },
  { name: 'http-stateful', url: requireEnv('HTTP_STATEFUL_URL') },
];

// The reference "everything" server's fixtures that scenarios call: tools,
// prompts and resources of its own. skimmer-mcp's tools, prompts and
// resource templates are a contract (business records, not test fixtures),
// so it does not grow fixtures; its own tool calls, errors, elicitation,
// prompts, resources and completions are covered with the real ones by
// sdk-client.mjs, sdk-elicitation.mjs and inspector.mjs. The scenarios that
// need no fixture (resources-list, prompts-list, completion-complete) run.
const fixture = (tool) => ({ tool });
const rules = {
  'logging-set-level': { capability: 'logging' },
  'tools-call-simple-text': fixture('test_simple_text'),
  'tools-call-image': fixture('test_image_content'),
  'tools-call-audio': fixture('test_audio_content'),
  'tools-call-embedded-resource': fixture('test_embedded_resource'),
  'tools-call-mixed-content': fixture('test_multiple_content_types'),
  'tools-call-with-logging': { capability: 'logging', ...fixture('test_tool_with_logging') },
  'tools-call-error': fixture('test_error_handling'),
  'tools-call-with-progress': fixture('test_tool_with_progress'),
  'tools-call-sampling': fixture('test_sampling'),
  'tools-call-elicitation': fixture('test_elicitation'),
  'json-schema-2020-12': fixture('json_schema_2020_12_tool'),
  'elicitation-sep1034-defaults': fixture('test_elicitation_sep1034_defaults'),
  'elicitation-sep1330-enums': fixture('test_elicitation_sep1330_enums'),
  'server-sse-polling': fixture('test_reconnection'),
  'server-sse-multiple-streams': { session: true },
  'resources-read-text': { resource: 'test://static-text' },
  'resources-read-binary': { resource: 'test://static-binary' },
  'resources-templates-read': { resource: 'test://template/123/data' },
  'resources-subscribe': { capability: 'resources.subscribe' },
  'resources-unsubscribe': { capability: 'resources.subscribe' },
  'prompts-get-simple': { prompt: 'test_simple_prompt' },
  'prompts-get-with-args': { prompt: 'test_prompt_with_arguments' },
  'prompts-get-embedded-resource': { prompt: 'test_prompt_with_embedded_resource' },
  'prompts-get-with-image': { prompt: 'test_prompt_with_image' },
};

const why = {
  logging: 'declares no logging capability (it logs to its own stderr, never to clients)',
  'resources.subscribe': 'offers resources without subscriptions: Skimmer tells nobody when a record changes, so there is nothing to notify',
};

// notApplicableBecause returns why a scenario does not apply to this
// server as probed ({kind, detail}), or null when it applies.
function notApplicableBecause(rule, probe) {
  if (!rule) return null;
  if (rule.capability) {
    const [cap, sub] = rule.capability.split('.');
    if (!probe.capabilities[cap] || (sub && !probe.capabilities[cap][sub])) return { kind: `the server ${why[rule.capability]}` };
  }
  if (rule.tool && !probe.tools.includes(rule.tool)) {
    return {
      kind: "each calls a fixture tool of the reference test server; skimmer-mcp offers only its 11 contract tools (its own tool calls, errors and elicitation are checked with real tools by the SDK checks)",
      detail: rule.tool,
    };
  }
  if (rule.prompt && !probe.prompts.includes(rule.prompt)) {
    return { kind: "each gets a fixture prompt of the reference test server; skimmer-mcp's own prompts are checked by the SDK and Inspector checks", detail: rule.prompt };
  }
  if (rule.resource && !probe.reads(rule.resource)) {
    return { kind: "each reads a fixture resource of the reference test server, which no skimmer-mcp template matches; its own templates are read by the SDK and Inspector checks", detail: rule.resource };
  }
  if (rule.session && !probe.sessionId) {
    return { kind: 'needs an MCP session: stateless streamable HTTP (the default) issues no Mcp-Session-Id by design; it runs against the --stateful server' };
  }
  return null;
}

function run(args, ms) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SUITE, ...args], { cwd: OUT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n(killed after ${ms} ms)`;
      child.kill('SIGKILL');
    }, ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? `signal ${signal}`, out });
    });
  });
}

async function probe(url) {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'skimmer-interop-probe', version: '1.0.0' }, { capabilities: {} });
  await withTimeout(client.connect(transport), 20_000, `initialize ${url}`);
  try {
    const capabilities = client.getServerCapabilities() ?? {};
    const { tools } = await client.listTools({}, { timeout: 20_000 });
    const prompts = capabilities.prompts ? (await client.listPrompts({}, { timeout: 20_000 })).prompts.map((p) => p.name) : [];
    const resources = capabilities.resources ? (await client.listResources({}, { timeout: 20_000 })).resources.map((r) => r.uri) : [];
    const templates = capabilities.resources ? (await client.listResourceTemplates({}, { timeout: 20_000 })).resourceTemplates.map((t) => t.uriTemplate) : [];
    // A URI a template reads: its literal prefix up to the first variable.
    const reads = (uri) => resources.includes(uri) || templates.some((t) => uri.startsWith(t.slice(0, t.indexOf('{'))));
    return { capabilities, tools: tools.map((t) => t.name), prompts, reads, sessionId: transport.sessionId };
  } finally {
    if (transport.sessionId) await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
  }
}

// The suite's own list of server scenarios.
mkdirSync(OUT, { recursive: true });
let scenarios = [];
const listed = await check('conformance list --server', async () => {
  const { code, out } = await run(['list', '--server'], 60_000);
  expect(code === 0, `exit ${code}: ${oneLine(out)}`);
  scenarios = [...out.matchAll(/^\s*-\s+([a-z0-9-]+)/gm)].map((m) => m[1]);
  expect(scenarios.length > 0, `no scenarios in: ${oneLine(out)}`);
  return `${scenarios.length} server scenarios`;
});
if (!listed) finish();

const stale = Object.keys(rules).filter((s) => !scenarios.includes(s));
if (stale.length) fail('conformance rules', `rules name scenarios the suite no longer lists: ${stale.join(', ')}`);

const probes = new Map();
for (const server of servers) {
  try {
    probes.set(server.name, await probe(server.url));
  } catch (err) {
    fail(`conformance/${server.name} probe`, err instanceof Error ? err.message : String(err));
  }
}

const skipped = new Map(); // kind -> {scenarios, servers}
for (const scenario of scenarios) {
  for (const server of servers) {
    const p = probes.get(server.name);
    if (!p) continue;
    const reason = notApplicableBecause(rules[scenario], p);
    if (reason) {
      const g = skipped.get(reason.kind) ?? { scenarios: new Map(), servers: new Set() };
      g.scenarios.set(scenario, reason.detail);
      g.servers.add(server.name);
      skipped.set(reason.kind, g);
      continue;
    }
    await check(`conformance/${server.name} ${scenario}`, async () => {
      const dir = join(OUT, server.name, scenario);
      mkdirSync(dir, { recursive: true });
      const { code, out } = await run(['server', '--url', server.url, '--scenario', scenario, '-o', dir], 120_000);
      const results = findChecks(dir);
      expect(results, `no checks.json written (exit ${code}): ${oneLine(out)}`);
      const by = (status) => results.filter((c) => c.status === status);
      const bad = [...by('FAILURE'), ...by('WARNING')];
      expect(bad.length === 0, bad.map((c) => `${c.status} ${c.id}: ${c.errorMessage ?? c.details?.message ?? c.description}`).join('; '));
      expect(by('SUCCESS').length > 0, `no check succeeded: ${results.map((c) => `${c.status} ${c.id}`).join('; ')}`);
      expect(code === 0, `the suite exited ${code}: ${oneLine(out)}`);
      return by('SUCCESS').map((c) => c.id).join(', ');
    });
  }
}
for (const [kind, g] of skipped) {
  const list = [...g.scenarios].map(([s, d]) => (d ? `${s} (${d})` : s)).join(', ');
  notApplicable(`conformance [${[...g.servers].join(', ')}] ${list}`, kind);
}
finish();

function findChecks(dir) {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    if (!existsSync(d)) continue;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const f = join(d, e.name);
      if (e.isDirectory()) stack.push(f);
      else if (e.name === 'checks.json') return JSON.parse(readFileSync(f, 'utf8'));
    }
  }
  return null;
}
