import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireNativeBackend, tfjsNodeNeedsPatch } from './backend';

test('the installed tfjs-node runs on this Node.js: patched where util.isNullOrUndefined is gone', () => {
  assert.equal(tfjsNodeNeedsPatch(), false);
  assert.equal(requireNativeBackend().backend, 'tensorflow');
});

test('an unpatched tfjs-node is recognised only on a Node.js without util.isNullOrUndefined', () => {
  const unpatched = () => 'if ((0, util_1.isNullOrUndefined)(tensors)) {';
  const patched = () => 'if ((tensors == null)) {';
  assert.equal(tfjsNodeNeedsPatch({}, unpatched), true);
  assert.equal(tfjsNodeNeedsPatch({}, patched), false);
  assert.equal(tfjsNodeNeedsPatch({ isNullOrUndefined: (x: unknown) => x == null }, unpatched), false);
});
