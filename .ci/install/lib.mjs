// Helpers shared by the install checks. Every check prints one line:
//
//   PASS <name>: <what was checked>
//   FAIL <name>: <what went wrong>
//
// .ci/install/run counts them; a script exits 1 when any check failed.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

let passes = 0;
let failures = 0;

export async function check(name, fn) {
  try {
    const detail = await fn();
    passes++;
    console.log(`PASS ${name}: ${detail}`);
    return true;
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}: ${oneLine(err instanceof Error ? err.message : String(err))}`);
    return false;
  }
}

export function expect(cond, message) {
  if (!cond) throw new Error(message);
}

export function finish() {
  if (passes + failures === 0) {
    console.log('FAIL script: ran no check');
    process.exit(1);
  }
  process.exit(failures > 0 ? 1 : 0);
}

export function oneLine(s) {
  return String(s).replace(/\s+/g, ' ').trim().slice(0, 700);
}

export function requireEnv(name) {
  const v = process.env[name];
  if (!v) {
    console.log(`FAIL setup: environment variable ${name} is not set (run through .ci/install/run)`);
    process.exit(1);
  }
  return v;
}

export function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

export function textOf(result) {
  return (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

// session connects a client over stdio ({command, args, env, cwd}) or
// streamable HTTP ({url, headers}), runs fn with it, and closes it. A
// failure carries the server's stderr, which is where it says why.
export async function session(target, fn) {
  let transport;
  let stderr = '';
  if (target.url) {
    transport = new StreamableHTTPClientTransport(new URL(target.url), { requestInit: { headers: target.headers ?? {} } });
  } else {
    transport = new StdioClientTransport({ command: target.command, args: target.args ?? [], env: target.env, cwd: target.cwd, stderr: 'pipe' });
    transport.stderr?.on('data', (d) => (stderr += d));
  }
  const client = new Client({ name: 'skimmer-install-check', version: '1.0.0' }, { capabilities: {} });
  try {
    await withTimeout(client.connect(transport), 30_000, 'initialize');
    return await fn(client, () => stderr);
  } catch (err) {
    const tail = stderr.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`${err instanceof Error ? err.message : err}${tail ? ` (server stderr: ${tail})` : ''}`);
  } finally {
    await client.close().catch(() => {});
  }
}

// search asks for "smith" and returns the answer's text.
export async function search(client) {
  const res = await client.callTool({ name: 'search_customers', arguments: { text: 'smith' } }, undefined, { timeout: 20_000 });
  return { text: textOf(res), isError: res.isError === true };
}

// The placeholders the README's configurations use, and what CI puts in
// their place. Every one must appear in the README, or the checks would
// quietly test less than the README says.
export const PLACEHOLDERS = {
  binary: '/absolute/path/to/skimmer-mcp',
  key: 'your-skimmer-api-key',
  vscodeKey: '${input:skimmer-key}',
  hosted: 'https://mcp.example.com/mcp',
};
