// Runs the unpacked Claude Desktop bundle as Claude Desktop would: the
// manifest's mcp_config, resolved for this platform and a user's settings
// by the very code Claude Desktop uses (@anthropic-ai/mcpb's
// getMcpConfigForManifest), started over stdio and driven by the
// TypeScript SDK's client.
//
// Environment (set by .ci/install/run): BUNDLE_DIR (the unpacked bundle),
// SKIMMER_KEY (a key the local sandbox accepts), SANDBOX_URL (that sandbox).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMcpConfigForManifest } from '@anthropic-ai/mcpb';

import { check, expect, finish, requireEnv, search, session } from './lib.mjs';

const DIR = requireEnv('BUNDLE_DIR');
const KEY = requireEnv('SKIMMER_KEY');
const SANDBOX_URL = requireEnv('SANDBOX_URL');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));

// launch resolves the command for these settings. Claude Desktop starts it
// with the manifest's env; the only thing added here is where Skimmer is
// (a local sandbox: CI has no network).
async function launch(userConfig, skimmerURL = SANDBOX_URL) {
  const cfg = await getMcpConfigForManifest({
    manifest,
    extensionPath: DIR,
    systemDirs: { HOME: process.env.HOME, DESKTOP: '/tmp', DOCUMENTS: '/tmp', DOWNLOADS: '/tmp' },
    userConfig,
    pathSeparator: '/',
  });
  expect(cfg, `no launch configuration for settings ${JSON.stringify(userConfig)} (a required setting missing?)`);
  const env = { ...cfg.env };
  if (skimmerURL) env.SKIMMER_BASE_URL = skimmerURL;
  return { command: cfg.command, args: cfg.args ?? [], env, shown: `${cfg.command} ${(cfg.args ?? []).join(' ')}` };
}

await check('bundle: launch command on Linux', async () => {
  const t = await launch({ api_key: KEY });
  expect(t.command === '/bin/sh' && t.args.length === 1 && t.args[0] === join(DIR, 'server/linux/launch.sh'),
    `resolved to ${t.shown}; want /bin/sh ${join(DIR, 'server/linux/launch.sh')}`);
  for (const [k, v] of Object.entries(t.env)) expect(!v.includes('${'), `${k}=${v} was not filled in`);
  return `${t.shown}; env ${Object.keys(t.env).sort().join(', ')} all filled in`;
});

await check('bundle: a key, the default settings', async () => {
  const t = await launch({ api_key: KEY });
  return session(t, async (client) => {
    const { tools } = await client.listTools();
    const served = tools.map((x) => `${x.name}: ${x.description}`).sort();
    const listed = manifest.tools.map((x) => `${x.name}: ${x.description}`).sort();
    expect(JSON.stringify(served) === JSON.stringify(listed),
      `the manifest lists ${listed.length} tools, the server serves ${served.length}, or their descriptions differ`);
    const r = await search(client);
    expect(!r.isError && /customers? match/.test(r.text), `search_customers answered ${JSON.stringify(r.text.slice(0, 200))}`);
    return `the server serves the manifest's ${tools.length} tools, word for word; search_customers reached Skimmer with the key`;
  });
});

// The manifest lists no prompts (its static text could not say what the
// server's prompts say: see deploy/README.md) and says instead that the
// server offers them at run time: which must be true.
await check('bundle: prompts are the server\'s to list', async () => {
  const t = await launch({ api_key: KEY });
  return session(t, async (client) => {
    const { prompts } = await client.listPrompts();
    expect(!manifest.prompts, `the manifest lists prompts: ${JSON.stringify(manifest.prompts)}`);
    expect(manifest.prompts_generated === (prompts.length > 0),
      `prompts_generated is ${manifest.prompts_generated}, and the server offers ${prompts.length} prompts`);
    const brief = await client.getPrompt({ name: prompts[0].name, arguments: Object.fromEntries((prompts[0].arguments ?? []).map((a) => [a.name, 'Smith'])) });
    expect(brief.messages?.[0]?.content?.text, `${prompts[0].name} gave no message`);
    return `prompts_generated: true; the server offers ${prompts.map((p) => p.name).join(', ')}`;
  });
});

await check('bundle: Read only', async () => {
  const t = await launch({ api_key: KEY, read_only: true });
  return session(t, async (client) => {
    const { tools } = await client.listTools();
    expect(tools.length === 5 && tools.every((x) => x.annotations?.readOnlyHint === true),
      `${tools.length} tools: ${tools.map((x) => x.name).join(', ')}`);
    return '5 tools, all read-only';
  });
});

await check('bundle: Demo data, any key, no Skimmer', async () => {
  const t = await launch({ api_key: 'anything', demo: true }, '');
  return session(t, async (client, stderr) => {
    const r = await search(client);
    expect(!r.isError && r.text.startsWith('6 customers match'), `search_customers answered ${JSON.stringify(r.text.slice(0, 200))}`);
    expect(stderr().includes('SANDBOX MODE'), 'the server did not say it is in sandbox mode');
    return 'the demo account answers; the server says SANDBOX MODE';
  });
});

await check('bundle: a wrong key', async () => {
  const t = await launch({ api_key: 'not-the-right-key-3f9a' });
  return session(t, async (client) => {
    const r = await search(client);
    expect(r.isError && r.text.includes('Skimmer refused the API key (401)'), `search_customers answered ${JSON.stringify(r.text.slice(0, 200))}`);
    return `the tool says: ${r.text.split('.')[0]}`;
  });
});

await check('bundle: a key cut short', async () => {
  const t = await launch({ api_key: 'abc123' });
  let said = '';
  try {
    await session(t, async () => {});
  } catch (err) {
    said = err.message;
  }
  expect(said.includes('the key is 6 characters long; Skimmer keys are longer: paste the whole key') && !said.includes('abc123'), `the server said: ${said || 'nothing; it started'}`);
  return 'the server refuses to start, saying why, without the key';
});

await check('bundle: changes are confirmed, and no setting turns that off', async () => {
  expect(!Object.keys(manifest.user_config).some((k) => /confirm/i.test(k)) && !('SKIMMER_CONFIRM' in manifest.server.mcp_config.env),
    `the manifest offers a confirmation setting: ${Object.keys(manifest.user_config).join(', ')}`);
  const t = await launch({ api_key: KEY });
  return session(t, async (client, stderr) => {
    const r = await client.callTool({ name: 'create_customer', arguments: { firstName: 'Preview', lastName: 'Only' } });
    const text = r.content?.[0]?.text ?? '';
    expect(!r.isError && text.startsWith('PREVIEW: nothing has been changed.'), `create_customer answered ${JSON.stringify(text.slice(0, 200))}`);
    expect(!stderr().includes('every write tool applies changes'), 'the server applies writes at once');
    return 'a write answers with its preview; nothing is applied unconfirmed';
  });
});

finish();
