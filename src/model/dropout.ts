/**
 * Dropout whose masks are repeatable from a seed yet new at every step, as Keras' is. Built by
 * `kerasLayers().Dropout` (keras.ts); the graph engine draws its masks from the same stream.
 */
import { tf } from '../core/backend';
import { Rng, createRng } from '../core/random';

interface SeededDropoutConfig {
  rate: number;
  seed: number;
  name?: string;
}

/**
 * Dropout whose masks are repeatable from a seed yet new at every step. tfjs' own Dropout layer,
 * given a seed, draws the SAME mask on every call (tfjs-core's dropout builds a fresh
 * seedrandom.alea(seed) each time), which silently turns dropout into a fixed pruning of the
 * layer; without a seed it cannot be repeated. Keras advances a seed generator per call; this
 * layer does the same: a seeded stream hands each call its own mask seed.
 */
export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private rng: Rng;

  constructor(config: SeededDropoutConfig) {
    super({ name: config.name });
    if (!(config.rate >= 0 && config.rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${config.rate}`);
    this.rate = config.rate;
    this.seed = config.seed;
    this.rng = createRng(config.seed);
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return tf.dropout(x, this.rate, undefined, this.nextMaskSeed());
  }

  /** The seed of the next mask; the graph training path draws its masks from it too. */
  nextMaskSeed(): number {
    // tfjs treats seed 0 as "unseeded", so mask seeds start at 1.
    return 1 + this.rng.int(2 ** 31 - 1);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);
