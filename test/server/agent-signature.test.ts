// Unit tests of the pure parts of registration: address ranges, the signed headers our agent
// sends (checked by tatd's verifier), and the freshness rules.

import assert from 'node:assert/strict';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { randomKey, requestHeaders, signedHeaders } from '../../agent/headers.js';
import { isAddressOrBlock } from '../../server/config.js';
import { addressInRange, normalizeAddress } from '../../server/gateway/addresses.js';
import {
  IdentityError,
  SignatureVerifier,
  signedHeadersOf,
  type SignedHeaders,
} from '../../server/gateway/signature.js';

describe('address ranges', () => {
  test('IpAddressRange and trustedProxies accept addresses and CIDR blocks only', () => {
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '127.0.0.8/30', '::1', 'fd00::/8'])
      assert.ok(isAddressOrBlock(ok), ok);
    for (const bad of [
      '',
      'x',
      '10.0.0.0/33',
      '10.0.0.0/',
      '10.0.0.0/a',
      '10.0.0/8',
      '1.2.3.4/8/8',
      '::/129',
    ])
      assert.ok(!isAddressOrBlock(bad), bad);
  });

  test('an address is in a range: exact address, block, empty range, IPv4 seen through IPv6', () => {
    assert.ok(addressInRange('10.1.2.3', ''));
    assert.ok(addressInRange('10.1.2.3', '10.1.2.3'));
    assert.ok(!addressInRange('10.1.2.4', '10.1.2.3'));
    assert.ok(addressInRange('10.1.2.3', '10.1.0.0/16'));
    assert.ok(!addressInRange('10.2.0.1', '10.1.0.0/16'));
    assert.ok(addressInRange('::ffff:10.1.2.3', '10.1.0.0/16'));
    assert.ok(addressInRange('fd00::5', 'fd00::/8'));
    assert.ok(!addressInRange('10.1.2.3', 'fd00::/8'));
    assert.ok(!addressInRange('not-an-address', '10.0.0.0/8'));
    assert.equal(normalizeAddress('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(normalizeAddress('::1'), '::1');
  });
});

describe('signed headers', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const id = { machineId: 'm-1', instanceId: 'rins-abcdefgh', privateKey: createPrivateKey(privateKey) };
  const lower = (h: Record<string, string>) =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  const parsed = (h: Record<string, string>): SignedHeaders => signedHeadersOf(lower(h))!;

  test("our agent's signature verifies with tatd's verifier; a changed field does not", () => {
    const v = new SignatureVerifier();
    const h = parsed(signedHeaders(id));
    assert.equal(h.randomKey.length, 32);
    assert.match(h.randomKey, /^[A-Za-z0-9]+$/);
    assert.ok(v.verify(h, publicKey));
    for (const field of ['machineId', 'instanceId', 'randomKey', 'timestamp'] as const)
      assert.ok(!v.verify({ ...h, [field]: `${h[field]}x` }, publicKey), field);
    assert.ok(!v.verify({ ...h, signature: 'AAAA' }, publicKey));
    assert.notEqual(randomKey(), randomKey());
  });

  test('an unregistered agent sends no signed headers; partial ones are refused', () => {
    assert.equal(signedHeadersOf(lower(requestHeaders('m-1'))), undefined);
    assert.ok(signedHeadersOf(lower(requestHeaders('m-1', id))));
    const { Signature: _dropped, ...partial } = signedHeaders(id);
    assert.throws(
      () => signedHeadersOf(lower(partial)),
      (e) =>
        e instanceof IdentityError &&
        e.code === 'AuthFailure.SignatureFailure' &&
        /Signature/.test(e.message),
    );
  });

  test('Timestamp within the window; RandomKey of letters and digits', () => {
    const v = new SignatureVerifier();
    const now = Date.now();
    const h = parsed(signedHeaders(id, now));
    assert.equal(v.checkFresh(h, now, 300_000), Number(h.timestamp) * 1000);
    assert.doesNotThrow(() => v.checkFresh(h, now + 299_000, 300_000));
    const expire = (e: unknown) => e instanceof IdentityError && e.code === 'AuthFailure.SignatureExpire';
    assert.throws(() => v.checkFresh(h, now + 301_000, 300_000), expire);
    assert.throws(() => v.checkFresh(h, now - 301_000, 300_000), expire);
    const failure = (e: unknown) => e instanceof IdentityError && e.code === 'AuthFailure.SignatureFailure';
    assert.throws(() => v.checkFresh({ ...h, timestamp: '12.5' }, now, 300_000), failure);
    assert.throws(() => v.checkFresh({ ...h, randomKey: 'short' }, now, 300_000), failure);
    assert.throws(() => v.checkFresh({ ...h, randomKey: 'x'.repeat(31) + '!' }, now, 300_000), failure);
  });
});
