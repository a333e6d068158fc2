/**
 * A small seeded random generator (mulberry32) for everything the project shuffles or draws in
 * JavaScript: batch order, augmentation parameters. Same seed, same sequence, on every machine.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  /** Integer in [0, n). */
  int(n: number): number;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (low, high) => low + (high - low) * next(),
    int: (n) => Math.floor(next() * n),
  };
}

/** Fisher-Yates shuffle of 0..n-1 (or of the given indices, in place). */
export function shuffledIndices(n: number, rng: Rng, into: Int32Array = new Int32Array(n)): Int32Array {
  for (let i = 0; i < n; i++) into[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = into[i];
    into[i] = into[j];
    into[j] = t;
  }
  return into;
}
