// Issue 8: confirmation through MCP elicitation, with the official
// TypeScript SDK's Client declaring the elicitation capability and answering
// elicitation/create.
//
//  - stdio and streamable HTTP with --stateful carry server-to-client
//    requests: every write must ask the person (even with confirm: true),
//    apply once on accept, and change nothing on decline or cancel.
//  - SSE and stateless streamable HTTP cannot (for this older-protocol
//    client): the server must fall back to preview + confirm: true and never
//    send elicitation/create.
//
// Environment (set by .ci/interop/run): SKIMMER_BIN, SSE_URL, HTTP_URL,
// HTTP_STATEFUL_URL.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { check, expect, finish, quote, requireEnv, textOf, withTimeout, runTag, HEX32 } from './lib.mjs';

const BIN = requireEnv('SKIMMER_BIN');
const SSE_URL = requireEnv('SSE_URL');
const HTTP_URL = requireEnv('HTTP_URL');
const HTTP_STATEFUL_URL = requireEnv('HTTP_STATEFUL_URL');

const CALL = { timeout: 20_000 };
const DECLINED = 'The user declined; nothing was changed';

const eliciting = [
  { name: 'stdio', transport: () => new StdioClientTransport({ command: BIN, args: ['--sandbox'], stderr: 'pipe' }) },
  { name: 'http-stateful', transport: () => new StreamableHTTPClientTransport(new URL(HTTP_STATEFUL_URL)) },
];
const fallback = [
  { name: 'sse', transport: () => new SSEClientTransport(new URL(SSE_URL)) },
  { name: 'http-stateless', transport: () => new StreamableHTTPClientTransport(new URL(HTTP_URL)) },
];

for (const t of eliciting) await runEliciting(t);
for (const t of fallback) await runFallback(t);
finish();

// connect opens a client that declares elicitation and answers every
// elicitation/create with answer(params), recording what it was asked.
async function connect(t, p) {
  const transport = t.transport();
  const client = new Client({ name: 'skimmer-interop-elicit', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  const session = { client, transport, asked: [], answer: () => ({ action: 'cancel' }) };
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    session.asked.push(req.params);
    return session.answer(req.params);
  });
  const ok = await check(`${p} initialize (declares elicitation)`, async () => {
    await withTimeout(client.connect(transport), 20_000, 'initialize');
    const info = client.getServerVersion();
    expect(info?.name === 'skimmer-mcp', `serverInfo.name is ${quote(info?.name)}`);
    const sid = transport.sessionId;
    if (t.name === 'http-stateful') expect(sid, 'the --stateful server gave no Mcp-Session-Id');
    return `connected to ${info.name} ${info.version}${sid ? `, session ${sid.slice(0, 20)}...` : ''}`;
  });
  return ok ? session : null;
}

async function firstSmith(client) {
  const res = await client.callTool({ name: 'search_customers', arguments: { text: 'smith' } }, undefined, CALL);
  const text = textOf(res);
  const id = text.split('\n')[1]?.slice(0, 32) ?? '';
  expect(HEX32.test(id), `no customer id in the search answer: ${quote(text)}`);
  return id;
}

// call runs one tool call with the given answer to any elicitation.
async function call(s, name, args, answer) {
  s.answer = answer;
  const before = s.asked.length;
  const res = await s.client.callTool({ name, arguments: args }, undefined, CALL);
  return { res, text: textOf(res), asked: s.asked.slice(before) };
}

async function runEliciting(t) {
  const p = `elicit/${t.name}`;
  const s = await connect(t, p);
  if (!s) return;
  try {
    let customerId;
    await check(`${p} setup (search_customers)`, async () => {
      customerId = await firstSmith(s.client);
      expect(s.asked.length === 0, 'a read asked for confirmation');
      return `customer ${customerId}; the read asked nothing`;
    });
    if (!customerId) return;

    const title = (what) => `Elicit ${what} ${t.name} ${runTag}`;
    const create = (what, extra = {}) => ({ customerId, type: 'Call', title: title(what), ...extra });
    let acceptedId;

    await check(`${p} accept applies the write`, async () => {
      // Accept as the dialog stands: the box starts ticked, nothing to fill in.
      const r = await call(s, 'create_customer_activity', create('accepted'), () => ({ action: 'accept', content: {} }));
      expect(r.asked.length === 1, `elicitation/create was sent ${r.asked.length} times, want 1`);
      const q = r.asked[0];
      expect(q.message.includes('Would log on') && q.message.includes(title('accepted')), `the elicitation message is not the preview: ${quote(q.message)}`);
      const schema = q.requestedSchema;
      expect(schema?.properties?.approve?.type === 'boolean' && schema.properties.approve.default === true && !schema.required?.length,
        `requestedSchema is not {approve: boolean, default true, nothing required}: ${JSON.stringify(schema)}`);
      expect(!r.res.isError && r.text.startsWith('Logged'), `after accept the answer does not start "Logged": ${quote(r.text)}`);
      acceptedId = /entry id ([0-9a-f]{32})/.exec(r.text)?.[1];
      expect(acceptedId, `no entry id in ${quote(r.text)}`);
      return `asked once ("${q.message.split('\n')[0].slice(0, 50)}...", schema {approve: boolean, starts ticked}); Accept as shown -> "${r.text.slice(0, 40)}..."`;
    });

    await check(`${p} decline changes nothing`, async () => {
      const r = await call(s, 'create_customer_activity', create('declined'), () => ({ action: 'decline' }));
      expect(r.asked.length === 1, `elicitation/create was sent ${r.asked.length} times, want 1`);
      expect(!r.res.isError && r.text.includes(DECLINED), `after decline: ${quote(r.text)}`);
      return `asked once; decline -> "${DECLINED}"`;
    });

    await check(`${p} cancel changes nothing`, async () => {
      const r = await call(s, 'create_customer_activity', create('cancelled'), () => ({ action: 'cancel' }));
      expect(r.asked.length === 1, `elicitation/create was sent ${r.asked.length} times, want 1`);
      expect(r.text.includes(DECLINED), `after cancel: ${quote(r.text)}`);
      return `asked once; cancel -> "${DECLINED}"`;
    });

    await check(`${p} confirm: true does not bypass the person`, async () => {
      const r = await call(s, 'create_customer_activity', create('flagged', { confirm: true }), () => ({ action: 'decline' }));
      expect(r.asked.length === 1, `with confirm: true elicitation/create was sent ${r.asked.length} times, want 1`);
      expect(r.text.includes(DECLINED), `confirm: true + decline: ${quote(r.text)}`);
      return 'asked even with confirm: true; decline -> nothing written';
    });

    await check(`${p} only the accepted write landed (list_customer_activities)`, async () => {
      const r = await call(s, 'list_customer_activities', { customerId, limit: 100 }, () => ({ action: 'cancel' }));
      expect(!r.res.isError, `list_customer_activities isError: ${quote(r.text)}`);
      const count = (what) => r.text.split('\n').filter((l) => l.includes(title(what))).length;
      expect(count('accepted') === 1, `the accepted entry is listed ${count('accepted')} times, want 1: ${quote(r.text)}`);
      for (const what of ['declined', 'cancelled', 'flagged']) {
        expect(count(what) === 0, `the ${what} entry was written: ${quote(r.text)}`);
      }
      expect(r.asked.length === 0, 'a read asked for confirmation');
      return `"${title('accepted')}" listed once; declined, cancelled and confirm:true+declined entries absent`;
    });

    if (!acceptedId) return;
    await check(`${p} destructive write wants the typed word`, async () => {
      const args = { customerId, id: acceptedId };
      const wrong = await call(s, 'delete_customer_activity', args, () => ({ action: 'accept', content: { typed: 'nope' } }));
      expect(wrong.asked.length === 1, `elicitation/create was sent ${wrong.asked.length} times, want 1`);
      const q = wrong.asked[0];
      const prompt = q.requestedSchema?.properties?.typed;
      expect(prompt?.type === 'string' && q.requestedSchema.required?.includes('typed'), `requestedSchema is not {typed: string, required}: ${JSON.stringify(q.requestedSchema)}`);
      const word = /^Type (\S+) to /.exec(prompt.title ?? '')?.[1];
      expect(word, `the typed field's title does not say what to type: ${quote(prompt.title)}`);
      expect(q.message.includes(acceptedId), `the message does not show the entry: ${quote(q.message)}`);
      expect(/nothing was changed/.test(wrong.text), `a wrong typed answer: ${quote(wrong.text)}`);
      const still = await call(s, 'get_customer_activity', args, () => ({ action: 'cancel' }));
      expect(!still.res.isError, `the entry went away after a wrong typed answer: ${quote(still.text)}`);

      const right = await call(s, 'delete_customer_activity', args, () => ({ action: 'accept', content: { typed: word } }));
      expect(right.asked.length === 1 && !right.res.isError && right.text.startsWith('Deleted entry'), `typing "${word}": ${quote(right.text)}`);
      const gone = await call(s, 'get_customer_activity', args, () => ({ action: 'cancel' }));
      expect(gone.res.isError === true, `the entry is still there after the delete: ${quote(gone.text)}`);
      return `"${prompt.title}"; wrong word -> nothing changed; "${word}" -> deleted, and get_customer_activity now fails`;
    });
  } finally {
    await close(s, p);
  }
}

async function runFallback(t) {
  const p = `elicit/${t.name}`;
  const s = await connect(t, p);
  if (!s) return;
  try {
    let customerId;
    await check(`${p} setup (search_customers)`, async () => {
      customerId = await firstSmith(s.client);
      return `customer ${customerId}`;
    });
    if (!customerId) return;
    const title = `Fallback ${t.name} ${runTag}`;
    await check(`${p} falls back to the preview (no elicitation possible)`, async () => {
      const r = await call(s, 'create_customer_activity', { customerId, type: 'Call', title }, () => ({ action: 'accept', content: { approve: true } }));
      expect(r.asked.length === 0, `elicitation/create was sent ${r.asked.length} times on a transport that cannot carry it`);
      expect(r.text.startsWith('PREVIEW: nothing has been changed.'), `not a preview: ${quote(r.text)}`);
      return 'no elicitation/create; "PREVIEW: nothing has been changed."';
    });
    await check(`${p} falls back to confirm: true`, async () => {
      const r = await call(s, 'create_customer_activity', { customerId, type: 'Call', title, confirm: true }, () => ({ action: 'decline' }));
      expect(r.asked.length === 0, `elicitation/create was sent ${r.asked.length} times`);
      expect(!r.res.isError && r.text.startsWith(`Logged Call "${title}"`), `confirm: true did not apply: ${quote(r.text)}`);
      return `no elicitation/create; confirm: true -> "${r.text.slice(0, 40)}..."`;
    });
  } finally {
    await close(s, p);
  }
}

async function close(s, p) {
  if (s.transport.sessionId && typeof s.transport.terminateSession === 'function') {
    await check(`${p} session ends (DELETE)`, async () => {
      await withTimeout(s.transport.terminateSession(), 10_000, 'DELETE session');
      return 'the server accepted the session DELETE';
    });
  }
  await withTimeout(s.client.close(), 10_000, 'close').catch(() => {});
}
