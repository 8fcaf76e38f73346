#!/usr/bin/env node
// Assertions for scripts/e2e-backstage.sh, run against a live fake Okta,
// okta-entity-provider and Backstage catalog. Only Node.js built-ins.
//
// Every check prints one line starting with "PASS:" or "FAIL:" saying what
// was checked, with numbers. The exit code is the number of failures
// (capped at 100). Checks that wait poll until they pass or their deadline
// passes, and then report the last observation.
//
// Environment:
//   CATALOG_URL            e.g. http://127.0.0.1:7007
//   CATALOG_TOKEN          static external-access token of the catalog
//   FAKE_URL               e.g. http://127.0.0.1:9999 (the fake Okta)
//   FAKE_ORGS              instead of FAKE_URL, for a service serving several
//                          orgs: name=URL,name=URL; each org's Okta ids are
//                          then checked as name/id (the okta.com/org
//                          annotation and okta.com/id), and --user and
//                          --group take name/id
//   EXPECT_USER_STATUSES   Okta user statuses the service should emit, after
//                          OKTA_USER_FILTER and its USER_STATUSES, comma separated
//   EXPECT_GROUP_TYPES     Okta group types the service should emit
//   EXPECT_EXCLUDED_LOGIN_SUFFIX  optional: users whose login ends so are
//                          left out (by a transform's exclude)
//   ERRORS_FILE            JSON lines written by the catalog's processing-errors module
//
// Commands:
//   ingest  [--wait S] [--label L] [--save FILE] [--errors-from N] [--nasty yes]
//           [--picture PREFIX]
//       the catalog's users, groups and relations equal what the fake
//       org's truth implies; zero processing errors since --errors-from
//   same    --from FILE [--wait S] [--label L]
//       the catalog holds exactly the entities (refs and Okta ids) in FILE
//   keep    --from FILE --for S [--label L]
//       for S seconds, every entity and relation in FILE stays in the catalog
//   absent  --user ID [--wait S] [--why TEXT]
//       no entity carries the Okta id
//   renamed --group ID --name NAME --old-ref REF [--wait S]
//       the group's entity shows NAME and the old ref is gone
//   errors  [--from N] [--expect-location URL --expect-text TEXT]
//       counts processing errors after line N of ERRORS_FILE
//   deps    --dir DIR
//       the installed Backstage backend in DIR: npm ls clean, one version of
//       each @backstage package, each pinned exactly in overrides, every
//       declared @backstage range accepting the pinned versions, and
//       better-sqlite3 12.x built for this Node.js
'use strict';

const fs = require('node:fs');

const env = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (def !== undefined) return def;
    throw new Error(`environment variable ${name} is required`);
  }
  return v;
};

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      out[a.slice(2)] = argv[i + 1];
      i++;
    } else {
      out._.push(a);
    }
  }
  return out;
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

async function getJSON(url, headers = {}) {
  const res = await fetch(url, {
    headers,
    signal: AbortSignal.timeout(20000),
  });
  if (!res.ok) {
    const body = await res.text().catch(() => '');
    throw new Error(`GET ${url}: ${res.status} ${body.slice(0, 200)}`);
  }
  return res.json();
}

// fetchCatalog reads every User and Group with the fields the checks need,
// following the by-query cursor.
async function fetchCatalog() {
  const base = env('CATALOG_URL');
  const headers = { Authorization: `Bearer ${env('CATALOG_TOKEN')}` };
  const fields = [
    'kind',
    'metadata.name',
    'metadata.namespace',
    'metadata.annotations',
    'spec.profile',
    'relations',
  ].join(',');
  const items = [];
  let url =
    `${base}/api/catalog/entities/by-query?filter=kind=user&filter=kind=group` +
    `&fields=${fields}&limit=500`;
  for (let page = 0; page < 1000; page++) {
    const body = await getJSON(url, headers);
    items.push(...body.items);
    const next = body.pageInfo?.nextCursor;
    if (!next) break;
    url = `${base}/api/catalog/entities/by-query?cursor=${encodeURIComponent(next)}`;
  }
  return items;
}

function refOf(e) {
  return `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();
}

// oktaID is the entity's Okta id, as org/id for an entity of a named org.
const oktaID = e => {
  const a = e.metadata.annotations ?? {};
  const id = a['okta.com/id'];
  return id && a['okta.com/org'] ? `${a['okta.com/org']}/${id}` : id;
};

// fetchTruth reads the fake org's truth, or with FAKE_ORGS every fake's,
// merged into one with each id (and hierarchy key) prefixed by its org's
// name, so that the orgs' ids and hierarchies stay apart.
async function fetchTruth() {
  const orgs = process.env.FAKE_ORGS;
  if (!orgs) return getJSON(`${env('FAKE_URL')}/_fake/truth?members=1`);
  const merged = { userList: [], groupList: [] };
  for (const entry of orgs.split(',')) {
    const [name, url] = entry.split('=');
    const t = await getJSON(`${url}/_fake/truth?members=1`);
    const key = v => (v === undefined || v === null ? v : `${name}/${v}`);
    merged.userList.push(...t.userList.map(u => ({ ...u, id: key(u.id) })));
    merged.groupList.push(
      ...t.groupList.map(g => ({
        ...g,
        id: key(g.id),
        members: (g.members ?? []).map(key),
        orgId: key(g.orgId),
        parentOrgId: key(g.parentOrgId),
      })),
    );
  }
  return merged;
}

// summarize turns catalog entities into sets keyed by Okta id.
function summarize(items) {
  const users = new Map(); // okta id -> ref
  const groups = new Map();
  const byRef = new Map(); // ref -> okta id
  const dupIDs = [];
  const noID = [];
  // An entity its location no longer emits is marked orphan at once and
  // deleted by the next orphan cleanup (every 30s, orphanStrategy delete).
  const orphans = new Set(); // okta ids
  for (const e of items) {
    const id = oktaID(e);
    const ref = refOf(e);
    if (id && e.metadata.annotations?.['backstage.io/orphan'] === 'true') orphans.add(id);
    if (!id) {
      noID.push(ref);
      continue;
    }
    const m = e.kind.toLowerCase() === 'user' ? users : groups;
    if (m.has(id)) dupIDs.push(id);
    m.set(id, ref);
    byRef.set(ref, id);
  }
  const rel = { memberOf: [], hasMember: [], childOf: [], parentOf: [] };
  const dangling = [];
  for (const e of items) {
    const from = byRef.get(refOf(e));
    if (!from) continue;
    for (const r of e.relations ?? []) {
      if (!(r.type in rel)) continue;
      const to = byRef.get(String(r.targetRef).toLowerCase());
      if (!to) {
        dangling.push(`${refOf(e)} ${r.type} ${r.targetRef}`);
        continue;
      }
      rel[r.type].push(`${from}>${to}`);
    }
  }
  return { items, users, groups, rel, dangling, dupIDs, noID, orphans };
}

// expected computes what the catalog should hold from the fake's truth.
function expected(truth) {
  const statuses = new Set(env('EXPECT_USER_STATUSES').split(','));
  const types = new Set(env('EXPECT_GROUP_TYPES').split(','));
  const excluded = process.env.EXPECT_EXCLUDED_LOGIN_SUFFIX;
  const users = new Set(
    truth.userList
      .filter(u => statuses.has(u.status) && !(excluded && String(u.login).endsWith(excluded)))
      .map(u => u.id),
  );
  const groupList = truth.groupList.filter(g => types.has(g.type));
  const groups = new Set(groupList.map(g => g.id));
  const memberships = [];
  for (const g of groupList) {
    for (const u of g.members ?? []) if (users.has(u)) memberships.push(`${u}>${g.id}`);
  }
  // Hierarchy: orgId / parentOrgId on selected groups. A parent naming no
  // selected group, or the group itself, is dropped; a cycle loses the link
  // of its group with the smallest Okta id.
  const owner = new Map();
  for (const g of [...truth.groupList].sort((a, b) =>
    Number(types.has(b.type)) - Number(types.has(a.type)))) {
    if (g.orgId && !owner.has(String(g.orgId))) owner.set(String(g.orgId), g);
  }
  const parent = new Map();
  for (const g of groupList) {
    if (g.parentOrgId === undefined || g.parentOrgId === null) continue;
    const p = owner.get(String(g.parentOrgId));
    if (!p || p.id === g.id || !groups.has(p.id)) continue;
    parent.set(g.id, p.id);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const start of parent.keys()) {
      const seen = [];
      let cur = start;
      while (parent.has(cur) && !seen.includes(cur)) {
        seen.push(cur);
        cur = parent.get(cur);
      }
      if (seen.includes(cur)) {
        const cycle = seen.slice(seen.indexOf(cur));
        parent.delete(cycle.sort()[0]);
        changed = true;
        break;
      }
    }
  }
  const childOf = [...parent].map(([c, p]) => `${c}>${p}`);
  return { users, groups, memberships, childOf };
}

function diff(got, want) {
  const g = new Set(got);
  const w = new Set(want);
  return {
    missing: [...w].filter(x => !g.has(x)),
    extra: [...g].filter(x => !w.has(x)),
  };
}

const reverse = pairs => pairs.map(p => p.split('>').reverse().join('>'));
const sample = xs => (xs.length ? ` e.g. ${xs.slice(0, 3).join(', ')}` : '');

function readErrors(from) {
  const file = env('ERRORS_FILE');
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return lines.slice(Number(from ?? 0)).map(l => JSON.parse(l));
}

// evaluateIngest returns the list of [ok, message] for the ingest checks.
function evaluateIngest(truth, cat, label, errorsFrom, nasty, picture) {
  const want = expected(truth);
  const results = [];
  const setCheck = (what, got, wantSet) => {
    const d = diff(got, wantSet);
    const ok = d.missing.length === 0 && d.extra.length === 0 && got.length === new Set(got).size;
    results.push([
      ok,
      `${label}: ${what}: catalog has ${new Set(got).size}, fake org truth implies ${new Set(wantSet).size}` +
        (ok ? '' : ` (missing ${d.missing.length}${sample(d.missing)}; unexpected ${d.extra.length}${sample(d.extra)})`),
    ]);
  };
  setCheck(
    `users (okta statuses ${env('EXPECT_USER_STATUSES')} of ${truth.userList.length} in Okta)`,
    [...cat.users.keys()],
    [...want.users],
  );
  setCheck(
    `groups (okta types ${env('EXPECT_GROUP_TYPES')} of ${truth.groupList.length} in Okta)`,
    [...cat.groups.keys()],
    [...want.groups],
  );
  setCheck('memberOf relations user->group', cat.rel.memberOf, want.memberships);
  setCheck('hasMember relations group->user', cat.rel.hasMember, reverse(want.memberships));
  setCheck('childOf relations group->parent', cat.rel.childOf, want.childOf);
  setCheck('parentOf relations parent->group', cat.rel.parentOf, reverse(want.childOf));
  results.push([
    cat.dangling.length === 0 && cat.dupIDs.length === 0 && cat.noID.length === 0 && cat.orphans.size === 0,
    `${label}: every relation target exists, every entity has one okta.com/id and none is orphaned: ` +
      `${cat.dangling.length} dangling${sample(cat.dangling)}, ${cat.dupIDs.length} duplicate ids, ` +
      `${cat.noID.length} without id, ${cat.orphans.size} orphaned${sample([...cat.orphans])}`,
  ]);
  if (nasty) results.push(nastyCheck(truth, cat, want, label));
  if (picture) results.push(pictureCheck(cat, picture, label));
  const errors = readErrors(errorsFrom);
  results.push([
    errors.length === 0,
    `${label}: catalog processing errors (entities rejected by validation or failed reads): ${errors.length}` +
      errors.slice(0, 5).map(e => `\n    ${e.entity}: ${e.error.slice(0, 300)}`).join(''),
    // The catalog rejected something: waiting will not fix it (see poll).
    errors.length > 0,
  ]);
  return results;
}

// pictureCheck checks that a transform shaped every user: a picture URL
// starting with prefix and a display name.
function pictureCheck(cat, prefix, label) {
  const users = cat.items.filter(e => e.kind.toLowerCase() === 'user');
  const bad = users.filter(
    e => !String(e.spec?.profile?.picture ?? '').startsWith(prefix) || !e.spec?.profile?.displayName,
  );
  return [
    users.length > 0 && bad.length === 0,
    `${label}: users with a transform's picture (${prefix}...) and display name: ` +
      `${users.length - bad.length} of ${users.length}${sample(bad.map(refOf))}`,
  ];
}

// nastyCheck checks, by name, the cases that trip naive name mappings: users
// whose login or email is not a plain first.last@example.com (plus signs,
// apostrophes, upper case, no email, over-long, other domains, colliding
// emails) and groups whose name is not plain words and a number (symbols
// only, accents, slashes, over-long, case-only twins). It fails when the
// fake org has too few of them to mean anything.
function nastyCheck(truth, cat, want, label) {
  const plainUser = u => /^[a-z]+\.[a-z]+@example\.com$/.test(u.login) && u.email === u.login;
  const plainGroup = g => /^[A-Za-z]+( [A-Za-z]+)?( [0-9]+)?$/.test(g.name) &&
    truth.groupList.filter(h => h.name.toLowerCase() === g.name.toLowerCase()).length === 1;
  const users = truth.userList.filter(u => want.users.has(u.id) && !plainUser(u));
  const groups = truth.groupList.filter(g => want.groups.has(g.id) && !plainGroup(g));
  const lostUsers = users.filter(u => !cat.users.has(u.id)).map(u => JSON.stringify(u.login));
  const lostGroups = groups.filter(g => !cat.groups.has(g.id)).map(g => JSON.stringify(g.name));
  const missing = [...lostUsers, ...lostGroups];
  const enough = users.length >= 5 && groups.length >= 3;
  const shown = [
    ...users.filter(u => !/subsidiary/.test(u.login)).slice(0, 6)
      .map(u => `${JSON.stringify(u.login)} -> ${cat.users.get(u.id) ?? 'MISSING'}`),
    ...groups.slice(0, 6).map(g => `${JSON.stringify(g.name)} -> ${cat.groups.get(g.id) ?? 'MISSING'}`),
  ];
  return [
    enough && missing.length === 0,
    `${label}: nasty names: ${users.length - lostUsers.length} of ${users.length} users with unusual ` +
      `logins/emails and ${groups.length - lostGroups.length} of ${groups.length} groups with unusual ` +
      `names are in the catalog` +
      (enough ? '' : ' (the fake org has too few nasty cases: want >= 5 users and >= 3 groups)') +
      (missing.length ? ` (missing ${missing.length}: ${missing.slice(0, 5).join(', ')})` : '') +
      `\n    ${shown.join(', ')}`,
  ];
}

// depsCheck checks the installed Backstage backend in dir (after npm ci).
function depsCheck(dir) {
  const path = require('node:path');
  const { spawnSync, execFileSync } = require('node:child_process');
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const results = [];
  const ls = spawnSync('npm', ['ls', '--all', '--json'], {
    cwd: dir, encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120000,
  });
  let tree = {};
  try {
    tree = JSON.parse(ls.stdout);
  } catch {
    // reported below
  }
  results.push([
    ls.status === 0,
    `npm ls --all exits ${ls.status}: ` +
      (ls.status === 0 ? 'no missing, invalid or extraneous packages'
        : (tree.problems ?? [String(ls.stderr).slice(0, 300)]).slice(0, 5).join('; ')),
  ]);
  const versions = new Map(); // @backstage name -> Set of versions
  const walk = (node, depth) => {
    if (depth > 100) return;
    for (const [name, dep] of Object.entries(node.dependencies ?? {})) {
      if (name.startsWith('@backstage/') && dep.version) {
        if (!versions.has(name)) versions.set(name, new Set());
        versions.get(name).add(dep.version);
      }
      walk(dep, depth + 1);
    }
  };
  walk(tree, 0);
  const several = [...versions].filter(([, v]) => v.size > 1).map(([n, v]) => `${n}@${[...v].join('+')}`);
  results.push([
    versions.size > 0 && several.length === 0,
    `npm ls: one version of each of the ${versions.size} @backstage packages` +
      (several.length ? ` (several versions: ${several.join(', ')})` : '') +
      ` (backend-defaults ${[...(versions.get('@backstage/backend-defaults') ?? [])]}, ` +
      `plugin-catalog-backend ${[...(versions.get('@backstage/plugin-catalog-backend') ?? [])]})`,
  ]);
  const overrides = pkg.overrides ?? {};
  const unpinned = [];
  for (const [name, v] of versions) {
    let spec = overrides[name];
    if (typeof spec === 'string' && spec.startsWith('$')) spec = pkg.dependencies?.[spec.slice(1)];
    if (typeof spec !== 'string' || !/^\d+\.\d+\.\d+$/.test(spec) || !v.has(spec) || v.size > 1) {
      unpinned.push(`${name}@${[...v].join('+')} (override ${JSON.stringify(overrides[name] ?? null)})`);
    }
  }
  results.push([
    versions.size > 0 && unpinned.length === 0,
    `package.json overrides pin every installed @backstage package to exactly its installed version` +
      (unpinned.length ? `; not pinned: ${unpinned.join(', ')}` : ` (${versions.size} pinned)`),
  ]);
  // One release line: no installed @backstage package asks for a version of
  // another that the pins do not satisfy, so the overrides force nothing.
  const dirRequire = require('node:module').createRequire(path.join(path.resolve(dir), 'package.json'));
  const semver = dirRequire('semver');
  const conflicts = [];
  let ranges = 0;
  for (const name of versions.keys()) {
    const p = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'));
    for (const [dep, range] of Object.entries({ ...p.dependencies, ...p.peerDependencies })) {
      if (!dep.startsWith('@backstage/')) continue;
      ranges++;
      const have = [...(versions.get(dep) ?? [])][0];
      if (!have || !semver.satisfies(have, range)) conflicts.push(`${name} wants ${dep}@${range}, pinned ${have ?? 'none'}`);
    }
  }
  results.push([
    ranges > 0 && conflicts.length === 0,
    `one release line: all ${ranges} @backstage dependency ranges declared by the installed @backstage ` +
      `packages accept the pinned versions` + (conflicts.length ? `; conflicts: ${conflicts.slice(0, 5).join('; ')}` : ''),
  ]);
  // better-sqlite3 12.x (13 crashes on Node 20), compiled for this Node.js:
  // load it in a child process and run a query on an in-memory database.
  let sqlite = '';
  let sqliteErr = '';
  try {
    sqlite = execFileSync(process.execPath, ['-e',
      "const D=require('better-sqlite3');const db=new D(':memory:');" +
      "console.log(require('better-sqlite3/package.json').version+' '+db.prepare('select sqlite_version() v').get().v)"],
    { cwd: dir, encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    sqliteErr = String(err.stderr || err.message).split('\n').filter(Boolean).slice(0, 3).join(' | ');
  }
  const [bsv, sqv] = sqlite.split(' ');
  results.push([
    /^12\./.test(bsv ?? '') && !!sqv,
    sqliteErr ? `better-sqlite3 does not load under Node.js ${process.version}: ${sqliteErr}`
      : `better-sqlite3 ${bsv} (want 12.x) built from source loads under Node.js ${process.version} ` +
        `(ABI ${process.versions.modules}) and opens an in-memory SQLite ${sqv}`,
  ]);
  return results;
}

function print(results) {
  let failed = 0;
  for (const [ok, msg] of results) {
    if (!ok) failed++;
    console.log(`${ok ? 'PASS' : 'FAIL'}: ${msg}`);
  }
  return failed;
}

// poll calls evaluate until every result passes or the deadline passes.
async function poll(waitSeconds, evaluate) {
  const deadline = Date.now() + waitSeconds * 1000;
  const started = Date.now();
  let results;
  let lastNote = 0;
  let seen = '';
  let seenSince = Date.now();
  for (;;) {
    try {
      results = await evaluate();
    } catch (err) {
      results = [[false, `could not read: ${err.message}`]];
    }
    if (results.every(r => r[0]) || Date.now() >= deadline) break;
    // Once the catalog has rejected entities and nothing has changed for
    // 30s (10 processing cycles), waiting longer will not change the verdict.
    const now = JSON.stringify(results);
    if (now !== seen) {
      seen = now;
      seenSince = Date.now();
    } else if (results.some(r => !r[0] && r[2]) && Date.now() - seenSince >= 30000) {
      process.stderr.write('  (unchanged for 30s while the catalog rejects entities: not waiting longer)\n');
      break;
    }
    if (Date.now() - lastNote > 10000) {
      lastNote = Date.now();
      const first = results.find(r => !r[0]);
      process.stderr.write(
        `  ... waiting (${Math.round((Date.now() - started) / 1000)}s of ${waitSeconds}s): ${first[1].split('\n')[0]}\n`,
      );
    }
    await sleep(1000);
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`  (settled after ${secs}s)\n`);
  return results;
}

function saveState(file, cat) {
  const state = {
    users: Object.fromEntries([...cat.users].sort()),
    groups: Object.fromEntries([...cat.groups].sort()),
    relations: Object.fromEntries(Object.entries(cat.rel).map(([k, v]) => [k, [...v].sort()])),
  };
  fs.writeFileSync(file, JSON.stringify(state, null, 1));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const cmd = args._[0];
  const label = args.label ?? cmd;
  const wait = Number(args.wait ?? 0);
  const fake = fetchTruth;
  let results;
  let lastCat;
  switch (cmd) {
    case 'ingest':
      results = await poll(wait, async () => {
        const [truth, items] = await Promise.all([fake(), fetchCatalog()]);
        lastCat = summarize(items);
        return evaluateIngest(truth, lastCat, label, args['errors-from'], args.nasty === 'yes', args.picture);
      });
      if (args.save && lastCat) saveState(args.save, lastCat);
      break;
    case 'same': {
      const before = JSON.parse(fs.readFileSync(args.from, 'utf8'));
      results = await poll(wait, async () => {
        const cat = summarize(await fetchCatalog());
        const r = [];
        for (const kind of ['users', 'groups']) {
          const want = Object.entries(before[kind]).map(([id, ref]) => `${id}=${ref}`);
          const got = [...cat[kind]].map(([id, ref]) => `${id}=${ref}${cat.orphans.has(id) ? ' (orphaned)' : ''}`);
          const d = diff(got, want);
          r.push([
            d.missing.length === 0 && d.extra.length === 0,
            `${label}: ${kind} (Okta id and entity ref) identical to the earlier run: ${got.length} now, ${want.length} before` +
              (d.missing.length + d.extra.length
                ? ` (missing ${d.missing.length}${sample(d.missing)}; unexpected ${d.extra.length}${sample(d.extra)})`
                : ''),
          ]);
        }
        const want = Object.values(before.relations).flat().length;
        const got = Object.values(cat.rel).flat().length;
        const same = Object.keys(before.relations).every(
          k => diff(cat.rel[k], before.relations[k]).missing.length === 0 &&
            diff(cat.rel[k], before.relations[k]).extra.length === 0,
        );
        r.push([same, `${label}: relations identical to the earlier run: ${got} now, ${want} before`]);
        return r;
      });
      break;
    }
    case 'keep': {
      const before = JSON.parse(fs.readFileSync(args.from, 'utf8'));
      const want = Object.keys(before.users).length + Object.keys(before.groups).length;
      const wantRel = Object.values(before.relations).flat().length;
      const seconds = Number(args.for);
      const deadline = Date.now() + seconds * 1000;
      let samples = 0;
      let worst = want;
      let worstRel = wantRel;
      let lost = [];
      let lostRel = [];
      while (Date.now() < deadline) {
        const cat = summarize(await fetchCatalog());
        samples++;
        // Orphaned counts as lost: the next orphan cleanup deletes it.
        const missing = [
          ...Object.keys(before.users).filter(id => !cat.users.has(id) || cat.orphans.has(id)),
          ...Object.keys(before.groups).filter(id => !cat.groups.has(id) || cat.orphans.has(id)),
        ];
        worst = Math.min(worst, want - missing.length);
        if (missing.length) lost = missing;
        const missingRel = Object.entries(before.relations).flatMap(([type, pairs]) => {
          const have = new Set(cat.rel[type]);
          return pairs.filter(p => !have.has(p)).map(p => `${type} ${p}`);
        });
        worstRel = Math.min(worstRel, wantRel - missingRel.length);
        if (missingRel.length) lostRel = missingRel;
        await sleep(2000);
      }
      results = [[
        samples > 0 && worst === want && worstRel === wantRel,
        `${label}: catalog kept all ${want} users and groups (none orphaned) and all ${wantRel} relations over ${seconds}s ` +
          `(${samples} samples, fewest seen ${worst} entities, ${worstRel} relations)` +
          (lost.length ? ` (lost ${lost.length}${sample(lost)})` : '') +
          (lostRel.length ? ` (lost relations ${lostRel.length}${sample(lostRel)})` : ''),
      ]];
      break;
    }
    case 'absent':
      results = await poll(wait, async () => {
        const cat = summarize(await fetchCatalog());
        const ref = cat.users.get(args.user) ?? cat.groups.get(args.user);
        return [[!ref, `${label}: ${args.why ?? 'entity'} ${args.user} is gone from the catalog` +
          (ref ? ` (still there as ${ref}${cat.orphans.has(args.user) ? ', orphaned, awaiting the orphan cleanup' : ''})` : '')]];
      });
      break;
    case 'renamed':
      results = await poll(wait, async () => {
        const items = await fetchCatalog();
        const mine = items.filter(e => oktaID(e) === args.group);
        const old = items.filter(e => refOf(e) === args['old-ref'].toLowerCase());
        const shown = mine.map(e => `${refOf(e)} "${e.spec?.profile?.displayName ?? ''}"`);
        const ok = mine.length === 1 && mine[0].spec?.profile?.displayName === args.name && old.length === 0;
        return [[ok, `${label}: group ${args.group} renamed in Okta to "${args.name}": catalog shows ` +
          `${shown.join(', ') || 'nothing'}; old ref ${args['old-ref']} ${old.length ? 'still present' : 'gone'}`]];
      });
      break;
    case 'errors': {
      const errors = readErrors(args.from);
      if (args['expect-location']) {
        const where = args['expect-location'];
        const hits = errors.filter(e => (e.location === where || e.target === where) &&
          e.error.includes(args['expect-text']));
        results = [[hits.length > 0, `${label}: ${hits.length} processing errors for ` +
          `${args['expect-location']} containing "${args['expect-text']}"` +
          (hits.length ? `, e.g. ${hits[0].error.slice(0, 200)}` : ` (saw ${errors.length} others)`)]];
      } else {
        results = [[errors.length === 0, `${label}: catalog processing errors: ${errors.length}` +
          errors.slice(0, 5).map(e => `\n    ${e.entity}: ${e.error.slice(0, 300)}`).join('')]];
      }
      break;
    }
    case 'deps':
      results = depsCheck(args.dir);
      break;
    default:
      throw new Error(`unknown command ${cmd}`);
  }
  process.exitCode = Math.min(print(results), 100);
}

main().catch(err => {
  console.log(`FAIL: ${process.argv[2]}: ${err.message}`);
  process.exitCode = 1;
});
