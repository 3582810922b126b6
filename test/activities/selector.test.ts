// The selector language (activities/selector.ts): what each term means, how terms combine, the
// escapes, and errors that name the bad term. Pure; resolving against a real fleet is in
// agents.test.ts and the CLI tests.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  matches,
  matchesAny,
  needsManagedDetails,
  parseSelector,
  SelectorError,
  type Selectable,
} from '../../activities/selector.js';

const fleet: Selectable[] = [
  {
    id: 'rins-web00001',
    kind: 'managed',
    name: 'web-1',
    online: true,
    os: 'Linux',
    tags: [
      { key: 'env', value: 'prod' },
      { key: 'role', value: 'web' },
    ],
  },
  {
    id: 'rins-web00002',
    kind: 'managed',
    name: 'web-2',
    online: false,
    os: 'Linux',
    tags: [{ key: 'env', value: 'prod' }],
  },
  {
    id: 'rins-db000001',
    kind: 'managed',
    name: 'db-1',
    online: true,
    os: 'Linux',
    tags: [{ key: 'env', value: 'staging' }],
  },
  { id: 'ins-abcdefgh', kind: 'cvm', online: true, os: 'Linux', tags: [] },
  { id: 'lhins-winwin01', kind: 'lighthouse', online: true, os: 'Windows', tags: [] },
  {
    id: 'rins-odd00001',
    kind: 'managed',
    name: 'a,b=c*',
    online: true,
    tags: [{ key: 'team=x', value: 'a,b' }],
  },
];

const pick = (...selectors: string[]) =>
  fleet.filter((i) => matchesAny(selectors.map(parseSelector), i)).map((i) => i.id);

test('each term: tag, name, id, os, kind, online/offline', () => {
  assert.deepEqual(pick('tag:env=prod'), ['rins-web00001', 'rins-web00002']);
  assert.deepEqual(pick('tag:role'), ['rins-web00001']);
  assert.deepEqual(pick('tag:env=pr*'), ['rins-web00001', 'rins-web00002']);
  assert.deepEqual(pick('name=web-*'), ['rins-web00001', 'rins-web00002']);
  assert.deepEqual(pick('name=web-?'), ['rins-web00001', 'rins-web00002']);
  assert.deepEqual(pick('id=ins-*'), ['ins-abcdefgh']);
  assert.deepEqual(pick('os=windows'), ['lhins-winwin01']);
  assert.equal(pick('os=Linux').length, 4);
  assert.deepEqual(pick('kind=rins'), ['rins-web00001', 'rins-web00002', 'rins-db000001', 'rins-odd00001']);
  assert.deepEqual(pick('kind=managed'), pick('kind=rins'));
  assert.deepEqual(pick('kind=cvm'), ['ins-abcdefgh']);
  assert.deepEqual(pick('kind=lhins'), ['lhins-winwin01']);
  assert.deepEqual(pick('offline'), ['rins-web00002']);
  // A name belongs to managed instances only: CVM names are not in the TAT API.
  assert.deepEqual(pick('name=*'), ['rins-web00001', 'rins-web00002', 'rins-db000001', 'rins-odd00001']);
});

test('all terms of one selector must hold; several selectors are OR', () => {
  assert.deepEqual(pick('tag:env=prod,online'), ['rins-web00001']);
  assert.deepEqual(pick('tag:env=prod,os=linux,kind=rins,name=web-*,online'), ['rins-web00001']);
  assert.deepEqual(pick('tag:env=prod,online', 'kind=ins'), ['rins-web00001', 'ins-abcdefgh']);
  assert.deepEqual(pick(' tag:env=staging , online '), ['rins-db000001']);
  assert.deepEqual(pick('tag:env=prod,tag:env=staging'), []);
});

test('a backslash keeps , = * as they are', () => {
  assert.deepEqual(pick('name=a\\,b=c\\*'), ['rins-odd00001']);
  assert.deepEqual(pick('name=a\\,b=c*'), ['rins-odd00001']);
  assert.deepEqual(pick('tag:team\\=x=a\\,b'), ['rins-odd00001']);
  assert.deepEqual(pick('name=a\\,b=c\\*x'), []);
  assert.ok(!matches(parseSelector('name=web\\*'), fleet[0]!));
});

test('errors name the bad term and say what would be right', () => {
  const cases: [string, RegExp][] = [
    ['', /empty selector; terms are tag:KEY=VALUE/],
    ['tag:env=prod,,online', /term "": empty \(two commas in a row/],
    ['tag:env=prod,os=mac', /term "os=mac": os is linux or windows/],
    ['kind=vm', /term "kind=vm": kind is ins \(CVM\), lhins \(Lighthouse\) or rins/],
    ['colour=red', /term "colour=red": unknown term; terms are tag:KEY=VALUE, tag:KEY, name=GLOB/],
    ['env=prod', /term "env=prod": unknown term/],
    ['tag:=x', /term "tag:=x": a tag term names its key/],
    ['tag:env=', /term "tag:env=": no value after "="/],
    ['online=yes', /term "online=yes": online takes no value/],
    ['name=', /term "name=": give a pattern: name=GLOB/],
    ['name=x\\', /ends with a lone backslash/],
  ];
  for (const [text, message] of cases)
    assert.throws(
      () => parseSelector(text),
      (e: unknown) => e instanceof SelectorError && message.test(e.message),
      text,
    );
});

test('only tag and name terms need the managed-instance listing', () => {
  assert.equal(needsManagedDetails([parseSelector('online,os=linux,kind=ins,id=ins-*')]), false);
  assert.equal(needsManagedDetails([parseSelector('online'), parseSelector('tag:env')]), true);
  assert.equal(needsManagedDetails([parseSelector('name=web-*')]), true);
});
