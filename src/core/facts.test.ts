import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { hyperparameters } from './config';
import { FACTS_ENV, modelIdOf, readFacts, recordFact } from './facts';

test('facts go to the file FMNIST_FACTS names, one JSON line each, and nowhere without it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-facts-test-'));
  try {
    const file = path.join(dir, 'facts.jsonl');
    recordFact({ kind: 'backend', description: 'x' }, {});
    assert.equal(fs.existsSync(file), false);
    const env = { [FACTS_ENV]: file };
    recordFact({ kind: 'backend', description: 'TensorFlow.js' }, env);
    // hyperparameters() records the values in force, command-line overrides included.
    const set = hyperparameters({ epochs: 3 }, { ...env, FMNIST_OVERRIDES: '{"batchSize":64}' });
    const facts = readFacts(file);
    assert.equal(facts.length, 2);
    assert.deepEqual(facts[0], { kind: 'backend', description: 'TensorFlow.js' });
    assert.equal(facts[1].kind, 'hyperparameters');
    if (facts[1].kind === 'hyperparameters') {
      assert.deepEqual(facts[1].values, { ...set.values });
      assert.equal(facts[1].values.epochs, 3);
      assert.deepEqual(facts[1].overridden, ['batchSize']);
    }
    fs.appendFileSync(file, 'not json\n');
    assert.throws(() => readFacts(file), /facts\.jsonl: line 3 is not a run fact/);
    assert.throws(() => recordFact({ kind: 'backend', description: 'x' }, { [FACTS_ENV]: path.join(dir, 'no', 'such', 'file') }), /FMNIST_FACTS .*cannot record a fact/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('modelIdOf: one number per object, in order of first sight', () => {
  const [a, b] = [{}, {}];
  const first = modelIdOf(a);
  assert.equal(modelIdOf(b), first + 1);
  assert.equal(modelIdOf(a), first);
});
