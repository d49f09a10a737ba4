// Checks the container image without running a container (this machine
// does not allow `podman run`): its configuration, as `podman image
// inspect` reports it, and the binary copied out of it, started with the
// image's own entrypoint and environment.
//
// Environment (set by .ci/install/run): IMAGE_CONFIG (the inspect output),
// IMAGE_BIN (the binary from the image), SERVER_JSON (the registry entry),
// SKIMMER_KEY, SANDBOX_URL, VERSION (the release the image was built from).

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

import { check, expect, finish, requireEnv, search, session, withTimeout } from './lib.mjs';

const inspect = JSON.parse(readFileSync(requireEnv('IMAGE_CONFIG'), 'utf8'));
const image = Array.isArray(inspect) ? inspect[0] : inspect;
const BIN = requireEnv('IMAGE_BIN');
const KEY = requireEnv('SKIMMER_KEY');
const SANDBOX_URL = requireEnv('SANDBOX_URL');
const VERSION = requireEnv('VERSION');
const entry = JSON.parse(readFileSync(requireEnv('SERVER_JSON'), 'utf8'));
const cfg = image.Config ?? {};

await check('image: user', async () => {
  expect(cfg.User === '65532:65532', `User is ${JSON.stringify(cfg.User)}`);
  return 'runs as 65532:65532, not root';
});
await check('image: labels', async () => {
  const name = cfg.Labels?.['io.modelcontextprotocol.server.name'];
  expect(name === entry.name, `io.modelcontextprotocol.server.name is ${JSON.stringify(name)}, server.json names ${entry.name}`);
  return `io.modelcontextprotocol.server.name=${name}, as in server.json`;
});
await check('image: entrypoint and command', async () => {
  expect(JSON.stringify(cfg.Entrypoint) === '["/skimmer-mcp"]', `Entrypoint ${JSON.stringify(cfg.Entrypoint)}`);
  expect(!cfg.Cmd || cfg.Cmd.length === 0, `Cmd ${JSON.stringify(cfg.Cmd)}: flags given to docker run should be the only arguments`);
  return 'ENTRYPOINT ["/skimmer-mcp"], no CMD';
});
await check('image: exposed port', async () => {
  const ports = Object.keys(cfg.ExposedPorts ?? {});
  expect(ports.length === 1 && ports[0] === '8080/tcp', `ExposedPorts ${ports.join(', ')}`);
  return '8080/tcp';
});
const env = Object.fromEntries((cfg.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
await check('image: environment', async () => {
  expect(env.SKIMMER_TRANSPORT === 'http' && env.SKIMMER_ADDR === '0.0.0.0:8080', `Env ${JSON.stringify(cfg.Env)}`);
  expect(!('SKIMMER_API_KEY' in env), 'the image must not carry a server-wide key');
  return `SKIMMER_TRANSPORT=http SKIMMER_ADDR=0.0.0.0:8080 SKIMMER_LOG_FORMAT=${env.SKIMMER_LOG_FORMAT}`;
});
await check('image: health check', async () => {
  const hc = cfg.Healthcheck ?? image.Healthcheck ?? image.HealthCheck; // where podman puts it
  expect(JSON.stringify(hc?.Test) === '["CMD","/skimmer-mcp","healthcheck"]', `Healthcheck ${JSON.stringify(hc)}`);
  return `${hc.Test.slice(1).join(' ')} every ${hc.Interval / 1e9}s`;
});
await check('image: the binary', async () => {
  const v = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
  expect(v.stdout.startsWith(`skimmer-mcp ${VERSION} (`), `--version says ${JSON.stringify(v.stdout)}; the release is ${VERSION}`);
  const m = spawnSync('go', ['version', '-m', BIN], { encoding: 'utf8' });
  expect(/CGO_ENABLED=0/.test(m.stdout), 'not a static build (CGO_ENABLED=0 missing)');
  expect(/golang\.org\/x\/crypto\/x509roots\/fallback/.test(m.stdout), 'no built-in root certificates (x509roots/fallback)');
  return `${v.stdout.trim()}; static; carries its own root certificates`;
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// start runs the binary as the image would: its entrypoint, no arguments,
// the image's environment (the port changed to a free one: others use this
// machine), and Skimmer's address pointed at the local sandbox.
async function start(extra = {}) {
  const port = await freePort();
  const childEnv = { ...env, SKIMMER_ADDR: `0.0.0.0:${port}`, SKIMMER_BASE_URL: SANDBOX_URL, ...extra };
  delete childEnv.PATH;
  const child = spawn(BIN, [], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const serving = new Promise((resolve) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('"msg":"serving MCP"')) resolve(true);
    });
  });
  const ok = await withTimeout(Promise.race([serving, exited.then(() => false)]), 20_000, 'start').catch(() => false);
  return { child, port, env: childEnv, ok, exited, stderr: () => stderr };
}

const server = await start();
try {
  await check('image binary: serves streamable HTTP on 0.0.0.0 as the image says', async () => {
    expect(server.ok, `did not start: ${server.stderr()}`);
    // Go names a listener on every interface [::] (IPv6 and IPv4 alike);
    // the URL logged is the one that works on this machine.
    const listen = /"url":"(http:\/\/localhost:\d+\/mcp)","listen":"((?:0\.0\.0\.0|\[::\]):\d+)"/.exec(server.stderr());
    expect(listen, `the log line: ${server.stderr().slice(0, 400)}`);
    // No auth token and no OAuth on every interface: it says so at start.
    expect(server.stderr().includes('no auth token on 0.0.0.0:'), `no warning about the missing auth token: ${server.stderr().slice(0, 400)}`);
    return `logged "serving MCP" (JSON, as SKIMMER_LOG_FORMAT says) at ${listen[1].replace(/:\d+\//, ':PORT/')}, listening on ${listen[2].replace(/:\d+$/, ':PORT')}, every interface, and warned that no auth token is set`;
  });
  await check('image binary: the HEALTHCHECK command', async () => {
    const r = spawnSync(BIN, ['healthcheck'], { env: server.env, encoding: 'utf8' });
    expect(r.status === 0 && r.stdout.includes(': ok (version'), `exit ${r.status}: ${r.stdout}${r.stderr}`);
    return r.stdout.trim();
  });
  await check('image binary: a caller with a key', async () => {
    return session({ url: `http://127.0.0.1:${server.port}/mcp`, headers: { 'skimmer-api-key': KEY } }, async (client) => {
      const r = await search(client);
      expect(!r.isError && /customers? match/.test(r.text), `search_customers answered ${JSON.stringify(r.text.slice(0, 200))}`);
      return 'the TypeScript SDK client listed and called tools with its own key';
    });
  });
  await check('image binary: a caller with no key', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    const body = await res.text();
    expect(res.status === 401 && body.includes('skimmer-api-key'), `HTTP ${res.status}: ${body}`);
    return `HTTP 401: ${JSON.parse(body).error}`;
  });
  await check('image binary: stops cleanly on SIGTERM', async () => {
    server.child.kill('SIGTERM');
    const code = await withTimeout(server.exited, 15_000, 'shutdown');
    expect(code === 0, `exit status ${code}`);
    return 'exit status 0';
  });
} finally {
  server.child.kill('SIGKILL');
}

await check('image binary: refuses a server-wide key on 0.0.0.0 with no auth token', async () => {
  const s = await start({ SKIMMER_API_KEY: KEY });
  const code = await withTimeout(s.exited, 15_000, 'refusal');
  expect(!s.ok && code !== 0 && s.stderr().includes('refusing to serve SKIMMER_API_KEY'), `exit ${code}: ${s.stderr()}`);
  expect(!s.stderr().includes(KEY), 'the refusal printed the key');
  return `exit ${code}: refusing to serve SKIMMER_API_KEY … set SKIMMER_AUTH_TOKEN`;
});

// The registry entry's OCI package: stdio, the key and SKIMMER_TRANSPORT=stdio.
const oci = entry.packages.find((p) => p.registryType === 'oci');
await check('image binary: as the registry entry runs it (stdio)', async () => {
  const vars = Object.fromEntries(oci.environmentVariables.filter((v) => v.value).map((v) => [v.name, v.value]));
  const childEnv = { ...env, ...vars, SKIMMER_API_KEY: KEY, SKIMMER_BASE_URL: SANDBOX_URL };
  delete childEnv.PATH;
  const hc = spawnSync(BIN, ['healthcheck'], { env: childEnv, encoding: 'utf8' });
  expect(hc.status === 0, `the health check over stdio: exit ${hc.status}: ${hc.stdout}${hc.stderr}`);
  return session({ command: BIN, args: [], env: childEnv }, async (client) => {
    const r = await search(client);
    expect(!r.isError && /customers? match/.test(r.text), `search_customers answered ${JSON.stringify(r.text.slice(0, 200))}`);
    return `${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(' ')}: served over stdio; the health check reports healthy`;
  });
});

finish();
