import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyTransform,
  augmentCopies,
  augmentDataset,
  augmentOptionsFrom,
  IDENTITY_TRANSFORM,
  ImageDataGenerator,
  randomTransform,
  transformMatrix,
  type AugmentOptions,
  type TransformParams,
} from './augment';
import { DEFAULT_HYPERPARAMETERS } from '../core/config';
import { createRng } from '../core/random';

/** The seed's ImageDataGenerator settings. */
const SEED_OPTIONS: AugmentOptions = {
  rotationRange: 10,
  zoomRange: 0.1,
  shearRange: 0.5,
  widthShiftRange: 0.1,
  heightShiftRange: 0.1,
  horizontalFlip: true,
  verticalFlip: false,
};

const params = (p: Partial<TransformParams>): TransformParams => ({ ...IDENTITY_TRANSFORM, ...p });

/** A rows×cols image from a function of (row, col). */
function pattern(rows: number, cols: number, f: (i: number, j: number) => number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = f(i, j);
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let k = 0; k < expected.length; k++) {
    assert.ok(Math.abs(actual[k] - expected[k]) <= tolerance, `${what}: value ${k} is ${actual[k]}, expected ${expected[k]}`);
  }
}

/** 5×5 ramp 0..24, row-major: distinct values, no symmetry. */
const RAMP = pattern(5, 5, (i, j) => i * 5 + j);

test('the identity transform returns the image exactly, in every fill mode and order', () => {
  const image = pattern(28, 28, (i, j) => Math.sin(i * 0.7 + j * 0.3) * 0.5 + 0.5);
  for (const fillMode of ['nearest', 'constant', 'reflect', 'wrap'] as const) {
    for (const interpolationOrder of [0, 1] as const) {
      const out = applyTransform(image, 28, 28, IDENTITY_TRANSFORM, { fillMode, interpolationOrder, cval: 0.5 });
      assert.deepEqual(out, image);
      assert.notEqual(out, image, 'a new array, not the input');
    }
  }
});

test('tx = -1 moves the content one column to the right (Keras: tx is horizontal), nearest fill copies the edge', () => {
  // The matrix maps output to input: output(i, j) = input(i, j + tx), so tx = -1 reads the
  // column to the left. In Keras tx is drawn from height_shift_range yet moves columns.
  const expected = pattern(5, 5, (i, j) => i * 5 + Math.max(j - 1, 0));
  for (const interpolationOrder of [0, 1] as const) {
    assert.deepEqual(applyTransform(RAMP, 5, 5, params({ tx: -1 }), { interpolationOrder }), expected);
  }
  // ty moves the rows: ty = +1 reads the row below, so the content moves up.
  assert.deepEqual(applyTransform(RAMP, 5, 5, params({ ty: 1 })), pattern(5, 5, (i, j) => Math.min(i + 1, 4) * 5 + j));
});

test('a half-pixel shift averages neighbours with order 1 and rounds half up with order 0', () => {
  // output(i, j) = input(i, j - 0.5): order 1 is the mean of columns j-1 and j; order 0 rounds
  // j - 0.5 up to column j, so the image is unchanged.
  const bilinear = applyTransform(RAMP, 5, 5, params({ tx: -0.5 }), { interpolationOrder: 1 });
  assert.deepEqual(bilinear, pattern(5, 5, (i, j) => i * 5 + (j === 0 ? 0 : j - 0.5)));
  assert.deepEqual(applyTransform(RAMP, 5, 5, params({ tx: -0.5 }), { interpolationOrder: 0 }), RAMP);
  // And constant fill with cval brings in the constant where the input coordinate is outside.
  const constant = applyTransform(RAMP, 5, 5, params({ tx: -1 }), { fillMode: 'constant', cval: -7 });
  assert.deepEqual(constant, pattern(5, 5, (i, j) => (j === 0 ? -7 : i * 5 + j - 1)));
});

test('horizontal flip mirrors the columns, vertical flip the rows, both after the warp', () => {
  assert.deepEqual(applyTransform(RAMP, 5, 5, params({ flipHorizontal: true })), pattern(5, 5, (i, j) => i * 5 + 4 - j));
  assert.deepEqual(applyTransform(RAMP, 5, 5, params({ flipVertical: true })), pattern(5, 5, (i, j) => (4 - i) * 5 + j));
  // Shift then flip: the flipped result of "content moved right" is "content moved left" with the
  // replicated column on the left-hand side after mirroring, i.e. at column 4.
  const shiftedThenFlipped = applyTransform(RAMP, 5, 5, params({ tx: -1, flipHorizontal: true }));
  assert.deepEqual(shiftedThenFlipped, pattern(5, 5, (i, j) => i * 5 + Math.max(4 - j - 1, 0)));
});

test('theta = +90 turns the displayed image counter-clockwise (like np.rot90), -90 clockwise', () => {
  // From the matrix: input col = cos·x - sin·y, input row = sin·x + cos·y about the centre, with
  // x the column and y the row of the OUTPUT. For 90°: input col = -y, input row = x, so
  // output(i, j) = input(j, n-1-i) — the top edge of the input becomes the left edge.
  const ccw = pattern(5, 5, (i, j) => RAMP[j * 5 + (4 - i)]);
  assertClose(applyTransform(RAMP, 5, 5, params({ theta: 90 })), ccw, 1e-5, 'theta 90');
  // The top row 0..4 ends up as the left column read bottom to top.
  const out = applyTransform(RAMP, 5, 5, params({ theta: 90 }));
  assert.deepEqual(Array.from({ length: 5 }, (_, i) => Math.round(out[i * 5])), [4, 3, 2, 1, 0]);
  const cw = pattern(5, 5, (i, j) => RAMP[(4 - j) * 5 + i]);
  assertClose(applyTransform(RAMP, 5, 5, params({ theta: -90 })), cw, 1e-5, 'theta -90');
});

test('zx = zy = 2 zooms OUT (content half as large), 0.5 zooms in', () => {
  // 8×8 zeros with a centred 4×4 block of ones (rows and cols 2..5). Output pixel i reads input
  // 2(i - 3.5) + 3.5 = 2i - 3.5, which lands inside the block only for i = 3, 4.
  const block = pattern(8, 8, (i, j) => (i >= 2 && i <= 5 && j >= 2 && j <= 5 ? 1 : 0));
  const out = applyTransform(block, 8, 8, params({ zx: 2, zy: 2 }));
  assert.deepEqual(out, pattern(8, 8, (i, j) => (i >= 3 && i <= 4 && j >= 3 && j <= 4 ? 1 : 0)));
  const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);
  assert.ok(sum(applyTransform(block, 8, 8, params({ zx: 0.5, zy: 0.5 }))) > sum(block) * 2, 'zoom 0.5 enlarges');
});

test('zx scales the columns and zy the rows', () => {
  const block = pattern(8, 8, (i, j) => (i >= 2 && i <= 5 && j >= 2 && j <= 5 ? 1 : 0));
  // Only the columns shrink: rows 2..5 stay, columns narrow to 3..4.
  assert.deepEqual(
    applyTransform(block, 8, 8, params({ zx: 2 })),
    pattern(8, 8, (i, j) => (i >= 2 && i <= 5 && j >= 3 && j <= 4 ? 1 : 0)),
  );
});

test("'nearest' fill replicates the border: no zeros appear from outside the image", () => {
  const image = pattern(28, 28, (i, j) => 0.2 + 0.8 * ((i * 3 + j * 5) % 17) / 16);
  const hard = params({ theta: 45, tx: 6, ty: -5, shear: 20, zx: 1.6, zy: 1.4 });
  const nearest = applyTransform(image, 28, 28, hard);
  assert.ok(Math.min(...nearest) >= 0.2, 'every value comes from the image');
  const constant = applyTransform(image, 28, 28, hard, { fillMode: 'constant' });
  assert.ok(constant.includes(0), 'constant fill does bring in zeros, so the check above can fail');
});

test('order 1 with nearest fill keeps values within [min, max] of the input', () => {
  const rng = createRng(3);
  const image = pattern(28, 28, () => rng.uniform(-1, 2));
  const lo = Math.min(...image);
  const hi = Math.max(...image);
  const generator = new ImageDataGenerator({ ...SEED_OPTIONS, rotationRange: 180, zoomRange: 0.5, shearRange: 30, seed: 5 });
  const out = generator.augment(image, 200);
  for (const v of out) assert.ok(v >= lo - 1e-6 && v <= hi + 1e-6, `${v} outside [${lo}, ${hi}]`);
});

test('a combined transform matches the formula at one pixel, worked by hand', () => {
  // Keras composes rotation · shift · shear · zoom about the centre (2.5, 2.5) of a 6×6 image and
  // applies it to the output coordinate (x = column, y = row). Worked out step by step for
  // output row 2, column 3: centred (x, y) = (0.5, -0.5).
  const p = params({ theta: 7.5, tx: 0.4, ty: -0.3, shear: 20, zx: 1.1, zy: 0.9 });
  const rad = Math.PI / 180;
  let x = 3 - 2.5;
  let y = 2 - 2.5;
  [x, y] = [p.zx * x, p.zy * y];
  [x, y] = [x - Math.sin(p.shear * rad) * y, Math.cos(p.shear * rad) * y];
  [x, y] = [x + p.tx, y + p.ty];
  [x, y] = [Math.cos(p.theta * rad) * x - Math.sin(p.theta * rad) * y, Math.sin(p.theta * rad) * x + Math.cos(p.theta * rad) * y];
  const col = x + 2.5;
  const row = y + 2.5;
  const image = pattern(6, 6, (i, j) => ((i * 7 + j * 3) % 11) / 10);
  const at = (i: number, j: number): number => image[i * 6 + j];
  const r0 = Math.floor(row);
  const c0 = Math.floor(col);
  const fr = row - r0;
  const fc = col - c0;
  const expected =
    (1 - fr) * ((1 - fc) * at(r0, c0) + fc * at(r0, c0 + 1)) + fr * ((1 - fc) * at(r0 + 1, c0) + fc * at(r0 + 1, c0 + 1));
  const out = applyTransform(image, 6, 6, p);
  assert.ok(Math.abs(out[2 * 6 + 3] - expected) < 1e-6, `${out[2 * 6 + 3]} vs ${expected}`);
  // The exported matrix agrees with the same arithmetic.
  const m = transformMatrix(p, 6, 6);
  assert.ok(m !== undefined);
  assert.ok(Math.abs(2 * m[0] + 3 * m[1] + m[2] - row) < 1e-12 && Math.abs(2 * m[3] + 3 * m[4] + m[5] - col) < 1e-12);
});

test('matches scipy.ndimage.affine_transform through Keras’ apply_affine_transform (reference numbers)', () => {
  // Produced once with numpy 2.4.6 / scipy 1.17.1 by a line-for-line transcription of
  // keras/src/legacy/preprocessing/image.py apply_affine_transform (channels_last, row_axis 0,
  // col_axis 1) followed by its flips, on float32 input. The same transcription matched this
  // module bit for bit on 240 random transforms across all fill modes, both orders and
  // non-square images.
  const image = pattern(6, 6, (i, j) => ((i * 7 + j * 3) % 11) / 10);
  const combined = params({ theta: 7.5, tx: 1.25, ty: -0.75, shear: 20, zx: 1.1, zy: 0.9, flipHorizontal: true });
  assertClose(applyTransform(image, 6, 6, combined), [
    0.2869013, 0.3443328, 0.4, 0.1992521, 0.7077991, 0.6448985, 0.05673955, 0.02500893, 0.08244045, 0.5623965, 0.6447067,
    0.4811876, 0.6155564, 0.5150512, 0.475418, 0.4704559, 0.3989896, 0.737174, 0.4289296, 0.4863611, 0.2962052, 0.2752438,
    0.8567146, 0.5869694, 0.63319, 0.4876021, 0.2748415, 0.6824639, 0.4127186, 0.5704587, 0.8902818, 0.7779585, 0.5033523,
    0.2384679, 0.61367, 0.7639453,
  ], 1e-6, 'nearest, order 1');
  assertClose(applyTransform(image, 6, 6, combined, { fillMode: 'constant', cval: 0.5, interpolationOrder: 0 }), [
    0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.8, 0.5, 0.6, 0.5, 0.5, 0.7, 0.5, 0.2, 1, 0.5, 0.5, 0.4, 0.1, 0.9, 0.6, 0.5,
    0.3, 0, 0.8, 0.5, 1, 0.5, 0.7, 0.4, 0.1, 0.9, 0.6,
  ], 1e-6, 'constant 0.5, order 0');
  assertClose(applyTransform(image, 6, 6, params({ theta: -30, flipVertical: true }), { fillMode: 'reflect' }), [
    0.675481, 0.4392305, 0.1290708, 0.5888784, 0.9405445, 0.5905445, 0.5254809, 0.493941, 0.335353, 0.4464746, 0.1990381,
    0.4803848, 0.7022759, 0.4745835, 0.5218911, 0.4955127, 0.3415064, 0.4822441, 0.8348721, 0.3025635, 0.7183012, 0.3629809,
    0.5379165, 0.4233984, 0.6156733, 0.4549038, 0.7232695, 0.2745191, 0.7047105, 0.1679492, 0.4660254, 0.6660254, 0.6545517,
    0.5005454, 0.7647114, 0.5679492,
  ], 1e-6, 'reflect, rotation -30, vertical flip');
  // Non-square 4×7: Keras offsets the columns by rows/2 - 0.5 = 1.5 (not 3), so zx = 0.5 reads
  // input column 0.5·j + 0.75 and the content does not stay centred. Kept because Keras does it.
  const wide = pattern(4, 7, (i, j) => i * 7 + j);
  assert.deepEqual(applyTransform(wide, 4, 7, params({ zx: 0.5 })), pattern(4, 7, (i, j) => i * 7 + 0.5 * j + 0.75));
});

test('draws follow Keras’ order: theta, tx, ty, shear, zx, zy, then both flips always', () => {
  const draw = randomTransform(SEED_OPTIONS, createRng(11), 28, 28);
  const r = createRng(11);
  const theta = r.uniform(-10, 10);
  const tx = r.uniform(-0.1, 0.1) * 28;
  const ty = r.uniform(-0.1, 0.1) * 28;
  const shear = r.uniform(-0.5, 0.5);
  const zx = r.uniform(0.9, 1.1);
  const zy = r.uniform(0.9, 1.1);
  const flipHorizontal = r.next() < 0.5;
  r.next();
  assert.deepEqual(draw, { theta, tx, ty, shear, zx, zy, flipHorizontal, flipVertical: false });
  // A range of 0 uses no draw, but the flip draws happen even when flipping is off.
  const rng = createRng(11);
  const onlyRotation = randomTransform({ rotationRange: 10 }, rng, 28, 28);
  const check = createRng(11);
  assert.equal(onlyRotation.theta, check.uniform(-10, 10));
  check.next();
  check.next();
  assert.equal(rng.next(), check.next());
});

test('drawn parameters stay within their ranges over 10,000 draws and use them', () => {
  const rng = createRng(2024);
  const n = 10000;
  let flips = 0;
  let verticalFlips = 0;
  let unequalZoom = 0;
  const extremes = { theta: 0, tx: 0, ty: 0, shear: 0, zlo: 1, zhi: 1 };
  for (let k = 0; k < n; k++) {
    const p = randomTransform(SEED_OPTIONS, rng, 28, 28);
    assert.ok(Math.abs(p.theta) <= 10, `theta ${p.theta}`);
    assert.ok(Math.abs(p.tx) <= 2.8 && Math.abs(p.ty) <= 2.8, `shift ${p.tx}, ${p.ty}`);
    // Shear is in degrees, as in Keras' parameter dict; converted, at most 0.5° = 0.00873 rad.
    assert.ok(Math.abs(p.shear) <= 0.5 && Math.abs(p.shear * Math.PI / 180) <= 0.5 * Math.PI / 180, `shear ${p.shear}`);
    assert.ok(p.zx >= 0.9 && p.zx <= 1.1 && p.zy >= 0.9 && p.zy <= 1.1, `zoom ${p.zx}, ${p.zy}`);
    if (p.zx !== p.zy) unequalZoom++;
    if (p.flipHorizontal) flips++;
    if (p.flipVertical) verticalFlips++;
    extremes.theta = Math.max(extremes.theta, Math.abs(p.theta));
    extremes.tx = Math.max(extremes.tx, Math.abs(p.tx));
    extremes.ty = Math.max(extremes.ty, Math.abs(p.ty));
    extremes.shear = Math.max(extremes.shear, Math.abs(p.shear));
    extremes.zlo = Math.min(extremes.zlo, p.zx, p.zy);
    extremes.zhi = Math.max(extremes.zhi, p.zx, p.zy);
  }
  assert.ok(flips / n > 0.47 && flips / n < 0.53, `horizontal flips ${flips / n}`);
  assert.equal(verticalFlips, 0);
  assert.equal(unequalZoom, n, 'zx and zy are drawn independently');
  // The whole range is used, so a range accidentally halved (or radians for degrees) would fail.
  assert.ok(extremes.theta > 9.9 && extremes.tx > 2.75 && extremes.ty > 2.75 && extremes.shear > 0.49, JSON.stringify(extremes));
  assert.ok(extremes.zlo < 0.905 && extremes.zhi > 1.095, JSON.stringify(extremes));
});

test('zoomRange as a pair, and [1, 1] draws nothing', () => {
  const p = randomTransform({ zoomRange: [1.5, 2] }, createRng(1), 28, 28);
  assert.ok(p.zx >= 1.5 && p.zx < 2 && p.zy >= 1.5 && p.zy < 2);
  const rng = createRng(1);
  assert.deepEqual(randomTransform({ zoomRange: [1, 1] }, rng, 28, 28), IDENTITY_TRANSFORM);
  const check = createRng(1);
  check.next();
  check.next();
  assert.equal(rng.next(), check.next(), 'only the two flip draws were used');
});

test('the same seed gives identical images, a different seed different ones', () => {
  const image = pattern(28, 28, (i, j) => ((i * 13 + j * 7) % 29) / 28);
  const a = augmentCopies(image, 100, { ...SEED_OPTIONS, seed: 42 });
  const b = augmentCopies(image, 100, { ...SEED_OPTIONS, seed: 42 });
  const c = augmentCopies(image, 100, { ...SEED_OPTIONS, seed: 43 });
  assert.equal(a.length, 100 * 784);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // One generator is one stream: a second call draws new transforms.
  const generator = new ImageDataGenerator({ ...SEED_OPTIONS, seed: 42 });
  const first = generator.augment(image, 100);
  assert.deepEqual(first, a);
  assert.notDeepEqual(generator.augment(image, 100), first);
  // The 100 copies are not all the same image.
  assert.notDeepEqual(a.subarray(0, 784), a.subarray(784, 1568));
});

test('augment cycles through several input images, one transform each', () => {
  const two = new Float32Array(2 * 784);
  two.fill(0.25, 0, 784);
  two.fill(0.75, 784);
  const out = new ImageDataGenerator({ ...SEED_OPTIONS, seed: 1 }).augment(two, 4);
  // Constant images stay constant under any warp with nearest fill.
  for (let k = 0; k < 4; k++) {
    const expected = k % 2 === 0 ? 0.25 : 0.75;
    assert.ok(out.subarray(k * 784, (k + 1) * 784).every((v) => Math.abs(v - expected) < 1e-6), `image ${k}`);
  }
});

test('augmentOptionsFrom takes the seed settings from the hyperparameters', () => {
  assert.deepEqual(augmentOptionsFrom(DEFAULT_HYPERPARAMETERS), SEED_OPTIONS);
});

test('100 copies take well under 50 ms', () => {
  const image = pattern(28, 28, (i, j) => ((i * 13 + j * 7) % 29) / 28);
  augmentCopies(image, 100, { ...SEED_OPTIONS, seed: 1 });
  const start = process.hrtime.bigint();
  augmentCopies(image, 100, { ...SEED_OPTIONS, seed: 2 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
});

test('augmentDataset makes 30,000 labelled copies of random training images in a few seconds', () => {
  const n = 1000;
  const images = new Float32Array(n * 784);
  const labels = new Uint8Array(n);
  // Image k is the constant k / n and its label k % 10, so each copy reveals its source.
  for (let k = 0; k < n; k++) {
    images.fill(k / n, k * 784, (k + 1) * 784);
    labels[k] = k % 10;
  }
  const start = process.hrtime.bigint();
  const extra = augmentDataset(images, labels, 30000, SEED_OPTIONS, 42);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 3000, `${ms.toFixed(0)} ms`);
  assert.ok(extra.labels instanceof Uint8Array);
  assert.equal(extra.images.length, 30000 * 784);
  assert.equal(extra.labels.length, 30000);
  for (let k = 0; k < 30000; k += 997) {
    const source = extra.sourceIndices[k];
    assert.equal(extra.labels[k], labels[source]);
    assert.ok(Math.abs(extra.images[k * 784 + 400] - source / n) < 1e-6);
  }
  // Chosen with replacement across the whole set.
  assert.ok(new Set(extra.sourceIndices).size > 900);
  const again = augmentDataset(images, Int32Array.from(labels), 30000, SEED_OPTIONS, 42);
  assert.ok(again.labels instanceof Int32Array);
  assert.deepEqual(again.images, extra.images);
});

test('bad shapes and ranges are rejected with a clear message', () => {
  assert.throws(() => applyTransform(new Float32Array(10), 28, 28, IDENTITY_TRANSFORM), /28×28/);
  const image = new Float32Array(784);
  assert.throws(() => applyTransform(image, 28, 28, IDENTITY_TRANSFORM, {}, image), /must not be the input/);
  assert.throws(() => randomTransform({ rotationRange: -1 }, createRng(1), 28, 28), /rotationRange/);
  assert.throws(() => randomTransform({ zoomRange: [1.2, 0.8] }, createRng(1), 28, 28), /zoomRange/);
  assert.throws(() => new ImageDataGenerator({ interpolationOrder: 3 as 1 }), /interpolationOrder/);
  assert.throws(() => augmentDataset(new Float32Array(784 * 2), new Uint8Array(3), 5, {}, 1), /2 images but 3 labels/);
});

/** n random images of rows×cols, from a seeded stream. */
function randomImages(n: number, rows: number, cols: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n * rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = rng.next();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

for (const [label, rows, cols, options] of [
  ['the seed\'s settings, 28×28', 28, 28, SEED_OPTIONS],
  ['both flips and strong warps, 28×28', 28, 28, { rotationRange: 90, zoomRange: [0.5, 1.5], shearRange: 30, widthShiftRange: 0.3, heightShiftRange: 0.3, horizontalFlip: true, verticalFlip: true }],
  ['a non-square image (20×28)', 20, 28, { ...SEED_OPTIONS, rotationRange: 40, verticalFlip: true }],
] as [string, number, number, AugmentOptions][]) {
  test(`augmentTensor (TensorFlow's transform kernel) equals augment (the TypeScript warp): ${label}`, () => {
    const { tf } = require('../core/backend') as typeof import('../core/backend');
    const n = 64;
    const host = randomImages(n, rows, cols, 7);
    const expected = new ImageDataGenerator({ ...options, seed: 11 }).augment(host, n, rows, cols);
    const before = tf.memory().numTensors;
    const images = tf.tensor4d(host, [n, rows, cols, 1]);
    const warped = new ImageDataGenerator({ ...options, seed: 11 }).augmentTensor(images);
    assert.deepEqual(warped.shape, [n, rows, cols, 1]);
    const got = warped.dataSync() as Float32Array;
    tf.dispose([images, warped]);
    assert.equal(tf.memory().numTensors, before);
    // Both sample the same points bilinearly; TensorFlow holds the matrix in float32, so the
    // sampled coordinates differ by rounding only.
    assert.ok(maxAbsDiff(got, expected) < 1e-4, `max difference ${maxAbsDiff(got, expected)}`);
    // And the warp did something: the same images untransformed would be far off.
    assert.ok(maxAbsDiff(got, host) > 0.1);
  });
}

test('augmentTensor keeps scipy\'s semantics for other fill modes by taking the TypeScript warp', () => {
  const { tf } = require('../core/backend') as typeof import('../core/backend');
  const n = 8;
  const host = randomImages(n, 28, 28, 3);
  const options: AugmentOptions = { ...SEED_OPTIONS, rotationRange: 45, fillMode: 'reflect' };
  const expected = new ImageDataGenerator({ ...options, seed: 5 }).augment(host, n);
  const images = tf.tensor4d(host, [n, 28, 28, 1]);
  const warped = new ImageDataGenerator({ ...options, seed: 5 }).augmentTensor(images);
  assert.deepEqual(warped.dataSync(), expected);
  tf.dispose([images, warped]);
});
