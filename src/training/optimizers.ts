/**
 * The optimizers both engines train with, each update rule written once. A rule is written against
 * `Ops`, a handful of element-wise operations that exist both on tfjs tensors (the eager engine)
 * and as graph nodes (the graph engine), so the same lines compute Keras' Adam op by op or emit it
 * into the TensorFlow graph. The state of every optimizer (Adam's moments, momentum's
 * accumulator, its step count) lives here only, in `optimizerState`, so either engine continues
 * where the other stopped.
 *
 * Adam follows Keras (keras/src/optimizers/adam.py), which puts ε outside the bias correction
 * where tfjs' AdamOptimizer puts it inside; the others follow the tfjs optimizer the notebook
 * created (tfjs-core/src/optimizers), so `tf.train.momentum(0.01, 0.9)` means what tfjs says.
 */
import { tf } from '../core/backend';
import type { GraphBuilder } from './graph-builder';

/** Element-wise arithmetic on tensors (eager) or on graph node names (graph). */
export interface Ops<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  sqrt(a: T): T;
  square(a: T): T;
  scalar(x: number): T;
}

export const eagerOps: Ops<tf.Tensor> = {
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  sqrt: (a) => tf.sqrt(a),
  square: (a) => tf.square(a),
  scalar: (x) => tf.scalar(x),
};

export function graphOps(g: GraphBuilder): Ops<string> {
  return {
    add: (a, b) => g.f('AddV2', [a, b]),
    sub: (a, b) => g.f('Sub', [a, b]),
    mul: (a, b) => g.f('Mul', [a, b]),
    div: (a, b) => g.f('RealDiv', [a, b]),
    sqrt: (a) => g.f('Sqrt', [a]),
    square: (a) => g.f('Square', [a]),
    scalar: (x) => g.scalar(x),
  };
}

type Settings = Record<string, number | boolean>;

/** One optimizer: its settings, its state and its update, for both engines. */
export interface OptimizerRule {
  /** Slots kept per weight: Adam's m and v, momentum's accumulator. */
  readonly slots: number;
  /** The settings read from a tfjs optimizer, or why the engines cannot train it. */
  settings(optimizer: tf.Optimizer): Settings | string;
  /** Scalars that change with the step t (1, 2, …), computed on the host and fed to `update`. */
  stepScalars(s: Settings, t: number): number[];
  /** New weights and slots from the gradient: the rule itself, for tensors and for graph nodes alike. */
  update<T>(ops: Ops<T>, s: Settings, w: T, g: T, slots: T[], scalars: T[]): { w: T; slots: T[] };
  /**
   * The same update as TensorFlow's own fused kernel, in place on the graph engine's resource
   * variables (the weight's and its slots'), given the gradient and the step scalars' graph
   * inputs; returns the op. Optional: without it the graph engine emits `update` and assigns.
   */
  graphApply?(g: GraphBuilder, s: Settings, w: string, slots: string[], grad: string, scalars: string[]): string;
}

const num = (s: Settings, key: string) => s[key] as number;
const field = (optimizer: tf.Optimizer, key: string) => (optimizer as unknown as Record<string, unknown>)[key];

/**
 * The learning rate as a step scalar rather than a constant of the rule: fed every step, so a
 * change between epochs (ReduceLROnPlateau, OptimizerState.setLearningRate) reaches both engines,
 * the graph one included, without building its graph again.
 */
const learningRateScalar = (s: Settings): number[] => [num(s, 'learningRate')];

/** The rules by tfjs class name (optimizer.getClassName()). */
export const OPTIMIZER_RULES: Readonly<Record<string, OptimizerRule>> = {
  Adam: {
    slots: 2,
    settings: (o) => ({ learningRate: field(o, 'learningRate') as number, beta1: field(o, 'beta1') as number, beta2: field(o, 'beta2') as number, epsilon: field(o, 'epsilon') as number }),
    // lr_t = lr · √(1 − β2^t) / (1 − β1^t)
    stepScalars: (s, t) => [(num(s, 'learningRate') * Math.sqrt(1 - num(s, 'beta2') ** t)) / (1 - num(s, 'beta1') ** t)],
    update(ops, s, w, g, [m, v], [lrT]) {
      // m ← m + (g − m)(1 − β1);  v ← v + (g² − v)(1 − β2);  w ← w − lr_t · m / (√v + ε)
      const m2 = ops.add(m, ops.mul(ops.sub(g, m), ops.scalar(1 - num(s, 'beta1'))));
      const v2 = ops.add(v, ops.mul(ops.sub(ops.square(g), v), ops.scalar(1 - num(s, 'beta2'))));
      const w2 = ops.sub(w, ops.div(ops.mul(m2, lrT), ops.add(ops.sqrt(v2), ops.scalar(num(s, 'epsilon')))));
      return { w: w2, slots: [m2, v2] };
    },
    graphApply(g, s, w, [m, v], grad, [lrT]) {
      // TensorFlow's Adam kernel computes α = lr · √(1 − β2_power) / (1 − β1_power) and then the
      // three lines above, in that order. With both powers fed as 0, α is the lr_t computed here.
      const zero = g.scalar(0);
      return g.op('ResourceApplyAdam', [w, m, v, zero, zero, lrT, g.scalar(num(s, 'beta1')), g.scalar(num(s, 'beta2')), g.scalar(num(s, 'epsilon')), grad], {
        ...g.T, use_locking: g.attrBool(false), use_nesterov: g.attrBool(false),
      });
    },
  },
  SGD: {
    slots: 0,
    settings: (o) => ({ learningRate: field(o, 'learningRate') as number }),
    stepScalars: learningRateScalar,
    update: (ops, s, w, g, _slots, [lr]) => ({ w: ops.sub(w, ops.mul(g, lr)), slots: [] }),
  },
  Momentum: {
    slots: 1,
    settings: (o) => ({ learningRate: field(o, 'learningRate') as number, momentum: field(o, 'momentum') as number, useNesterov: Boolean(field(o, 'useNesterov')) }),
    stepScalars: learningRateScalar,
    update(ops, s, w, g, [acc], [lr]) {
      // acc ← momentum · acc + g;  w ← w − lr · acc  (Nesterov: w ← w − lr · (g + momentum · acc))
      const acc2 = ops.add(ops.mul(acc, ops.scalar(num(s, 'momentum'))), g);
      const step = s.useNesterov ? ops.add(g, ops.mul(acc2, ops.scalar(num(s, 'momentum')))) : acc2;
      return { w: ops.sub(w, ops.mul(step, lr)), slots: [acc2] };
    },
  },
  RMSProp: {
    slots: 2,
    settings: (o) => (field(o, 'centered')
      ? 'centered RMSprop has no rule yet'
      : { learningRate: field(o, 'learningRate') as number, decay: field(o, 'decay') as number, momentum: field(o, 'momentum') as number, epsilon: field(o, 'epsilon') as number }),
    stepScalars: learningRateScalar,
    update(ops, s, w, g, [ms, mom], [lr]) {
      // ms ← decay · ms + (1 − decay) · g²;  mom ← momentum · mom + lr · g / √(ms + ε);  w ← w − mom
      const ms2 = ops.add(ops.mul(ms, ops.scalar(num(s, 'decay'))), ops.mul(ops.square(g), ops.scalar(1 - num(s, 'decay'))));
      const lrG = ops.mul(g, lr);
      const mom2 = ops.add(ops.mul(mom, ops.scalar(num(s, 'momentum'))), ops.div(lrG, ops.sqrt(ops.add(ms2, ops.scalar(num(s, 'epsilon'))))));
      return { w: ops.sub(w, mom2), slots: [ms2, mom2] };
    },
  },
};

/** The rule for `optimizer` and its settings, or why the engines cannot train it. */
export function optimizerRule(optimizer: tf.Optimizer): { rule: OptimizerRule; settings: Settings } | { reason: string } {
  const name = optimizer.getClassName();
  const rule = OPTIMIZER_RULES[name];
  if (!rule) return { reason: `optimizer ${name} has no rule yet (rules: ${Object.keys(OPTIMIZER_RULES).join(', ')})` };
  const settings = rule.settings(optimizer);
  return typeof settings === 'string' ? { reason: settings } : { rule, settings };
}

/**
 * An optimizer's state for one list of weights: each slot as one flat vector over all weights
 * (the rules are element-wise, so one vector gives the same numbers as one update per weight,
 * with far fewer TensorFlow ops per step), and the step count.
 */
export class OptimizerState {
  slots: tf.Tensor1D[];
  step = 0;
  readonly sizes: number[];

  constructor(readonly rule: OptimizerRule, readonly settings: Settings, readonly variables: tf.Variable[]) {
    this.sizes = variables.map((v) => v.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.slots = Array.from({ length: rule.slots }, () => tf.keep(tf.zeros([total])) as tf.Tensor1D);
  }

  /** The learning rate the next step uses. */
  get learningRate(): number {
    return num(this.settings, 'learningRate');
  }

  /** Sets the learning rate from the next step on, for both engines (it is one of the step scalars). */
  setLearningRate(lr: number): void {
    this.settings.learningRate = lr;
  }

  /** Advances the step count and returns that step's scalars. */
  nextStep(): number[] {
    this.step += 1;
    return this.rule.stepScalars(this.settings, this.step);
  }

  /** Takes new slots (tensors the caller hands over) in place of the old ones. */
  replaceSlots(slots: tf.Tensor[]): void {
    tf.dispose(this.slots);
    this.slots = slots.map((s) => tf.keep(s) as tf.Tensor1D);
  }

  /** The eager update: the rule on tfjs tensors, given the gradients in the order of `variables`. */
  applyEager(grads: tf.Tensor[]): void {
    const scalars = this.nextStep();
    const [w, slots] = tf.tidy(() => {
      const flat = (ts: tf.Tensor[]) => tf.concat(ts.map((t) => tf.reshape(t, [-1])));
      const out = this.rule.update(eagerOps, this.settings, flat(this.variables), flat(grads), this.slots, scalars.map((x) => tf.scalar(x)));
      const parts = tf.split(out.w, this.sizes);
      return [this.variables.map((v, i) => tf.reshape(parts[i], v.shape)), out.slots] as const;
    });
    this.replaceSlots(slots as tf.Tensor[]);
    this.variables.forEach((v, i) => {
      v.assign(w[i]);
      w[i].dispose();
    });
  }

  dispose(): void {
    tf.dispose(this.slots);
    this.slots = [];
  }
}

const states = new WeakMap<tf.Optimizer, OptimizerState>();

/**
 * The state `optimizer` keeps for `variables`, created on first use and kept across fit calls and
 * engines, as tfjs keeps its own slots; another list of variables starts afresh. It is freed with
 * the optimizer: the first use wraps `optimizer.dispose()` so that it frees this state too.
 */
export function optimizerState(optimizer: tf.Optimizer, rule: OptimizerRule, settings: Settings, variables: tf.Variable[]): OptimizerState {
  const existing = states.get(optimizer);
  if (existing && existing.variables.length === variables.length && existing.variables.every((v, i) => v === variables[i])) {
    return existing;
  }
  if (existing) {
    existing.dispose();
  } else {
    const dispose = optimizer.dispose.bind(optimizer);
    optimizer.dispose = () => {
      states.get(optimizer)?.dispose();
      states.delete(optimizer);
      dispose();
    };
  }
  const created = new OptimizerState(rule, settings, variables);
  states.set(optimizer, created);
  return created;
}
