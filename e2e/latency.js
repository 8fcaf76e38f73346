#!/usr/bin/env node
// Change-to-catalog latency, for scripts/e2e-backstage.sh: makes 10 changes
// in the fake Okta one after another (add a user, change a user's name,
// deactivate one, delete one, rename a group, add and remove memberships,
// delete a group) and measures, for each, the time until the catalog's
// REST API shows it. A benchmark, not a timed test: each change must show
// within --timeout seconds (a correctness bound, PASS/FAIL), and the
// figures are printed as a LATENCY line with the median and the maximum.
//
// A removed entity counts as shown once the catalog no longer serves it as
// a live entity: gone, or marked backstage.io/orphan (which the catalog
// does as soon as it re-reads the location; its orphan cleanup deletes the
// entity within the next 30 s, on its own schedule).
//
// Environment: CATALOG_URL, CATALOG_TOKEN, FAKE_URL (as for check.js).
// Usage: node e2e/latency.js --label L [--timeout S] [--avoid-group ID]
'use strict';

const base = process.env.CATALOG_URL;
const token = process.env.CATALOG_TOKEN;
const fake = process.env.FAKE_URL;
if (!base || !token || !fake) {
  console.log('FAIL: CATALOG_URL, CATALOG_TOKEN and FAKE_URL are required');
  process.exit(1);
}
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const label = args.label ?? 'hooks';
const timeout = Number(args.timeout ?? 60) * 1000;

const sleep = ms => new Promise(r => setTimeout(r, ms));

async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(20000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

// catalog returns the live users and groups by Okta id, with the
// memberships as "user>group" Okta id pairs.
async function catalog() {
  const fields = 'kind,metadata.name,metadata.namespace,metadata.annotations,spec.profile,relations';
  let url = `${base}/api/catalog/entities/by-query?filter=kind=user&filter=kind=group&fields=${fields}&limit=500`;
  const items = [];
  for (let page = 0; page < 100; page++) {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20000) });
    if (!res.ok) throw new Error(`catalog: ${res.status}`);
    const body = await res.json();
    items.push(...body.items);
    if (!body.pageInfo?.nextCursor) break;
    url = `${base}/api/catalog/entities/by-query?cursor=${encodeURIComponent(body.pageInfo.nextCursor)}`;
  }
  const byRef = new Map();
  const live = new Map(); // okta id -> entity
  for (const e of items) {
    const id = e.metadata.annotations?.['okta.com/id'];
    if (!id || e.metadata.annotations?.['backstage.io/orphan'] === 'true') continue;
    live.set(id, e);
    byRef.set(`${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase(), id);
  }
  const memberOf = new Set();
  for (const [id, e] of live) {
    if (e.kind.toLowerCase() !== 'user') continue;
    for (const r of e.relations ?? []) {
      const to = byRef.get(String(r.targetRef).toLowerCase());
      if (r.type === 'memberOf' && to) memberOf.add(`${id}>${to}`);
    }
  }
  return { live, memberOf };
}

async function main() {
  const truth = await call('GET', `${fake}/_fake/truth?members=1`);
  const simple = u => u.status === 'ACTIVE' && /^[a-z]+\.[a-z]+@example\.com$/.test(u.email);
  const cat0 = await catalog();
  const groups = truth.groupList.filter(g => g.type === 'OKTA_GROUP' && /^[A-Za-z ]+$/.test(g.name) &&
    g.id !== args['avoid-group'] && cat0.live.has(g.id));
  const users = truth.userList.filter(u => simple(u) && cat0.live.has(u.id));
  if (groups.length < 4 || users.length < 6) {
    console.log(`FAIL: ${label}: the fake org has too few plain users (${users.length}) or groups (${groups.length}) in the catalog to pick from`);
    process.exit(1);
  }
  const [g1, g2, g3, gDel] = groups.slice(-4);
  const notIn = g => users.find(u => !g.members.includes(u.id) && u.id !== users[0].id && u.id !== users[1].id);
  const [uDeact, uDel, uRename] = users;
  const addTo2 = notIn(g2);
  const removeFrom1 = users.find(u => g1.members.includes(u.id) && ![uDeact, uDel, uRename].includes(u));
  const removeFrom3 = users.find(u => g3.members.includes(u.id) && ![uDeact, uDel, uRename, removeFrom1].includes(u));
  const stamp = Date.now().toString(36);
  let added;
  const changes = [
    ['add a user', async () => {
      added = await call('POST', `${fake}/_fake/users`, { profile: {
        login: `hook.user${stamp}@example.com`, email: `hook.user${stamp}@example.com`, firstName: 'Hook', lastName: `User ${stamp}` } });
    }, c => c.live.has(added.id)],
    ['add the new user to a group', () => call('PUT', `${fake}/_fake/groups/${g1.id}/users/${added.id}`),
      c => c.memberOf.has(`${added.id}>${g1.id}`)],
    ["change a user's name", () => call('POST', `${fake}/_fake/users/${uRename.id}/profile`, { displayName: `Renamed ${stamp}` }),
      c => c.live.get(uRename.id)?.spec?.profile?.displayName === `Renamed ${stamp}`],
    ['deactivate a user', () => call('POST', `${fake}/_fake/users/${uDeact.id}/deactivate`), c => !c.live.has(uDeact.id)],
    ['delete a user', () => call('DELETE', `${fake}/_fake/users/${uDel.id}`), c => !c.live.has(uDel.id)],
    ['rename a group', () => call('POST', `${fake}/_fake/groups/${g2.id}/rename`, { name: `Hooked ${stamp}` }),
      c => c.live.get(g2.id)?.spec?.profile?.displayName === `Hooked ${stamp}`],
    ['add a membership', () => call('PUT', `${fake}/_fake/groups/${g2.id}/users/${addTo2.id}`),
      c => c.memberOf.has(`${addTo2.id}>${g2.id}`)],
    ['remove a membership', () => call('DELETE', `${fake}/_fake/groups/${g1.id}/users/${removeFrom1.id}`),
      c => c.live.has(removeFrom1.id) && !c.memberOf.has(`${removeFrom1.id}>${g1.id}`)],
    ['remove another membership', () => call('DELETE', `${fake}/_fake/groups/${g3.id}/users/${removeFrom3.id}`),
      c => c.live.has(removeFrom3.id) && !c.memberOf.has(`${removeFrom3.id}>${g3.id}`)],
    ['delete a group', () => call('DELETE', `${fake}/_fake/groups/${gDel.id}`), c => !c.live.has(gDel.id)],
  ];
  const figures = [];
  let failed = 0;
  for (const [what, apply, shown] of changes) {
    const t0 = Date.now();
    await apply();
    let ok = false;
    let last = '';
    while (Date.now() - t0 < timeout) {
      try {
        if (shown(await catalog())) { ok = true; break; }
      } catch (e) {
        last = String(e.message ?? e);
      }
      await sleep(200);
    }
    const secs = (Date.now() - t0) / 1000;
    if (ok) {
      figures.push(secs);
      console.log(`PASS: ${label}: ${what}: shown by the catalog's REST API after ${secs.toFixed(1)}s`);
    } else {
      failed++;
      console.log(`FAIL: ${label}: ${what}: not shown by the catalog within ${timeout / 1000}s${last ? ` (last error: ${last})` : ''}`);
    }
    // Apart, so that each change is measured on its own.
    await sleep(1000);
  }
  if (figures.length) {
    const sorted = [...figures].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
    console.log(`LATENCY ${label}: change to catalog over ${figures.length} changes: median ${median.toFixed(1)}s, ` +
      `max ${sorted[sorted.length - 1].toFixed(1)}s (targets: median <= 5s, max <= 15s); all: ${figures.map(f => f.toFixed(1)).join(' ')}`);
  }
  process.exit(Math.min(failed, 100));
}

main().catch(e => {
  console.log(`FAIL: ${label}: ${e.stack ?? e}`);
  process.exit(1);
});
