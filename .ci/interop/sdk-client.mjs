// The official TypeScript SDK's Client against skimmer-mcp --sandbox over
// stdio, SSE and streamable HTTP, as a client that does NOT declare
// elicitation: so writes follow the preview / confirm: true flow.
//
// Environment (set by .ci/interop/run): SKIMMER_BIN, SSE_URL, HTTP_URL.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';

import { check, expect, finish, quote, requireEnv, textOf, withTimeout, runTag, TOOLS, PROMPTS, TEMPLATES, HEX32 } from './lib.mjs';

const BIN = requireEnv('SKIMMER_BIN');
const SSE_URL = requireEnv('SSE_URL');
const HTTP_URL = requireEnv('HTTP_URL');

const CALL = { timeout: 20_000 }; // per request
// Any key is accepted by the sandbox; sending one exercises the hosted
// per-caller key path instead of the loopback demo key.
const KEY_HEADERS = { 'skimmer-api-key': 'interop-check-key' };

const targets = [
  {
    name: 'stdio',
    transport: () => new StdioClientTransport({ command: BIN, args: ['--sandbox'], stderr: 'pipe' }),
  },
  {
    name: 'sse',
    transport: () => new SSEClientTransport(new URL(SSE_URL), { requestInit: { headers: KEY_HEADERS } }),
  },
  {
    name: 'http',
    transport: () => new StreamableHTTPClientTransport(new URL(HTTP_URL), { requestInit: { headers: KEY_HEADERS } }),
  },
];

for (const t of targets) {
  await runTarget(t);
}
finish();

async function runTarget(t) {
  const p = `sdk/${t.name}`;
  const transport = t.transport();
  const transportErrors = [];
  let stderr = '';
  if (transport.stderr) transport.stderr.on('data', (d) => (stderr += d));
  const client = new Client({ name: 'skimmer-interop', version: '1.0.0' }, { capabilities: {} });
  client.onerror = (e) => transportErrors.push(e?.message ?? String(e));

  const connected = await check(`${p} initialize`, async () => {
    await withTimeout(client.connect(transport), 20_000, 'initialize');
    const info = client.getServerVersion();
    const caps = client.getServerCapabilities();
    expect(info?.name === 'skimmer-mcp', `serverInfo.name is ${quote(info?.name)}, want "skimmer-mcp"`);
    expect(caps?.tools, `server did not declare the tools capability: ${JSON.stringify(caps)}`);
    expect(caps?.resources && caps?.prompts && caps?.completions, `server did not declare resources, prompts and completions: ${JSON.stringify(caps)}`);
    return `serverInfo ${info.name} ${info.version}; capabilities ${Object.keys(caps).join(',')}`;
  });
  if (!connected) return;

  try {
    await check(`${p} tools/list`, async () => {
      const { tools } = await client.listTools({}, CALL);
      const names = tools.map((x) => x.name).sort();
      expect(names.length === 11, `got ${names.length} tools, want 11: ${names.join(', ')}`);
      expect(JSON.stringify(names) === JSON.stringify(TOOLS), `tool names differ from the contract: ${names.join(', ')}`);
      for (const x of tools) {
        expect(x.inputSchema?.type === 'object', `${x.name}: inputSchema.type is ${quote(x.inputSchema?.type)}`);
        expect(typeof x.description === 'string' && x.description.length > 0, `${x.name} has no description`);
      }
      const ro = tools.filter((x) => x.annotations?.readOnlyHint).map((x) => x.name).sort();
      expect(ro.every((n) => /^(get|list|search)_/.test(n)) && ro.length === 5, `readOnlyHint on ${ro.join(', ')}; want the 5 get/list/search tools`);
      return `11 tools, names match the contract, each with an object inputSchema; readOnlyHint on the 5 read tools`;
    });

    let customerId;
    await check(`${p} read (search_customers "smith")`, async () => {
      const res = await client.callTool({ name: 'search_customers', arguments: { text: 'smith' } }, undefined, CALL);
      const text = textOf(res);
      expect(!res.isError, `isError set: ${quote(text)}`);
      const m = /^(\d+) customers match; page 1 of 1\./.exec(text);
      expect(m, `answer does not start "N customers match; page 1 of 1.": ${quote(text)}`);
      const lines = text.split('\n').slice(1).filter((l) => l.trim());
      expect(lines.length === Number(m[1]) && lines.length > 0, `header says ${m[1]} matches, ${lines.length} lines follow`);
      for (const l of lines) {
        expect(HEX32.test(l.slice(0, 32)), `line does not begin with a 32-hex id: ${quote(l)}`);
        expect(/smith/i.test(l), `line does not mention Smith: ${quote(l)}`);
      }
      customerId = text.split('\n')[1].slice(0, 32);
      return `"${text.split('\n')[0]}", ${lines.length} lines each starting with a 32-hex id and naming a Smith`;
    });
    if (!customerId) return;

    await checkPeople(p, client, customerId);

    const previewTitle = `Interop preview ${t.name} ${runTag}`;
    const writeTitle = `Interop check ${t.name} ${runTag}`;
    await check(`${p} write preview (create_customer_activity, no confirm)`, async () => {
      const res = await client.callTool(
        { name: 'create_customer_activity', arguments: { customerId, type: 'Call', title: previewTitle } },
        undefined,
        CALL,
      );
      const text = textOf(res);
      expect(!res.isError, `isError set: ${quote(text)}`);
      expect(text.startsWith('PREVIEW: nothing has been changed.'), `answer is not a preview: ${quote(text)}`);
      expect(text.includes('Would log on') && text.includes(previewTitle), `preview does not say what would be logged: ${quote(text)}`);
      expect(text.includes('confirm: true'), `preview does not tell how to confirm: ${quote(text)}`);
      return `"PREVIEW: nothing has been changed." + "Would log on ... ${previewTitle}"`;
    });

    let entryId;
    await check(`${p} confirmed write (confirm: true)`, async () => {
      const res = await client.callTool(
        { name: 'create_customer_activity', arguments: { customerId, type: 'Call', title: writeTitle, confirm: true } },
        undefined,
        CALL,
      );
      const text = textOf(res);
      expect(!res.isError, `isError set: ${quote(text)}`);
      const m = /^Logged Call "([^"]*)" on .+; entry id ([0-9a-f]{32})\./.exec(text);
      expect(m && m[1] === writeTitle, `answer is not 'Logged Call "${writeTitle}" on ...; entry id <32hex>.': ${quote(text)}`);
      entryId = m[2];
      return `'Logged Call "${writeTitle}" on ...; entry id ${entryId}.'`;
    });

    await check(`${p} write landed, preview did not (get_customer_activity, list_customer_activities)`, async () => {
      expect(entryId, 'no entry id from the confirmed write');
      const got = await client.callTool({ name: 'get_customer_activity', arguments: { customerId, id: entryId } }, undefined, CALL);
      const gotText = textOf(got);
      expect(!got.isError && gotText.includes(writeTitle), `get_customer_activity ${entryId} does not show the title: ${quote(gotText)}`);
      const list = await client.callTool({ name: 'list_customer_activities', arguments: { customerId, limit: 100 } }, undefined, CALL);
      const listText = textOf(list);
      expect(!list.isError, `list_customer_activities isError: ${quote(listText)}`);
      const count = (s) => listText.split('\n').filter((l) => l.includes(s)).length;
      expect(count(writeTitle) === 1, `the written entry shows ${count(writeTitle)} times in the list, want 1`);
      expect(count(previewTitle) === 0, `the previewed entry was written: ${quote(listText)}`);
      return `entry ${entryId} readable; listed once; the previewed title is absent`;
    });

    await check(`${p} error case (get_customer "nope")`, async () => {
      const res = await client.callTool({ name: 'get_customer', arguments: { id: 'nope' } }, undefined, CALL);
      const text = textOf(res);
      expect(res.isError === true, `isError is ${res.isError}, want true: ${quote(text)}`);
      expect(text.includes('is not a Skimmer id'), `text does not say "is not a Skimmer id": ${quote(text)}`);
      return `isError: true, "${text.slice(0, 60)}..."`;
    });

    await check(`${p} unknown tool is a JSON-RPC error`, async () => {
      let res;
      try {
        res = await client.callTool({ name: 'no_such_tool', arguments: {} }, undefined, CALL);
      } catch (err) {
        expect(err instanceof McpError, `threw ${err}, want an McpError`);
        expect(err.code === ErrorCode.InvalidParams, `JSON-RPC error code ${err.code}, want ${ErrorCode.InvalidParams} (invalid params)`);
        return `JSON-RPC error ${err.code}: ${err.message}`;
      }
      throw new Error(`got a result instead of a JSON-RPC error: ${quote(JSON.stringify(res))}`);
    });

    if (t.name === 'stdio') {
      await check(`${p} stdout is JSON-RPC only, logs on stderr`, async () => {
        expect(transportErrors.length === 0, `transport errors (non-JSON on stdout?): ${transportErrors.join('; ')}`);
        const first = stderr.split('\n')[0];
        expect(first.includes('SANDBOX MODE'), `first stderr line is not the SANDBOX MODE banner: ${quote(first)}`);
        return `no transport errors; stderr starts with the SANDBOX MODE banner`;
      });
    } else {
      await check(`${p} no transport errors`, async () => {
        expect(transportErrors.length === 0, transportErrors.join('; '));
        return 'none reported by the client';
      });
    }
  } finally {
    await withTimeout(client.close(), 10_000, 'close').catch(() => {});
  }
}

// checkPeople: what the person in the loop uses directly, through the
// SDK's own methods: resource templates they attach, completions as they
// type, prompts they start.
async function checkPeople(p, client, customerId) {
  await check(`${p} resources/templates/list`, async () => {
    const { resourceTemplates } = await client.listResourceTemplates({}, CALL);
    const uris = resourceTemplates.map((x) => x.uriTemplate).sort();
    expect(JSON.stringify(uris) === JSON.stringify(TEMPLATES), `templates differ from the contract: ${uris.join(', ')}`);
    for (const x of resourceTemplates) {
      expect(x.title && x.description && x.mimeType === 'text/plain', `${x.uriTemplate} lacks a title, description or text/plain: ${JSON.stringify(x)}`);
    }
    return `${uris.join(', ')}, each titled and text/plain`;
  });

  let card = '';
  await check(`${p} resources/read (the customer card by id)`, async () => {
    const uri = `skimmer://customers/${customerId}`;
    const { contents } = await client.readResource({ uri }, CALL);
    expect(contents.length === 1 && contents[0].uri === uri && contents[0].mimeType === 'text/plain', `contents: ${quote(JSON.stringify(contents))}`);
    card = contents[0].text;
    expect(card.split('\n')[0].includes(customerId) && /Service locations/.test(card), `not a customer card: ${quote(card)}`);
    return `"${card.split('\n')[0]}"`;
  });

  await check(`${p} completion/complete (a customer, by part of a name) and read what was picked`, async () => {
    const ref = { type: 'ref/resource', uri: 'skimmer://customers/{+customer}' };
    const { completion } = await client.complete({ ref, argument: { name: 'customer', value: 'smi' } }, CALL);
    expect(completion.values.length > 0 && completion.values.every((v) => /smith/i.test(v) && /\(.+\)$/.test(v)),
      `suggestions are not "Name (City ST)" labels of Smiths: ${quote(JSON.stringify(completion.values))}`);
    const picked = completion.values[0];
    const uri = `skimmer://customers/${encodeURIComponent(picked)}`;
    const { contents } = await client.readResource({ uri }, CALL);
    const text = contents[0].text;
    expect(text.startsWith(picked.replace(/ \(.*$/, '') + ' | '), `reading ${quote(uri)} did not give that customer's card: ${quote(text)}`);
    const log = await client.readResource({ uri: `skimmer://activity/${encodeURIComponent(picked)}` }, CALL);
    expect(log.contents[0].text.startsWith('Activity of '), `the activity log reads: ${quote(log.contents[0].text)}`);
    return `${completion.values.length} suggestions (${quote(picked)} first); its card and its activity log read`;
  });

  await check(`${p} prompts/list and prompts/get`, async () => {
    const { prompts } = await client.listPrompts({}, CALL);
    const names = prompts.map((x) => x.name).sort();
    expect(JSON.stringify(names) === JSON.stringify(PROMPTS), `prompts differ from the contract: ${names.join(', ')}`);
    const logContact = prompts.find((x) => x.name === 'log_contact');
    const required = logContact.arguments.filter((a) => a.required).map((a) => a.name).sort();
    expect(JSON.stringify(required) === '["customer","what"]', `log_contact's required arguments: ${required.join(', ')}`);
    const got = await client.getPrompt({ name: 'log_contact', arguments: { customer: 'Emily Smith (Austin TX)', what: 'Asked for a quote', type: 'Text' } }, CALL);
    const text = got.messages[0]?.content?.text ?? '';
    expect(got.messages.length === 1 && got.messages[0].role === 'user', `messages: ${quote(JSON.stringify(got.messages))}`);
    expect(text.includes('create_customer_activity without confirm') && text.includes('type Text'), `the message does not steer through the preview: ${quote(text)}`);
    const { completion } = await client.complete({ ref: { type: 'ref/prompt', name: 'log_contact' }, argument: { name: 'type', value: 'e' } }, CALL);
    expect(JSON.stringify(completion.values) === '["Email"]', `type "e" completes to ${JSON.stringify(completion.values)}`);
    return `${names.join(', ')}; log_contact filled in; its type "e" completes to Email`;
  });
}
