import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLASS_NAMES_EN, CLASS_NAMES_KO, labelName } from './labels';

test('ten classes in both languages, named as the seed names them', () => {
  assert.equal(CLASS_NAMES_KO.length, 10);
  assert.equal(CLASS_NAMES_EN.length, 10);
  assert.equal(labelName(9), '9 부츠 (Ankle boot)');
  assert.throws(() => labelName(10), /0\.\.9/);
});
