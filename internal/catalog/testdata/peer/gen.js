// gen.js records what the Backstage Okta module's naming strategies give
// for a set of inputs, using the same npm packages it uses, so the Go tests
// can check peer compatibility without Node.
//
//   npm install lodash@4.17.21 slugify@1.6.9
//   node gen.js > names.json
'use strict';
const kebabCase = require('lodash/kebabCase');
const slugify = require('slugify');

// The module's strategies, as published.
const kebabCaseEmail = email => kebabCase(email);
const stripDomainEmail = email => email.substring(0, email.indexOf('@'));
const slugifyEmail = email => {
  const [plainUser, domain] = email.split('@');
  const cleanUser = slugify(plainUser, { lower: true, trim: true, remove: /[+]/g });
  const cleanDomain = slugify(domain, { lower: true, trim: true });
  return `${cleanUser}-${cleanDomain}`;
};
const attempt = f => { try { return f(); } catch (e) { return null; } };

const fixed = [
  'John.Doe@Example.com', 'R&D / EMEA', 'john.doe+backstage@example.com', 'jdoe@example.co.uk',
  'Zoë.Ørsted@exämple.com', 'łukasz.żółć@example.pl', 'ß@straße.de', 'Æsir', 'Đorđe Đoković',
  'Platform Team', 'platform-team', 'PlatformTeam', 'platformTeam', 'XMLHttpRequest', 'iOS Devs',
  'Team 42', 'team42', '42team', '1st Line Support', '2ND LINE', '3rd-party', '11th Floor', '21st Century',
  'DevOps_EU', 'dev.ops', '***', '', '  spaced  out  ', "O'Brien", 'O’Brien', 'ŉ test',
  'Ünïcödé Grüppe', '日本語チーム', 'Команда', 'Ελληνικά', 'a\u212Ab', 'Kelvin\u212A', 'e\u0301cole',
  'UPPER CASE', 'lower case', 'MiXeD CaSe', 'ABCDef', 'ABC1', 'a1B2c3', 'Ab1Cd2', 'x', 'X',
  'user@', '@domain.com', 'no-at-sign', 'a@b@c.com', 'first.last@sub.domain.example.com',
  'very.long.' + 'name.'.repeat(15) + '@example.com', 'Group '.repeat(12),
  'AWS-Prod-Admins', 'aws_prod_admins', 'GitHub: org/owners', 'Sales & Marketing (EMEA)',
  'Q&A', 'C++ Devs', 'C# Team', '.NET', 'node.js', '100% Remote', '$ales', 'a|b', '<admins>',
  'x\u00d7y', 'a÷b', 'tab\there', 'new\nline', 'emoji 🚀 team', 'dingbat ✈ team',
];

// A deterministic generator (mulberry32) over a palette of characters.
let seed = 0x5eed;
const rand = () => {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const palette = [
  ...'abcdefghijklmnopqrstuvwxyz', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ', ...'0123456789',
  ...'abcdeABCDE0123', ...'.-_ +&/@()!#%$\'',
  ...'àáâäãåæçèéêëìíîïðñòóôöøùúûüýþÿßÀÉÖØÆÞ', ...'āăąćčďđēęěğīıłńňőœřśšşťůűźżž',
  'ŉ', 'ſ', 'Ĳ', 'ĳ', 'Œ', '\u0301', '\u0308', '\u212A', '’', '×', '÷', '\u00a0', '\u2014',
  ...'日本Кирλ', 'st', 'nd', 'rd', 'th', 'ST', 'TH', '1st', '2nd', '3rd', '4th', '11th',
];
const randomString = () => {
  const n = 1 + Math.floor(rand() * 24);
  let s = '';
  for (let i = 0; i < n; i++) s += palette[Math.floor(rand() * palette.length)];
  return s;
};

const cases = [...fixed];
for (let i = 0; i < 2000; i++) cases.push(randomString());
for (let i = 0; i < 1000; i++) cases.push(randomString() + '@' + randomString());

const out = cases.map(input => ({
  input,
  kebabCase: kebabCase(input),
  stripDomainEmail: attempt(() => stripDomainEmail(input)),
  slugifyEmail: attempt(() => slugifyEmail(input)),
}));
process.stdout.write("[\n" + out.map(o => JSON.stringify(o)).join(",\n") + "\n]\n");
