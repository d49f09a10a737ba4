// The official TypeScript SDK client's OAuth support against skimmer-mcp
// --oauth, the way a connector host uses it: discovery from the 401,
// registration by DCR and by a client ID metadata document, PKCE, the
// sign-in page filled in by a person in headless Chromium, then tools over
// streamable HTTP; refresh, reuse of a spent refresh token, revocation and
// an expired token. Screenshots of the sign-in page at desktop and phone
// widths go to OUT.
//
// Environment (set by .ci/oauth/run): SERVER_URL and SHORT_URL (a server
// whose access tokens live 2 s), DOC_PORT (where this script serves its
// metadata document over https, with DOC_CERT and DOC_KEY), CHROMIUM, OUT.
// Prints PASS/FAIL lines and ends with "N passed, M failed".

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

import { chromium } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, auth } from '@modelcontextprotocol/sdk/client/auth.js';

const env = (k) => {
  const v = process.env[k];
  if (!v) {
    console.log(`FAIL setup: ${k} is not set (run through .ci/oauth/run)`);
    process.exit(1);
  }
  return v;
};
const SERVER = env('SERVER_URL');
const SHORT = env('SHORT_URL');
const DOC_PORT = Number(env('DOC_PORT'));
const OUT = env('OUT');
const KEY = 'sk_live_ci_oauth_key_7d41';

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    const detail = await fn();
    passed++;
    console.log(`PASS ${name}: ${detail}`);
    return true;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${String(e?.stack ?? e).replace(/\s+/g, ' ').slice(0, 600)}`);
    return false;
  }
}
function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}
const textOf = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

// The app's redirect: a loopback listener, as a native MCP client has.
const callback = await new Promise((resolve) => {
  let waiting = null;
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. You can close this window.');
    if (u.pathname === '/callback' && waiting) {
      const w = waiting;
      waiting = null;
      w(u.searchParams);
    }
  });
  srv.listen(0, '127.0.0.1', () =>
    resolve({
      url: `http://127.0.0.1:${srv.address().port}/callback`,
      next: () => new Promise((r) => (waiting = r)),
      close: () => srv.close(),
    }),
  );
});

// The app's client ID metadata document, served over https on loopback
// (the server trusts the test certificate and allows loopback by its
// explicit test setting).
const docURL = `https://localhost:${DOC_PORT}/oauth/client.json`;
const docServer = https.createServer({ cert: readFileSync(env('DOC_CERT')), key: readFileSync(env('DOC_KEY')) }, (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
  res.end(JSON.stringify({
    client_id: docURL, client_name: 'CI Metadata Client', redirect_uris: [callback.url],
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
  }));
});
await new Promise((r) => docServer.listen(DOC_PORT, '127.0.0.1', r));

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

// provider is an OAuthClientProvider held in memory. A person signs in on
// the page it is sent to, choosing access.
function provider(name, { metadataUrl, access, screenshots } = {}) {
  const p = {
    name, access, store: {}, authorizationURLs: [], codes: [],
    get redirectUrl() { return callback.url; },
    get clientMetadata() {
      return { client_name: name, redirect_uris: [callback.url], grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], token_endpoint_auth_method: 'none' };
    },
    clientMetadataUrl: metadataUrl,
    state: () => 'st-' + Math.random().toString(36).slice(2),
    clientInformation: () => p.store.client,
    saveClientInformation: (c) => { p.store.client = c; },
    tokens: () => p.store.tokens,
    saveTokens: (t) => { p.store.tokens = t; },
    saveCodeVerifier: (v) => { p.store.verifier = v; },
    codeVerifier: () => p.store.verifier,
    async redirectToAuthorization(url) {
      p.authorizationURLs.push(url);
      p.code = signIn(url, p.access, screenshots); // awaited by the caller after the transport says 401
    },
  };
  return p;
}

// signIn is the person: opens the page, pastes the key, picks access,
// presses Connect; resolves with the code the app receives.
async function signIn(url, access, screenshots) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const got = callback.next();
  try {
    await page.goto(url.href);
    if (screenshots) {
      await page.screenshot({ path: `${OUT}/authorize-desktop.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: `${OUT}/authorize-phone.png`, fullPage: true });
    }
    await page.fill('#key', KEY);
    await page.check(`input[name=access][value=${access}]`);
    await page.click('button[value=connect]');
    const params = await got;
    expect(params.get('iss') === url.origin, `iss ${params.get('iss')}, want ${url.origin}`);
    expect(params.get('code'), `no code: ${params}`);
    return params.get('code');
  } finally {
    await ctx.close();
  }
}

// connect runs the SDK's flow: a 401, auth() through the provider, the
// page, finishAuth with the code, and a connected client.
async function connect(base, p) {
  const first = new StreamableHTTPClientTransport(new URL(base + '/mcp'), { authProvider: p });
  const c1 = new Client({ name: p.name, version: '1.0.0' });
  try {
    await c1.connect(first);
    throw new Error('connected without signing in');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  await first.finishAuth(await p.code);
  return open(base, p);
}

async function open(base, p) {
  const c = new Client({ name: p.name, version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(base + '/mcp'), { authProvider: p }));
  return c;
}

async function mcpStatus(base, token) {
  const r = await fetch(base + '/mcp', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await r.text();
  return { status: r.status, challenge: r.headers.get('www-authenticate') ?? '' };
}

async function tokenRequest(base, params) {
  const r = await fetch(base + '/token', { method: 'POST', body: new URLSearchParams(params) });
  return { status: r.status, body: await r.json() };
}

let dcr;
let dcrClient;
let customerId;
let spentRefresh;

await check('discovery', async () => {
  const r = await fetch(SERVER + '/mcp', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const h = r.headers.get('www-authenticate') ?? '';
  expect(r.status === 401, `POST /mcp without a token: HTTP ${r.status}, want 401`);
  expect(h.includes(`resource_metadata="${SERVER}/.well-known/oauth-protected-resource/mcp"`), `WWW-Authenticate: ${h}`);
  const as = await (await fetch(SERVER + '/.well-known/oauth-authorization-server')).json();
  expect(JSON.stringify(as.code_challenge_methods_supported) === '["S256"]', `PKCE methods ${as.code_challenge_methods_supported}`);
  return `401 with ${h}; metadata offers ${as.grant_types_supported.join(', ')}, PKCE S256 only`;
});

await check('DCR sign-in, read and change', async () => {
  dcr = provider('CI DCR Client', { access: 'write', screenshots: true });
  dcrClient = await connect(SERVER, dcr);
  const u = dcr.authorizationURLs[0];
  expect(dcr.store.client.client_id.startsWith('smcp_c_'), `client_id ${dcr.store.client.client_id} is not a registration`);
  expect(u.searchParams.get('code_challenge_method') === 'S256', 'PKCE S256');
  expect(u.searchParams.get('resource') === SERVER + '/mcp', `resource ${u.searchParams.get('resource')}`);
  const { tools } = await dcrClient.listTools();
  expect(tools.length === 11, `${tools.length} tools, want 11`);
  return `registered by DCR, signed in on the page, ${tools.length} tools; scope ${dcr.store.tokens.scope}`;
});

await check('a confirmed write', async () => {
  const found = await dcrClient.callTool({ name: 'search_customers', arguments: { text: 'smith' } });
  customerId = textOf(found).match(/\b[0-9a-f]{32}\b/)?.[0];
  expect(customerId, `no customer id in ${textOf(found).slice(0, 200)}`);
  const title = 'CI OAuth check ' + Date.now();
  const w = await dcrClient.callTool({ name: 'create_customer_activity', arguments: { customerId, type: 'Other', title, confirm: true } });
  expect(!w.isError, textOf(w));
  const list = await dcrClient.callTool({ name: 'list_customer_activities', arguments: { customerId } });
  expect(textOf(list).includes(title), 'the new entry is not in the log');
  return `created "${title}" and read it back`;
});

await check('refresh', async () => {
  const before = dcr.store.tokens;
  const r = await auth(dcr, { serverUrl: new URL(SERVER + '/mcp') });
  const after = dcr.store.tokens;
  expect(r === 'AUTHORIZED', `auth() answered ${r}`);
  expect(after.refresh_token !== before.refresh_token && after.access_token !== before.access_token, 'the tokens did not rotate');
  spentRefresh = before.refresh_token;
  const c = await open(SERVER, dcr);
  const { tools } = await c.listTools();
  await c.close();
  return `auth() refreshed: new access and refresh tokens, ${tools.length} tools with the new one`;
});

await check('reusing a spent refresh token revokes the grant', async () => {
  const again = await tokenRequest(SERVER, { grant_type: 'refresh_token', refresh_token: spentRefresh, client_id: dcr.store.client.client_id });
  expect(again.status === 400 && again.body.error === 'invalid_grant', `reuse: ${again.status} ${JSON.stringify(again.body)}`);
  const { status, challenge } = await mcpStatus(SERVER, dcr.store.tokens.access_token);
  expect(status === 401 && challenge.includes('revoked'), `the current access token: ${status} ${challenge}`);
  const current = await tokenRequest(SERVER, { grant_type: 'refresh_token', refresh_token: dcr.store.tokens.refresh_token, client_id: dcr.store.client.client_id });
  expect(current.status === 400, `the current refresh token: ${current.status}`);
  return `reuse answered invalid_grant (${again.body.error_description}); the grant's newest access token gets 401, its refresh token 400`;
});

let cimd;
await check('metadata-document sign-in, read only', async () => {
  cimd = provider('CI Metadata Client', { metadataUrl: docURL, access: 'read' });
  const c = await connect(SERVER, cimd);
  const u = cimd.authorizationURLs[0];
  expect(u.searchParams.get('client_id') === docURL, `client_id ${u.searchParams.get('client_id')}, want the document URL`);
  const { tools } = await c.listTools();
  expect(tools.length === 5, `${tools.length} tools, want 5: ${tools.map((t) => t.name)}`);
  expect(tools.every((t) => t.annotations?.readOnlyHint === true), 'a listed tool is not read-only');
  const w = await c.callTool({ name: 'create_customer_activity', arguments: { customerId, type: 'Other', title: 'must not exist', confirm: true } });
  expect(w.isError && textOf(w).includes('may only read'), `the write was not refused: ${textOf(w)}`);
  await c.close();
  return `client_id is the document URL; ${tools.length} tools; a write: "${textOf(w).slice(0, 80)}..."`;
});

await check('revocation', async () => {
  const r = await fetch(SERVER + '/revoke', { method: 'POST', body: new URLSearchParams({ token: cimd.store.tokens.refresh_token, client_id: docURL }) });
  expect(r.status === 200, `POST /revoke: ${r.status}`);
  const { status, challenge } = await mcpStatus(SERVER, cimd.store.tokens.access_token);
  expect(status === 401 && challenge.includes('error="invalid_token"'), `after revocation: ${status} ${challenge}`);
  return `revoked; the access token then gets 401 (${challenge.slice(0, 90)}...)`;
});

await check('expired token: 401, then the SDK refreshes', async () => {
  const p = provider('CI Short Client', { access: 'read' });
  const c = await connect(SHORT, p);
  const token = p.store.tokens.access_token;
  await new Promise((r) => setTimeout(r, 3000));
  const { status, challenge } = await mcpStatus(SHORT, token);
  expect(status === 401 && challenge.includes('expired'), `an expired token: ${status} ${challenge}`);
  const { tools } = await c.listTools(); // the transport's 401 → refresh → retry
  expect(p.store.tokens.access_token !== token, 'the SDK did not refresh');
  await c.close();
  return `expired token: 401 "${challenge.match(/error_description="([^"]*)"/)?.[1]}"; the SDK refreshed and listed ${tools.length} tools`;
});

await dcrClient?.close().catch(() => {});
await browser.close();
docServer.close();
callback.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
