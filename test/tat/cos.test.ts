// COS request signatures and output object keys (tat/node/cos.ts): the encoding table, what is
// signed, and that any change to a signed part breaks the signature.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cosAuthorization,
  cosEncode,
  cosKeyPath,
  cosSignatureMatches,
  outputObjectKey,
  parseCosAuth,
  parseKeyTime,
} from '../../tat/node/cos.js';

test("cosEncode leaves only A-Z a-z 0-9 - _ . ~ (COS's table)", () => {
  assert.equal(
    cosEncode("a-Z_0.9~ !'()*,;:/?#[]@&=+$"),
    'a-Z_0.9~%20%21%27%28%29%2A%2C%3B%3A%2F%3F%23%5B%5D%40%26%3D%2B%24',
  );
  assert.equal(cosEncode('Tue, 01 Jan 2030 00:00:00 GMT'), 'Tue%2C%2001%20Jan%202030%2000%3A00%3A00%20GMT');
  assert.equal(cosEncode('日志'), '%E6%97%A5%E5%BF%97');
});

test('object keys follow the reference agent: prefix without one trailing "/", invocation, task', () => {
  assert.equal(outputObjectKey('runs/nightly/', 'inv-a', 'invt-b'), 'runs/nightly/inv-a/invt-b.log');
  assert.equal(outputObjectKey('runs', 'inv-a', 'invt-b'), 'runs/inv-a/invt-b.log');
  assert.equal(outputObjectKey('', 'inv-a', 'invt-b'), 'inv-a/invt-b.log');
  assert.equal(outputObjectKey('', '', 'invt-b'), 'invt-b.log');
  assert.equal(cosKeyPath('日志/a b.log'), '/%E6%97%A5%E5%BF%97/a%20b.log');
});

test('a signature verifies over exactly what was signed', () => {
  const keyTime = '1700000000;1700000600';
  const headers = {
    host: '127.0.0.1:9000',
    date: 'Tue, 14 Nov 2023 22:13:20 GMT',
    'content-type': 'application/xml',
    'content-length': '5',
  };
  const sign = {
    secretKey: 'sk',
    method: 'PUT',
    pathname: '/a/b.log',
    keyTime,
    headers,
    params: { 'x-id': '1' },
  };
  const authorization = cosAuthorization('AKIDx', sign);
  assert.match(
    authorization,
    /^q-sign-algorithm=sha1&q-ak=AKIDx&q-sign-time=1700000000;1700000600&q-key-time=1700000000;1700000600&q-header-list=content-length;content-type;date;host&q-url-param-list=x-id&q-signature=[0-9a-f]{40}$/,
  );
  const auth = parseCosAuth(new URLSearchParams(authorization))!;
  assert.deepEqual(parseKeyTime(auth.signTime), { start: 1700000000, end: 1700000600 });
  const req = {
    method: 'PUT',
    pathname: '/a/b.log',
    headers: { ...headers, 'user-agent': 'not signed' },
    query: new URLSearchParams('x-id=1&unsigned=2'),
  };
  assert.equal(cosSignatureMatches(req, auth, 'sk'), true);
  assert.equal(cosSignatureMatches(req, auth, 'other'), false);
  assert.equal(cosSignatureMatches({ ...req, method: 'GET' }, auth, 'sk'), false);
  assert.equal(cosSignatureMatches({ ...req, pathname: '/a/c.log' }, auth, 'sk'), false);
  assert.equal(
    cosSignatureMatches({ ...req, headers: { ...headers, 'content-length': '6' } }, auth, 'sk'),
    false,
  );
  assert.equal(cosSignatureMatches({ ...req, query: new URLSearchParams('x-id=2') }, auth, 'sk'), false);
  const { host: _host, ...noHost } = headers;
  assert.equal(
    cosSignatureMatches({ ...req, headers: noHost }, auth, 'sk'),
    false,
    'a signed header missing',
  );
  assert.equal(parseCosAuth(new URLSearchParams('q-ak=x')), undefined);
  assert.equal(parseKeyTime('1;x'), undefined);
});
