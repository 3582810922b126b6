// The error-code catalogue (tat/error-codes.ts): which codes an action may answer, and the nearest
// documented code a shared rule falls back to.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACTION_ERROR_CODES,
  ACTION_NAMES,
  COMMON_ERROR_CODES,
  documentedCodeFor,
  isDocumentedCode,
  TAT_ERROR_CODES,
} from '../../tat/error-codes.js';

describe('the catalogue', () => {
  test('the 29 actions of the SDKs', () => {
    assert.equal(ACTION_NAMES.length, 29);
    assert.ok(ACTION_NAMES.includes('PreviewReplacedCommandContent'));
    assert.ok(ACTION_NAMES.includes('DescribeQuotas'));
  });

  test('every code listed for an action is a known TAT code, and no action lists one twice', () => {
    for (const [action, codes] of Object.entries(ACTION_ERROR_CODES)) {
      for (const c of codes) assert.ok(Object.hasOwn(TAT_ERROR_CODES, c), `${action}: ${c}`);
      assert.equal(new Set(codes).size, codes.length, action);
    }
  });
});

describe('isDocumentedCode', () => {
  test('common codes are documented for every action', () => {
    for (const a of ACTION_NAMES)
      for (const c of COMMON_ERROR_CODES) assert.ok(isDocumentedCode(a, c), `${a}: ${c}`);
  });

  test("an action's own codes, and not another action's", () => {
    assert.ok(isDocumentedCode('CreateCommand', 'InvalidParameterValue.CommandNameDuplicated'));
    assert.ok(isDocumentedCode('InvokeCommand', 'InvalidParameter.InvalidUsername'));
    assert.equal(isDocumentedCode('InvokeCommand', 'InvalidParameterValue.InvalidUsername'), false);
    assert.equal(isDocumentedCode('DescribeCommands', 'InvalidParameterValue.LimitExceeded'), false);
    assert.equal(isDocumentedCode('DescribeRegions', 'ResourceNotFound.CommandNotFound'), false);
    assert.equal(isDocumentedCode('CreateCommand', 'NoSuch.Code'), false);
  });
});

describe('documentedCodeFor', () => {
  test('a documented code stays as it is', () => {
    assert.equal(
      documentedCodeFor('DescribeInvocations', 'InvalidParameterValue.LimitExceeded'),
      'InvalidParameterValue.LimitExceeded',
    );
    assert.equal(documentedCodeFor('CreateCommand', 'MissingParameter'), 'MissingParameter');
  });

  test('an undocumented one becomes its nearest documented parent', () => {
    assert.equal(
      documentedCodeFor('DescribeCommands', 'InvalidParameterValue.LimitExceeded'),
      'InvalidParameterValue',
    );
    assert.equal(documentedCodeFor('InvokeCommand', 'InvalidParameterValue.Range'), 'InvalidParameterValue');
    assert.equal(
      documentedCodeFor('CreateCommand', 'InvalidParameter.ConflictParameter'),
      'InvalidParameter',
    );
    assert.equal(
      documentedCodeFor('DescribeRegions', 'ResourceNotFound.CommandNotFound'),
      'ResourceNotFound',
    );
    assert.equal(
      documentedCodeFor('DescribeQuotas', 'ResourceUnavailable.UserHasNoQuotaCode'),
      'ResourceUnavailable',
    );
  });

  test('a code with no documented parent is left alone', () => {
    assert.equal(documentedCodeFor('CreateCommand', 'Nothing.Known.Here'), 'Nothing.Known.Here');
  });

  test('for every action and TAT code: the nearest documented of the code and its parents', () => {
    for (const a of ACTION_NAMES)
      for (const c of Object.keys(TAT_ERROR_CODES)) {
        const parts = c.split('.');
        const chain = parts.map((_, i) => parts.slice(0, parts.length - i).join('.'));
        const nearest = chain.find((x) => isDocumentedCode(a, x)) ?? c;
        assert.equal(documentedCodeFor(a, c), nearest, `${a}: ${c}`);
      }
  });
});
