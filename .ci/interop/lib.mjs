// Shared helpers for the interop checks. Every check prints one line:
//
//   PASS <name>: <what was checked>
//   FAIL <name>: <what went wrong>
//   N/A  <name>: <why it does not apply>     (never counted)
//
// .ci/interop/run counts the PASS and FAIL lines of every script. A script
// exits 1 when any of its checks failed.

let failures = 0;
let passes = 0;

export function pass(name, detail) {
  passes++;
  console.log(`PASS ${name}: ${detail}`);
}

export function fail(name, detail) {
  failures++;
  console.log(`FAIL ${name}: ${oneLine(detail)}`);
}

export function notApplicable(name, why) {
  console.log(`N/A  ${name}: ${why}`);
}

// check runs fn, which returns the PASS detail or throws; a throw is a FAIL.
export async function check(name, fn) {
  try {
    pass(name, await fn());
    return true;
  } catch (err) {
    fail(name, err instanceof Error ? err.message : String(err));
    return false;
  }
}

export function expect(cond, message) {
  if (!cond) throw new Error(message);
}

// finish ends the script with the right status.
export function finish() {
  if (passes === 0 && failures === 0) {
    console.log('FAIL script: ran no check');
    process.exit(1);
  }
  process.exit(failures > 0 ? 1 : 0);
}

export function oneLine(s) {
  return String(s).replace(/\s+/g, ' ').trim().slice(0, 600);
}

// quote shows a tool answer in a failure message.
export function quote(s) {
  return JSON.stringify(oneLine(s).slice(0, 300));
}

// textOf joins the text parts of a tools/call result.
export function textOf(result) {
  expect(result && Array.isArray(result.content), `tools/call result has no content array: ${quote(JSON.stringify(result))}`);
  return result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

// withTimeout fails a promise that takes longer than ms.
export function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

export function requireEnv(name) {
  const v = process.env[name];
  if (!v) {
    console.log(`FAIL setup: environment variable ${name} is not set (run through .ci/interop/run)`);
    process.exit(1);
  }
  return v;
}

// The tool names are a contract: clients and prompts refer to them.
export const TOOLS = [
  'create_customer',
  'create_customer_activity',
  'deactivate_customers',
  'delete_customer_activity',
  'get_customer',
  'get_customer_activity',
  'list_customer_activities',
  'list_customers',
  'search_customers',
  'update_customer',
  'update_customer_activity',
];

// The prompts and resource templates people pick from: a contract too.
export const PROMPTS = ['customer_brief', 'find_duplicates', 'log_contact', 'win_back'];
export const TEMPLATES = ['skimmer://activity/{+customer}', 'skimmer://customers/{+customer}'];

export const HEX32 = /^[0-9a-f]{32}$/;

// runTag makes titles unique to this run (titles allow letters, digits,
// spaces and hyphens).
export const runTag = Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36);
