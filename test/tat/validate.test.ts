// Value rules of tat/validate.ts that guard the agent and the server against hostile input: the
// Base64 check is one linear pass (a backtracking pattern overflowed the stack on megabytes), a
// Username is never something a lookup tool reads as an option, and OutputCOSKeyPrefix has no "."
// or ".." folders.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TatError } from '../../tat/errors.js';
import { checkCosKeyPrefix, checkUsername, isBase64 } from '../../tat/validate.js';

test('isBase64: standard Base64 with padding, nothing else', () => {
  for (const ok of [
    '',
    'YQ==',
    'YWI=',
    'YWJj',
    'YWJjZA==',
    '++//',
    Buffer.from('héllo\n').toString('base64'),
  ])
    assert.equal(isBase64(ok), true, ok);
  for (const bad of ['Y', 'YQ=', 'YQ===', '====', 'Y===', 'YW=j', 'YWJj\n', 'YW-_', 'YWJj YQ==', '=YWJ'])
    assert.equal(isBase64(bad), false, bad);
});

test('isBase64 on 16 MB answers, valid or not, without overflowing the stack', () => {
  const valid = 'QUJD'.repeat(4 * 1024 * 1024);
  assert.equal(isBase64(valid), true);
  assert.equal(isBase64(`${valid}!`), false);
  assert.equal(isBase64(`${valid.slice(0, -1)}=`), true);
  assert.equal(isBase64(`!${valid.slice(1)}`), false);
});

const code = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as TatError).code;
  }
};

test('a Username may not start with "-"', () => {
  for (const name of ['--service=files', '-', '-root'])
    assert.equal(
      code(() => checkUsername(name)),
      'InvalidParameterValue.InvalidUsername',
      name,
    );
  for (const name of ['root', 'www-data', 'a-', 'user.name', 'DOMAIN\\user'.replace('\\', '_')])
    assert.equal(
      code(() => checkUsername(name)),
      undefined,
      name,
    );
});

test('OutputCOSKeyPrefix has no "." or ".." folder', () => {
  for (const p of ['.', '..', './a', 'a/.', 'a/./b', 'a/../b'])
    assert.equal(
      code(() => checkCosKeyPrefix(p)),
      'InvalidParameterValue.InvalidOutputCOSKeyPrefix',
      p,
    );
  for (const p of ['a', 'a/b/', '.hidden/x', 'x..y', 'v1.2/'])
    assert.equal(
      code(() => checkCosKeyPrefix(p)),
      undefined,
      p,
    );
});
