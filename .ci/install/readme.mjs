// Proves the README's host configurations by running them as printed.
// The snippets are read from README.md, never copied here; only the
// placeholders are replaced: the binary's path, the key, the hosted URL.
//
//   - every JSON configuration under "Connect it to your AI app": a stdio
//     one is started as the host would start it (command, args, env) and
//     asked a question, then started again with "--sandbox" added to its
//     args and no key, as the README says to try it; a URL one is reached
//     with its headers; the mcp-remote one is started with npx.
//   - every `claude mcp add` command, run as printed by Claude Code itself
//     (from npm) in a temporary HOME; `claude mcp list` must show each one
//     connected.
//   - what Troubleshooting says Claude Code shows for a missing key, and
//     where it keeps the server's log.
//
// Environment (set by .ci/install/run): SKIMMER_BIN, SKIMMER_KEY,
// SANDBOX_URL, HOSTED_URL, CLAUDE_BIN, README, NPM_PREFIX (where mcp-remote
// is installed, so that npx finds it there).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PLACEHOLDERS, check, expect, finish, requireEnv, search, session } from './lib.mjs';

const BIN = requireEnv('SKIMMER_BIN');
const KEY = requireEnv('SKIMMER_KEY');
const SANDBOX_URL = requireEnv('SANDBOX_URL');
const HOSTED_URL = requireEnv('HOSTED_URL'); // http://localhost:PORT/mcp
const OAUTH_URL = requireEnv('OAUTH_URL'); // the same, served with --oauth
const TEAM_URL = requireEnv('TEAM_URL'); // the same, with SKIMMER_AUTH_TOKEN=TEAM_TOKEN
const TEAM_TOKEN = requireEnv('TEAM_TOKEN');
const CLAUDE = requireEnv('CLAUDE_BIN');
const NPM_PREFIX = requireEnv('NPM_PREFIX');
const README = readFileSync(requireEnv('README'), 'utf8');

// section returns the README's "## title" section, subsections included.
function section(title) {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const rest = README.slice(start + title.length + 5);
  const end = rest.indexOf('\n## ');
  return end < 0 ? rest : rest.slice(0, end);
}

// blocks returns the code blocks of one language, each with the host it
// is for: the last **bold** words before it.
function blocks(text, lang) {
  return [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)]
    .filter((m) => m[1] === lang)
    .map((m) => {
      const before = text.slice(0, m.index);
      const hosts = [...before.matchAll(/\*\*([^*]+)\*\*/g)];
      const host = hosts.length ? hosts[hosts.length - 1][1].replace(/[,:.]$/, '') : '?';
      return { code: m[2], host };
    });
}

const connect = section('Connect it to your AI app');
for (const [what, p] of Object.entries(PLACEHOLDERS)) {
  await check(`README placeholder ${what}`, async () => {
    expect(connect.includes(p), `"${p}" is no longer in the README's configurations: update .ci/install/lib.mjs`);
    return `"${p}" appears`;
  });
}

function fill(s) {
  return s
    .replaceAll(PLACEHOLDERS.binary, BIN)
    .replaceAll(PLACEHOLDERS.key, KEY)
    .replaceAll(PLACEHOLDERS.vscodeKey, KEY)
    .replaceAll(PLACEHOLDERS.hosted, HOSTED_URL);
}

// Each server a JSON configuration defines, as a host would start it.
const servers = [];
for (const { code, host } of blocks(connect, 'json')) {
  const cfg = JSON.parse(fill(code));
  for (const [name, s] of Object.entries(cfg.mcpServers ?? cfg.servers ?? {})) servers.push({ name, s, host });
}

// Every HOME made here is removed at the end.
const homes = [];
process.on('exit', () => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));
const home = mkdtempSync(join(tmpdir(), 'skimmer-install-home-'));
homes.push(home);
// What a host passes a server: its own few variables, then the config's.
const hostEnv = (extra) => ({ PATH: process.env.PATH, HOME: home, ...extra });

let stdio = 0;
let urls = 0;
let remotes = 0;
for (const { name, s, host } of servers) {
  const label = `README, ${host}: "${name}" ${s.url ? 'at the hosted URL' : s.command === BIN ? 'over stdio' : `through ${s.command}`}`;
  if (s.command === BIN) {
    stdio++;
    await check(`${label}, as printed`, async () => {
      expect(Array.isArray(s.args), 'has no "args" array, yet the README says to add "--sandbox" to it');
      return session({ command: s.command, args: s.args, env: hostEnv({ ...s.env, SKIMMER_BASE_URL: SANDBOX_URL }) }, async (client) => {
        const r = await search(client);
        expect(!r.isError && /customers? match/.test(r.text), `search_customers answered ${JSON.stringify(r.text.slice(0, 200))}`);
        return 'search_customers answered with the key from its env';
      });
    });
    await check(`${label}, with "--sandbox" added to args and no key`, async () => {
      const env = { ...s.env };
      delete env.SKIMMER_API_KEY;
      return session({ command: s.command, args: [...s.args, '--sandbox'], env: hostEnv(env) }, async (client) => {
        const r = await search(client);
        expect(!r.isError && r.text.startsWith('6 customers match'), `search_customers answered ${JSON.stringify(r.text.slice(0, 200))}`);
        return 'the demo account answered';
      });
    });
  } else if (s.url) {
    urls++;
    await check(label, async () => {
      expect(s.url === HOSTED_URL, `url ${s.url} is not the README's hosted placeholder`);
      return session({ url: s.url, headers: s.headers }, async (client) => {
        const r = await search(client);
        expect(!r.isError && /customers? match/.test(r.text), `search_customers answered ${JSON.stringify(r.text.slice(0, 200))}`);
        return `reached the hosted endpoint with headers ${Object.keys(s.headers ?? {}).join(', ')}`;
      });
    });
  } else if (s.command === 'npx' && s.args.includes('mcp-remote')) {
    remotes++;
    await check(`${label} (Claude Desktop to a hosted endpoint)`, async () => {
      return session({ command: 'npx', args: s.args, env: hostEnv({ ...s.env, npm_config_offline: 'true' }), cwd: NPM_PREFIX }, async (client) => {
        const r = await search(client);
        expect(!r.isError && /customers? match/.test(r.text), `search_customers answered ${JSON.stringify(r.text.slice(0, 200))}`);
        return 'npx mcp-remote reached the hosted endpoint with the key from env';
      });
    });
  } else {
    await check(label, async () => {
      throw new Error(`a configuration this script does not know how to start: ${JSON.stringify(s)}`);
    });
  }
}
await check('README configurations all run', async () => {
  expect(stdio >= 3 && urls >= 2 && remotes >= 1, `ran ${stdio} stdio, ${urls} URL and ${remotes} mcp-remote configurations; the README has Claude Desktop, VS Code and Cursor for stdio, VS Code and Cursor for a URL, and Claude Desktop through mcp-remote`);
  return `${stdio} stdio, ${urls} URL, ${remotes} mcp-remote`;
});

// Claude Code, each command in a HOME of its own, as a new user runs it.
function freshClaude() {
  const home = mkdtempSync(join(tmpdir(), 'skimmer-claude-home-'));
  homes.push(home);
  const project = join(home, 'project');
  mkdirSync(project);
  // No traffic Claude Code would send elsewhere (updates, telemetry): CI has no network.
  const env = { PATH: process.env.PATH, HOME: home, SKIMMER_BASE_URL: SANDBOX_URL, DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', CI: 'true' };
  return {
    home,
    run(args) {
      const r = spawnSync(CLAUDE, args, { cwd: project, env, encoding: 'utf8', timeout: 120_000 });
      if (r.error) throw new Error(`claude ${args.slice(0, 2).join(' ')}: ${r.error.message}`);
      return { code: r.status, out: `${r.stdout}${r.stderr}` };
    },
    // state is the line `claude mcp list` prints for a server.
    state(name) {
      const r = this.run(['mcp', 'list']);
      return r.out.split('\n').find((l) => l.startsWith(`${name}: `)) ?? `${name}: not listed (exit ${r.code}): ${r.out}`;
    },
  };
}

// words splits a command line as a shell would here: spaces, and double
// or single quotes.
function words(line) {
  const out = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

// nameOf is the server name in `mcp add [options] <name> …`.
function nameOf(argv) {
  for (let i = 2; i < argv.length; i++) {
    if (/^(--transport|-t|--scope|-s)$/.test(argv[i])) i++;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return '';
}

const adds = blocks(connect, 'sh').flatMap((b) => b.code.split('\n')).filter((l) => l.startsWith('claude mcp add '));
await check('Claude Code: the README has a stdio and an http command', async () => {
  expect(adds.some((l) => l.includes('--transport stdio')) && adds.some((l) => l.includes('--transport http')), `found ${adds.length}: ${adds.join(' / ')}`);
  return `${adds.length} commands`;
});
for (const line of adds) {
  const argv = words(fill(line)).slice(1);
  const name = nameOf(argv);
  const shown = line.replace(/--env (\S+)=\S+/, '--env $1=…').replace(/"skimmer-api-key: [^"]*"/, '"skimmer-api-key: …"');
  await check(`Claude Code: ${shown}`, async () => {
    const cc = freshClaude();
    const r = cc.run(argv);
    expect(r.code === 0, `claude mcp add: exit ${r.code}: ${r.out}`);
    const state = cc.state(name);
    expect(/✔ Connected/.test(state), state);
    if (line.includes('--env SKIMMER_API_KEY=')) {
      const got = cc.run(['mcp', 'get', name]).out;
      expect(got.includes(KEY), `claude mcp get ${name} does not show the key it was given: ${got}`);

    }
    return state.replace(BIN, 'skimmer-mcp').replace(HOSTED_URL, 'hosted URL');
  });
}

// "On a server with --oauth you may leave out the header": the README's
// http command without its --header, against a server with --oauth.
const http = adds.find((l) => l.includes('--transport http') && l.includes('--header'));
await check('Claude Code: the http command without its header, on a server with --oauth', async () => {
  expect(http, 'the README has no http command with a header');
  expect(/you may leave out the header/.test(connect), 'the README no longer says the header may be left out');
  const argv = words(fill(http.replace(/ --header "[^"]*"/, '')).replace(HOSTED_URL, OAUTH_URL)).slice(1);
  const cc = freshClaude();
  const r = cc.run(argv);
  expect(r.code === 0, `claude mcp add: exit ${r.code}: ${r.out}`);
  const state = cc.state(nameOf(argv));
  expect(/Needs authentication/.test(state), state);
  return `${state.replace(OAUTH_URL, 'the --oauth URL')}: Claude Code found the sign-in`;
});

// "If whoever runs the server gave you a team token": each way the README
// says to send it, added to the README's own configurations, against a
// server with SKIMMER_AUTH_TOKEN set.
const tokenSaid = /add `--header "(Authorization: Bearer TOKEN)"`[^]*?add `("Authorization": "Bearer TOKEN")` to `headers`[^]*?add `("--header", "Authorization:Bearer \$\{SKIMMER_TEAM_TOKEN\}")` to `args` and `("SKIMMER_TEAM_TOKEN": "TOKEN")` to `env`/.exec(connect);
await check('README: the team token, in Claude Code, VS Code, Cursor and mcp-remote', async () => {
  expect(tokenSaid, 'the README no longer says how to send a team token in each client');
  // TOKEN alone, not the TOKEN in SKIMMER_TEAM_TOKEN.
  const withToken = (x) => x.replace(/\bTOKEN\b/g, TEAM_TOKEN);
  const said = [];
  // Claude Code: the README's http command, its header added.
  const argv = words(fill(http).replace(HOSTED_URL, TEAM_URL)).slice(1);
  const bare = freshClaude();
  expect(bare.run(argv).code === 0, 'claude mcp add');
  const refused = bare.state(nameOf(argv));
  expect(!/✔ Connected/.test(refused), `without the token: ${refused}`);
  const cc = freshClaude();
  const r = cc.run([...argv, '--header', withToken(tokenSaid[1])]);
  expect(r.code === 0, `claude mcp add: exit ${r.code}: ${r.out}`);
  const state = cc.state(nameOf(argv));
  expect(/✔ Connected/.test(state), `with the token: ${state}`);
  said.push('Claude Code connected with it, not without');
  // The JSON configurations: their headers, and the token's.
  const header = JSON.parse(`{${withToken(tokenSaid[2])}}`);
  for (const { name, s, host } of servers.filter((x) => x.s.url)) {
    await session({ url: TEAM_URL, headers: { ...s.headers, ...header } }, async (client) => {
      const res = await search(client);
      expect(!res.isError && /customers? match/.test(res.text), `${host} "${name}": ${res.text.slice(0, 200)}`);
    });
    said.push(host);
  }
  // mcp-remote: the README's args and env, with the token's added.
  for (const { s } of servers.filter((x) => x.s.command === 'npx')) {
    const args = [...s.args.map((a) => a.replace(HOSTED_URL, TEAM_URL)), ...JSON.parse(`[${tokenSaid[3]}]`)];
    const env = { ...s.env, ...JSON.parse(`{${withToken(tokenSaid[4])}}`), npm_config_offline: 'true' };
    await session({ command: 'npx', args, env: hostEnv(env), cwd: NPM_PREFIX }, async (client) => {
      const res = await search(client);
      expect(!res.isError && /customers? match/.test(res.text), `mcp-remote: ${res.text.slice(0, 200)}`);
    });
    said.push('mcp-remote');
  }
  return said.join('; ');
});

// What a server without a token and without --oauth tells Claude Code
// when the header is left out: not "404 page not found".
await check('Claude Code: no key header, on a server without --oauth', async () => {
  const argv = words(fill(http.replace(/ --header "[^"]*"/, ''))).slice(1);
  const cc = freshClaude();
  expect(cc.run(argv).code === 0, 'claude mcp add');
  const state = cc.state(nameOf(argv));
  expect(!/✔ Connected/.test(state), state);
  expect(!/404 page not found/.test(state), state);
  expect(state.includes('this server has no sign-in; send your Skimmer API key in the skimmer-api-key header'), `Claude Code does not print the server's sentence: ${state}`);
  const said = /Claude Code reports that case as "([^"]+)", followed by the server's "([^"]+)"/.exec(README);
  expect(said && state.includes(said[1]) && state.includes(said[2]), `Troubleshooting says Claude Code prints ${said ? `"${said[1]}" … "${said[2]}"` : 'nothing'}; it printed: ${state}`);
  return state.replace(HOSTED_URL, 'hosted URL');
});

// Troubleshooting's own cases, not README snippets: the --env order the
// README warns about, and a server with no key.
await check('Claude Code: --env before the name fails as Troubleshooting says', async () => {
  const said = [];
  for (const tail of [[BIN], [BIN, '--sandbox']]) {
    const r = freshClaude().run(['mcp', 'add', '--transport', 'stdio', '--env', `SKIMMER_API_KEY=${KEY}`, 'wrong-order', '--', ...tail]);
    const why = /missing required argument 'commandOrUrl'|Invalid environment variable format/.exec(r.out);
    expect(r.code !== 0 && why, `exit ${r.code}: ${r.out}`);
    said.push(why[0]);
  }
  return `refused: ${said.join('; with arguments after the path: ')}`;
});

await check('Claude Code: no key, and where the log says so', async () => {
  const cc = freshClaude();
  const r = cc.run(['mcp', 'add', '--transport', 'stdio', 'skimmer', '--', BIN]);
  expect(r.code === 0, `claude mcp add: exit ${r.code}: ${r.out}`);
  const state = cc.state('skimmer');
  expect(!/✔ Connected/.test(state), `a server with no key: ${state}`);
  const base = join(cc.home, '.cache', 'claude-cli-nodejs');
  const found = existsSync(base) ? readdirSync(base).map((d) => join(base, d, 'mcp-logs-skimmer')).filter(existsSync) : [];
  expect(found.length === 1, `no mcp-logs-skimmer folder under ${base}`);
  const text = readdirSync(found[0]).map((f) => readFileSync(join(found[0], f), 'utf8')).join('\n');
  expect(text.includes('SKIMMER_API_KEY is not set'), `the log says: ${text.slice(0, 400)}`);
  return `${state.replace(/^[^-]*- /, '')}; ~/.cache/claude-cli-nodejs/<project>/mcp-logs-skimmer/ says "SKIMMER_API_KEY is not set"`;
});

finish();
