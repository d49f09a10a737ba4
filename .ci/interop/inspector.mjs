// The MCP Inspector's CLI (@modelcontextprotocol/inspector --cli) against
// skimmer-mcp: over stdio (it starts skimmer-mcp --sandbox itself), and one
// tools/list over streamable HTTP. Run with Node 22 (the Inspector needs
// Node >= 22.19).
//
// Environment (set by .ci/interop/run): INSPECTOR_BIN (its launcher),
// MCPDO_BIN (its connection CLI, for completion/complete),
// SKIMMER_BIN, HTTP_URL, INSPECTOR_HOME (an empty folder used as HOME, so
// the Inspector's catalog never touches the real one).

import { spawn } from 'node:child_process';

import { rmSync } from 'node:fs';

import { check, expect, finish, oneLine, quote, requireEnv, TOOLS, PROMPTS, TEMPLATES, HEX32 } from './lib.mjs';

const INSPECTOR = requireEnv('INSPECTOR_BIN');
const MCPDO = requireEnv('MCPDO_BIN'); // the Inspector's connection CLI
const BIN = requireEnv('SKIMMER_BIN');
const HTTP_URL = requireEnv('HTTP_URL');
const HOME = requireEnv('INSPECTOR_HOME');

function inspector(args, ms = 60_000) {
  return run(INSPECTOR, ['--cli', ...args], {}, ms);
}

function run(program, args, extraEnv, ms = 60_000) {
  return new Promise((resolve) => {
    const env = { ...process.env, HOME, MCP_CATALOG_PATH: `${HOME}/mcp.json`, CI: 'true', NO_COLOR: '1', ...extraEnv };
    const child = spawn(process.execPath, [program, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${ms} ms)`;
      child.kill('SIGKILL');
    }, ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? `signal ${signal}`, stdout, stderr });
    });
  });
}

function json(r) {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`exit ${r.code}; stdout is not JSON: ${quote(r.stdout)}; stderr: ${quote(r.stderr)}`);
  }
}

const stdio = [BIN, '--sandbox'];

await check('inspector/stdio tools/list', async () => {
  const r = await inspector([...stdio, '--method', 'tools/list']);
  expect(r.code === 0, `exit ${r.code}: ${oneLine(r.stderr)}`);
  const names = json(r).tools.map((t) => t.name).sort();
  expect(JSON.stringify(names) === JSON.stringify(TOOLS), `tools differ from the contract (${names.length}): ${names.join(', ')}`);
  return `exit 0; 11 tools, names match the contract`;
});

await check('inspector/stdio tools/list --strict (schema portability)', async () => {
  const r = await inspector([...stdio, '--method', 'tools/list', '--strict']);
  // The Inspector exits 6 when any tool schema has an error-severity
  // portability problem; warnings are reported but allowed.
  expect(r.code === 0, `exit ${r.code} (6 = error-severity schema problems): ${oneLine(r.stderr).slice(0, 500)}`);
  const warnings = (r.stderr.match(/^Warning: tool /gm) ?? []).length;
  const tools = new Set([...r.stderr.matchAll(/^Warning: tool "([^"]+)"/gm)].map((m) => m[1]));
  return `exit 0: no error-severity problems; ${warnings} warnings${tools.size ? ` (${[...tools].join(', ')})` : ''}`;
});

await check('inspector/stdio tools/call search_customers text=smith', async () => {
  const r = await inspector([...stdio, '--method', 'tools/call', '--tool-name', 'search_customers', '--tool-arg', 'text=smith']);
  expect(r.code === 0, `exit ${r.code}: ${oneLine(r.stderr)}`);
  const res = json(r);
  expect(!res.isError, `isError set: ${quote(r.stdout)}`);
  const text = res.content?.[0]?.text ?? '';
  const m = /^(\d+) customers match; page 1 of 1\./.exec(text);
  expect(m, `answer does not start "N customers match; page 1 of 1.": ${quote(text)}`);
  const lines = text.split('\n').slice(1);
  expect(lines.length === Number(m[1]) && lines.every((l) => HEX32.test(l.slice(0, 32)) && /smith/i.test(l)), `lines do not match the header: ${quote(text)}`);
  return `exit 0; "${text.split('\n')[0]}" and ${lines.length} id lines`;
});

let customerId;
await check('inspector/stdio resources/templates/list', async () => {
  const r = await inspector([...stdio, '--method', 'resources/templates/list']);
  expect(r.code === 0, `exit ${r.code}: ${oneLine(r.stderr)}`);
  const uris = json(r).resourceTemplates.map((t) => t.uriTemplate).sort();
  expect(JSON.stringify(uris) === JSON.stringify(TEMPLATES), `templates differ from the contract: ${uris.join(', ')}`);
  const search = json(await inspector([...stdio, '--method', 'tools/call', '--tool-name', 'search_customers', '--tool-arg', 'text=smith']));
  customerId = search.content[0].text.split('\n')[1].slice(0, 32);
  return `exit 0; ${uris.join(', ')}`;
});

await check('inspector/stdio resources/read (a customer card)', async () => {
  expect(HEX32.test(customerId ?? ''), 'no customer id from the search');
  const uri = `skimmer://customers/${customerId}`;
  const r = await inspector([...stdio, '--method', 'resources/read', '--uri', uri]);
  expect(r.code === 0, `exit ${r.code}: ${oneLine(r.stderr)}`);
  const c = json(r).contents?.[0];
  expect(c?.uri === uri && c.mimeType === 'text/plain' && c.text.split('\n')[0].includes(customerId), `not the card: ${quote(r.stdout)}`);
  return `exit 0; "${c.text.split('\n')[0]}"`;
});

await check('inspector/stdio prompts/list and prompts/get', async () => {
  const r = await inspector([...stdio, '--method', 'prompts/list']);
  expect(r.code === 0, `exit ${r.code}: ${oneLine(r.stderr)}`);
  const names = json(r).prompts.map((p) => p.name).sort();
  expect(JSON.stringify(names) === JSON.stringify(PROMPTS), `prompts differ from the contract: ${names.join(', ')}`);
  const g = await inspector([...stdio, '--method', 'prompts/get', '--prompt-name', 'customer_brief', '--prompt-args', 'customer=Emily Smith (Austin TX)']);
  expect(g.code === 0, `exit ${g.code}: ${oneLine(g.stderr)}`);
  const text = json(g).messages?.[0]?.content?.text ?? '';
  expect(text.includes('search_customers (text: "Emily Smith")') && text.includes('change nothing'), `the brief's message: ${quote(text)}`);
  return `exit 0; ${names.join(', ')}; customer_brief filled in`;
});

// The Inspector's --cli has no completion method; its connection CLI,
// mcpdo, in the same package, has one. It runs a daemon: a private one,
// stopped and removed when done.
await check('inspector (mcpdo) prompts/complete: a customer by part of a name, an activity type', async () => {
  const priv = await run(MCPDO, ['private'], {});
  const env = Object.fromEntries([...priv.stdout.matchAll(/export (\w+)='([^']*)'/g)].map((m) => [m[1], m[2]]));
  expect(env.MCP_INSPECTOR_DAEMON_DIR, `mcpdo private printed no daemon folder: ${quote(priv.stdout + priv.stderr)}`);
  try {
    const c = await run(MCPDO, ['connect', '--connection', 'skimmer', '--', BIN, '--sandbox'], env);
    expect(c.code === 0, `connect exit ${c.code}: ${oneLine(c.stdout + c.stderr)}`);
    const complete = async (...args) => {
      const r = await run(MCPDO, ['--format', 'json', '--connection', 'skimmer', 'prompts/complete', ...args], env);
      expect(r.code === 0, `exit ${r.code}: ${oneLine(r.stdout + r.stderr)}`);
      return json(r).values;
    };
    const people = await complete('--complete-ref-type', 'ref/resource', '--complete-ref', 'skimmer://customers/{+customer}', '--complete-arg-name', 'customer', '--complete-arg-value', 'smi');
    expect(people.length > 0 && people.every((v) => /smith/i.test(v)), `customer "smi": ${quote(JSON.stringify(people))}`);
    const types = await complete('--complete-ref-type', 'ref/prompt', '--complete-ref', 'log_contact', '--complete-arg-name', 'type', '--complete-arg-value', 'e');
    expect(JSON.stringify(types) === '["Email"]', `type "e": ${JSON.stringify(types)}`);
    return `customer "smi" -> ${people.length} (${quote(people[0])} first); type "e" -> Email`;
  } finally {
    await run(MCPDO, ['daemon', 'stop'], env);
    rmSync(env.MCP_INSPECTOR_DAEMON_DIR, { recursive: true, force: true });
  }
});

await check('inspector/stdio tools/call get_customer id=nope (error case)', async () => {
  const r = await inspector([...stdio, '--method', 'tools/call', '--tool-name', 'get_customer', '--tool-arg', 'id=nope']);
  // The Inspector exits 5 when the tool result has isError: true.
  expect(r.code === 5, `exit ${r.code}, want 5 (tool returned isError): ${oneLine(r.stdout)} ${oneLine(r.stderr)}`);
  const res = json(r);
  expect(res.isError === true && res.content?.[0]?.text?.includes('is not a Skimmer id'), `not the expected error result: ${quote(r.stdout)}`);
  return 'exit 5 (tool error); isError: true, "is not a Skimmer id"';
});

await check('inspector/http tools/list', async () => {
  const r = await inspector([HTTP_URL, '--method', 'tools/list', '--header', 'skimmer-api-key: interop-check-key']);
  expect(r.code === 0, `exit ${r.code}: ${oneLine(r.stderr)}`);
  const names = json(r).tools.map((t) => t.name).sort();
  expect(JSON.stringify(names) === JSON.stringify(TOOLS), `tools differ from the contract: ${names.join(', ')}`);
  return 'exit 0 over streamable HTTP; 11 tools, names match the contract';
});

finish();
