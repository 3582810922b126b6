// Custom parameters (tat/params.ts, docs/tat-api-reference.md, "Custom parameters"): parsing the
// JSON texts with their error codes, finding placeholders, substitution, masking of hidden values,
// and the values of a run.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TatError } from '../../tat/errors.js';
import {
  findPlaceholders,
  HIDDEN_MASK,
  parseParameterConfs,
  parseParameterJson,
  recordedParameters,
  resolveRunParameters,
  substitute,
} from '../../tat/params.js';

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TatError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  });
}

const many = (n: number) =>
  JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, `${i}`])));

describe('parseParameterJson', () => {
  test('a JSON object of strings, any spacing', () => {
    assert.deepEqual(parseParameterJson('{"a":"1","B-c_9":""}', 'Parameters'), { a: '1', 'B-c_9': '' });
    assert.deepEqual(parseParameterJson(' {\n "a" : "x y" ,\t"b": "{{c}}" } ', 'Parameters'), {
      a: 'x y',
      b: '{{c}}',
    });
    assert.deepEqual(parseParameterJson('{}', 'Parameters'), {});
  });

  test('strings holding quotes, commas and braces do not confuse the key scan', () => {
    const text = JSON.stringify({ a: 'say "hi", {then} "bye"', b: '\\', c: '","d":"' });
    assert.deepEqual(parseParameterJson(text, 'Parameters'), {
      a: 'say "hi", {then} "bye"',
      b: '\\',
      c: '","d":"',
    });
  });

  test('not a JSON object → ParameterInvalidJsonFormat', () => {
    for (const text of ['', '{', '{a:"1"}', '[]', '["a"]', '"a"', '1', 'null', 'true'])
      throwsCode(
        () => parseParameterJson(text, 'Parameters'),
        'InvalidParameterValue.ParameterInvalidJsonFormat',
      );
  });

  test('values must be strings → ParameterValueNotString', () => {
    for (const v of ['1', 'true', 'null', '{"b":"c"}', '["x"]'])
      throwsCode(
        () => parseParameterJson(`{"a":${v}}`, 'Parameters'),
        'InvalidParameterValue.ParameterValueNotString',
      );
  });

  test('a key given twice → ParameterKeyDuplicated, also when spelled with escapes', () => {
    throwsCode(
      () => parseParameterJson('{"a":"1","a":"2"}', 'P'),
      'InvalidParameterValue.ParameterKeyDuplicated',
    );
    throwsCode(
      () => parseParameterJson('{"a":"1","\\u0061":"2"}', 'P'),
      'InvalidParameterValue.ParameterKeyDuplicated',
    );
    // the same name inside a nested value is no duplicate (but a nested value is no string)
    throwsCode(
      () => parseParameterJson('{"a":{"a":"1"}}', 'P'),
      'InvalidParameterValue.ParameterValueNotString',
    );
  });

  test('names: letters, digits, "-" and "_", at most 64 characters', () => {
    assert.deepEqual(Object.keys(parseParameterJson(`{"${'x'.repeat(64)}":"1"}`, 'P')), ['x'.repeat(64)]);
    throwsCode(
      () => parseParameterJson(`{"${'x'.repeat(65)}":"1"}`, 'P'),
      'InvalidParameterValue.ParameterKeyLenExceeded',
    );
    for (const name of ['a b', 'a.b', 'a:b', 'ä', '', 'tat-hidden:a'])
      throwsCode(
        () => parseParameterJson(JSON.stringify({ [name]: '1' }), 'P'),
        'InvalidParameterValue.ParameterKeyContainsInvalidChar',
      );
  });

  test('at most 20 parameters → ParameterNumberExceeded', () => {
    assert.equal(Object.keys(parseParameterJson(many(20), 'P')).length, 20);
    throwsCode(() => parseParameterJson(many(21), 'P'), 'InvalidParameterValue.ParameterNumberExceeded');
  });

  test('the message names the field', () => {
    assert.throws(() => parseParameterJson('x', 'DefaultParameters'), /DefaultParameters/);
  });
});

describe('parseParameterConfs', () => {
  test('the defaults the confs define', () => {
    assert.deepEqual(
      parseParameterConfs([
        { ParameterName: 'a', ParameterValue: '1', ParameterDescription: 'd' },
        { ParameterName: 'b', ParameterValue: '' },
      ]),
      { a: '1', b: '' },
    );
    assert.deepEqual(parseParameterConfs([]), {});
  });

  test('the same rules as the JSON form', () => {
    const conf = (ParameterName: string) => ({ ParameterName, ParameterValue: 'v' });
    throwsCode(
      () => parseParameterConfs([conf('a'), conf('a')]),
      'InvalidParameterValue.ParameterKeyDuplicated',
    );
    throwsCode(
      () => parseParameterConfs([conf('a/b')]),
      'InvalidParameterValue.ParameterKeyContainsInvalidChar',
    );
    throwsCode(
      () => parseParameterConfs([conf('n'.repeat(65))]),
      'InvalidParameterValue.ParameterKeyLenExceeded',
    );
    throwsCode(
      () => parseParameterConfs(Array.from({ length: 21 }, (_, i) => conf(`p${i}`))),
      'InvalidParameterValue.ParameterNumberExceeded',
    );
  });
});

describe('placeholders', () => {
  test('each name once, hidden when any of its occurrences is hidden', () => {
    assert.deepEqual(findPlaceholders('{{a}} {{tat-hidden:b}} {{a}} {{tat-hidden:a}} {{c-d_1}}'), [
      { name: 'a', hidden: true },
      { name: 'b', hidden: true },
      { name: 'c-d_1', hidden: false },
    ]);
  });

  test('only {{name}} and {{tat-hidden:name}} are placeholders', () => {
    assert.deepEqual(findPlaceholders('{{ a }} {a} {{a.b}} {{}} {{other:x}} {{tat-hidden:}} $a ${a}'), []);
  });

  test('substitute replaces what has a value and leaves the rest as written', () => {
    assert.equal(substitute('ls {{a}}\necho {{b}} {{c}}', { a: '123' }), 'ls 123\necho {{b}} {{c}}');
    assert.equal(substitute('{{tat-hidden:pw}} {{pw}}', { pw: 's3' }), 's3 s3');
    assert.equal(substitute('no placeholders', { a: '1' }), 'no placeholders');
  });

  test('values go in literally: no "$" patterns, no second round of substitution', () => {
    assert.equal(substitute('x={{a}}', { a: "$& $1 $$ $'" }), "x=$& $1 $$ $'");
    assert.equal(substitute('{{a}} {{b}}', { a: '{{b}}', b: 'B' }), '{{b}} B');
  });

  test('a value named like an Object.prototype member is not taken from the prototype', () => {
    assert.equal(substitute('{{constructor}} {{toString}}', {}), '{{constructor}} {{toString}}');
  });
});

describe('recordedParameters', () => {
  test('"" when there are none', () => {
    assert.equal(recordedParameters({}, 'echo {{a}}'), '');
  });

  test('hidden values are masked, the others shown', () => {
    const recorded = recordedParameters(
      { user: 'u', pw: 'secret', extra: 'e' },
      'login {{user}} {{tat-hidden:pw}}',
    );
    assert.deepEqual(JSON.parse(recorded), { user: 'u', pw: HIDDEN_MASK, extra: 'e' });
    assert.equal(HIDDEN_MASK, '******');
    assert.doesNotMatch(recorded, /secret/);
  });
});

describe('resolveRunParameters', () => {
  test("the call's values over the defaults", () => {
    assert.deepEqual(resolveRunParameters('{{a}} {{b}}', { a: '1', b: '2' }, { b: 'x', c: 'y' }), {
      a: '1',
      b: 'x',
      c: 'y',
    });
  });

  test('every placeholder needs a value → LackOfParameterInfo naming the missing ones', () => {
    throwsCode(
      () => resolveRunParameters('{{a}} {{b}} {{tat-hidden:c}}', { a: '1' }, {}),
      'InvalidParameterValue.LackOfParameterInfo',
    );
    assert.throws(() => resolveRunParameters('{{a}} {{b}} {{tat-hidden:c}}', { a: '1' }, {}), /"b", "c"/);
    assert.deepEqual(resolveRunParameters('no placeholders', {}, {}), {});
  });
});
