// The MCP Inspector's CLI (@modelcontextprotocol/inspector --cli) against
// skimmer-mcp: over stdio (it starts skimmer-mcp --sandbox itself), and one
// tools/list over streamable HTTP. Run with Node 22 (the Inspector needs
// Node >= 22.19).
//
// Environment (set by .ci/interop/run): INSPECTOR_BIN (its launcher),
// SKIMMER_BIN, HTTP_URL, INSPECTOR_HOME (an empty folder used as HOME, so
// the Inspector's catalog never touches the real one).

import { spawn } from 'node:child_process';

import { check, expect, finish, oneLine, quote, requireEnv, TOOLS, HEX32 } from './lib.mjs';

const INSPECTOR = requireEnv('INSPECTOR_BIN');
const BIN = requireEnv('SKIMMER_BIN');
const HTTP_URL = requireEnv('HTTP_URL');
const HOME = requireEnv('INSPECTOR_HOME');

function inspector(args, ms = 60_000) {
  return new Promise((resolve) => {
    const env = { ...process.env, HOME, MCP_CATALOG_PATH: `${HOME}/mcp.json`, CI: 'true', NO_COLOR: '1' };
    const child = spawn(process.execPath, [INSPECTOR, '--cli', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
