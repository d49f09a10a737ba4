// Plain HTTP against the hosted transports, for what the MCP clients do not
// exercise: /healthz, and the DNS-rebinding guard taken apart (the
// conformance suite sends a bad Host and a bad Origin together; here each
// must be refused on its own, and localhost ones accepted).
//
// Environment (set by .ci/interop/run): HTTP_URL, SSE_URL.

import http from 'node:http';

import { check, expect, finish, quote, requireEnv } from './lib.mjs';

const targets = [
  { name: 'http', url: new URL(requireEnv('HTTP_URL')), transport: 'http' },
  { name: 'sse', url: new URL(requireEnv('SSE_URL')), transport: 'sse' },
];

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'skimmer-interop-guard', version: '1.0.0' } },
});

// request sends one request and returns the status and up to 2 KB of the
// body; SSE streams are cut after the first bytes.
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: 10_000 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        data += d;
        if (data.length > 2048 || String(res.headers['content-type']).includes('text/event-stream')) {
          res.destroy();
          resolve({ status: res.statusCode, headers: res.headers, body: data });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
      res.on('error', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// mcpRequest is the request that opens a session on the transport.
function mcpRequest(t, headers) {
  if (t.transport === 'http') {
    return request(t.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
      body: INIT,
    });
  }
  return request(t.url, { headers: { Accept: 'text/event-stream', ...headers } });
}

for (const t of targets) {
  const p = `hosted/${t.name}`;
  await check(`${p} GET /healthz`, async () => {
    const r = await request(new URL('/healthz', t.url));
    expect(r.status === 200, `status ${r.status}: ${quote(r.body)}`);
    const j = JSON.parse(r.body);
    expect(j.status === 'ok' && j.transport === t.transport, `body ${quote(r.body)}`);
    return `200 ${r.body.trim()}`;
  });

  const host = t.url.host.replace('127.0.0.1', 'evil.example.com');
  await check(`${p} non-localhost Host refused`, async () => {
    const r = await mcpRequest(t, { Host: host });
    expect(r.status === 403, `Host: ${host} got ${r.status}, want 403: ${quote(r.body)}`);
    return `Host: ${host} -> 403`;
  });
  await check(`${p} non-localhost Origin refused`, async () => {
    const r = await mcpRequest(t, { Origin: 'http://evil.example.com' });
    expect(r.status === 403, `Origin: http://evil.example.com got ${r.status}, want 403: ${quote(r.body)}`);
    return 'Origin: http://evil.example.com -> 403';
  });
  await check(`${p} localhost Host and Origin accepted`, async () => {
    const port = t.url.port;
    const r = await mcpRequest(t, { Host: `localhost:${port}`, Origin: `http://localhost:${port}` });
    expect(r.status === 200, `got ${r.status}, want 200: ${quote(r.body)}`);
    return `Host: localhost:${port}, Origin: http://localhost:${port} -> 200`;
  });
}
finish();
