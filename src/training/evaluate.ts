/**
 * Measuring a trained model: Keras' `model.evaluate` and the analysis beyond the seed (confusion
 * matrix, per-class accuracy, the most confident mistakes). Computing only; drawing lives in
 * figures.ts. Introduced in notebook 01, step 10, and notebook 02.
 */
import { tf } from '../core/backend';
import { modelIdOf, recordFact, runNameOf } from '../core/facts';
import { NUM_CLASSES } from '../data/labels';
import { evaluateInBatches } from './fit';

/** `[loss, accuracy]`, the list `model.evaluate(test_X, test_Y, verbose=0)` returns in the seed. */
export function evaluate(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor1D, batchSize = 1000): [number, number] {
  if (x.shape[0] !== y.shape[0]) throw new Error(`evaluate: x has ${x.shape[0]} images but y has ${y.shape[0]} labels`);
  const { loss, acc } = evaluateInBatches(model, x, y, batchSize);
  // For the teaching site's index (core/facts.ts); a no-op outside `npm run export`.
  recordFact({
    kind: 'evaluation', model: model.name, run: runNameOf(model), modelId: modelIdOf(model), params: model.countParams(), loss, accuracy: acc,
    testImages: x.shape[0],
  });
  return [loss, acc];
}

/** Class probabilities for every image, (N × 10) row-major, in batches. */
export function predictProbabilities(model: tf.LayersModel, x: tf.Tensor, batchSize = 1000): Float32Array {
  const n = x.shape[0];
  const out = new Float32Array(n * NUM_CLASSES);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const probs = tf.tidy(() => (model.predict(x.slice(start, size)) as tf.Tensor).dataSync() as Float32Array);
    out.set(probs, start * NUM_CLASSES);
  }
  return out;
}

/** The most probable class of each row of an (N × 10) probability array. */
export function argmaxRows(probs: Float32Array, classes = NUM_CLASSES): Int32Array {
  const n = probs.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** matrix[true][predicted] = count. Row i sums to the number of images of class i. */
export function confusionMatrix(trueLabels: ArrayLike<number>, predicted: ArrayLike<number>, classes = NUM_CLASSES): number[][] {
  if (trueLabels.length !== predicted.length) {
    throw new Error(`confusionMatrix: ${trueLabels.length} labels but ${predicted.length} predictions`);
  }
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < trueLabels.length; i++) m[trueLabels[i]][predicted[i]]++;
  return m;
}

/** Accuracy of each class: the diagonal over the row sums. */
export function perClassAccuracy(matrix: number[][]): number[] {
  return matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : row[i] / total;
  });
}

export interface Mistake {
  index: number;
  trueLabel: number;
  predicted: number;
  /** Probability the model gave its (wrong) prediction. */
  confidence: number;
  /** Probability it gave the true class. */
  trueProbability: number;
}

/** The misclassified images, most confident first. */
export function mistakes(trueLabels: ArrayLike<number>, probs: Float32Array, limit = 16, classes = NUM_CLASSES): Mistake[] {
  const predicted = argmaxRows(probs, classes);
  const out: Mistake[] = [];
  for (let i = 0; i < predicted.length; i++) {
    if (predicted[i] !== trueLabels[i]) {
      out.push({
        index: i,
        trueLabel: trueLabels[i],
        predicted: predicted[i],
        confidence: probs[i * classes + predicted[i]],
        trueProbability: probs[i * classes + trueLabels[i]],
      });
    }
  }
  return out.sort((a, b) => b.confidence - a.confidence).slice(0, limit);
}
