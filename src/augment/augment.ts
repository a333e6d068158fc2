/**
 * Keras' `ImageDataGenerator` (geometric part) for single-channel images, in plain TypeScript.
 *
 * tfjs-node has no kernel for `tf.image.transform`, so the warp is written here on Float32Array,
 * and for whole training sets (`augmentTensor`, used by `fit` for on-the-fly augmentation) the same
 * matrices run on TensorFlow's own ImageProjectiveTransformV3 kernel (native.ts), checked against
 * this warp in augment.test.ts. Everything follows the current Keras source,
 * `keras/src/legacy/preprocessing/image.py` (Keras 3; tf-keras and keras-preprocessing ≥ 1.1 are
 * the same): `get_random_transform` draws the parameters, `apply_affine_transform` builds the
 * matrix and hands it to `scipy.ndimage.affine_transform`, and the flips come last.
 *
 * The details that matter, all checked against that source and against scipy itself:
 * - Draw order, one draw each and only when the range is non-zero: theta (degrees) from
 *   ±rotationRange; tx from ±heightShiftRange × rows; ty from ±widthShiftRange × cols; shear
 *   (degrees) from ±shearRange; zx then zy, independently, from zoomRange unless it is exactly
 *   [1, 1]; then two flip draws (< 0.5) that are made even when flipping is off.
 * - The matrix is rotation · shift · shear · zoom, written in Keras' (x, y) frame and moved to the
 *   image centre. Keras then swaps the axes so that x is the COLUMN and y the ROW. Two quirks
 *   follow, and both are kept because they are what Keras does: tx (drawn from the height range)
 *   moves the image horizontally and ty (drawn from the width range) vertically (reported as
 *   keras-team/keras#17398), and the centre offset of the columns uses rows/2 − 0.5 and that of
 *   the rows cols/2 − 0.5, which only matters for non-square images.
 * - The matrix maps OUTPUT coordinates to INPUT coordinates, as in scipy. So tx = +1 moves the
 *   content one column to the left, theta = +90 turns the image counter-clockwise as displayed
 *   (like `np.rot90`), and zx = zy = 2 makes the content half as large (zooms out).
 * - Sampling is scipy's: order 1 (bilinear) by default, order 0 rounds half up; fill mode
 *   'nearest' clamps the coordinate to the edge; 'constant' returns cval for any coordinate
 *   outside [0, n − 1]; 'reflect' and 'wrap' follow scipy's own coordinate mappings.
 * - Flips are applied after the warp: horizontal mirrors the columns, vertical the rows.
 */

import { IMAGE_COLS, IMAGE_ROWS } from '../core/image';
import { DEFAULT_HYPERPARAMETERS, type Hyperparameters } from '../core/config';
import { createRng, type Rng } from '../core/random';
import { tf } from '../core/backend';
import { projectiveRow, warpBatch } from './native';

export type FillMode = 'nearest' | 'constant' | 'reflect' | 'wrap';

/** The augmentation settings, named as in config.ts; every field defaults to "no change". */
export interface AugmentOptions {
  /** Maximum rotation in degrees; theta is drawn from [-r, r). Keras `rotation_range`. Default 0. */
  rotationRange?: number;
  /**
   * Zoom factors zx and zy are drawn independently from [1 - z, 1 + z) for a number z, or from
   * [low, high) for a pair. Values above 1 make the content smaller. Keras `zoom_range`. Default 0.
   */
  zoomRange?: number | [number, number];
  /** Maximum shear angle in degrees (current Keras; old Keras took radians). Default 0. */
  shearRange?: number;
  /**
   * Keras `width_shift_range`: ty is drawn from ±range × cols (a range >= 1 counts pixels). As in
   * Keras, ty then moves the image vertically. Default 0.
   */
  widthShiftRange?: number;
  /**
   * Keras `height_shift_range`: tx is drawn from ±range × rows (a range >= 1 counts pixels). As in
   * Keras, tx then moves the image horizontally. Default 0.
   */
  heightShiftRange?: number;
  /** Mirror left-right with probability 1/2. Default false. */
  horizontalFlip?: boolean;
  /** Mirror top-bottom with probability 1/2. Default false. */
  verticalFlip?: boolean;
  /** How points outside the image are filled. Default 'nearest', as Keras. */
  fillMode?: FillMode;
  /** Value for fillMode 'constant'. Default 0. */
  cval?: number;
  /** 0 nearest-neighbour, 1 bilinear. Default 1, as Keras' `interpolation_order`. */
  interpolationOrder?: 0 | 1;
}

/**
 * One drawn transform, with Keras' names and units: theta and shear in degrees, tx and ty in
 * pixels (tx horizontal, ty vertical, see the file comment), zx and zy as factors.
 */
export interface TransformParams {
  theta: number;
  tx: number;
  ty: number;
  shear: number;
  zx: number;
  zy: number;
  flipHorizontal: boolean;
  flipVertical: boolean;
}

/** The identity: applying it returns the image unchanged. */
export const IDENTITY_TRANSFORM: Readonly<TransformParams> = Object.freeze({
  theta: 0,
  tx: 0,
  ty: 0,
  shear: 0,
  zx: 1,
  zy: 1,
  flipHorizontal: false,
  flipVertical: false,
});

interface ResolvedOptions {
  rotationRange: number;
  zoomLow: number;
  zoomHigh: number;
  shearRange: number;
  widthShiftRange: number;
  heightShiftRange: number;
  horizontalFlip: boolean;
  verticalFlip: boolean;
  fillMode: FillMode;
  cval: number;
  order: 0 | 1;
}

const FILL_MODES: readonly FillMode[] = ['nearest', 'constant', 'reflect', 'wrap'];

function nonNegative(name: string, value: number | undefined): number {
  const v = value ?? 0;
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`augment: ${name} must be a finite number >= 0, got ${String(value)}`);
  return v;
}

/** Fills in the defaults and rejects values Keras would reject or misread. */
function resolveOptions(options: AugmentOptions): ResolvedOptions {
  const zoom = options.zoomRange ?? 0;
  let zoomLow: number;
  let zoomHigh: number;
  if (typeof zoom === 'number') {
    const z = nonNegative('zoomRange', zoom);
    zoomLow = 1 - z;
    zoomHigh = 1 + z;
  } else {
    [zoomLow, zoomHigh] = zoom;
    if (!Number.isFinite(zoomLow) || !Number.isFinite(zoomHigh) || zoomLow > zoomHigh) {
      throw new RangeError(`augment: zoomRange must be a number or a pair [low, high] with low <= high, got ${JSON.stringify(zoom)}`);
    }
  }
  const fillMode = options.fillMode ?? 'nearest';
  if (!FILL_MODES.includes(fillMode)) throw new RangeError(`augment: fillMode must be one of ${FILL_MODES.join(', ')}, got ${String(fillMode)}`);
  const order = options.interpolationOrder ?? 1;
  if (order !== 0 && order !== 1) throw new RangeError(`augment: interpolationOrder must be 0 or 1, got ${String(order)}`);
  const cval = options.cval ?? 0;
  if (!Number.isFinite(cval)) throw new RangeError(`augment: cval must be a finite number, got ${String(cval)}`);
  return {
    rotationRange: nonNegative('rotationRange', options.rotationRange),
    zoomLow,
    zoomHigh,
    shearRange: nonNegative('shearRange', options.shearRange),
    widthShiftRange: nonNegative('widthShiftRange', options.widthShiftRange),
    heightShiftRange: nonNegative('heightShiftRange', options.heightShiftRange),
    horizontalFlip: options.horizontalFlip ?? false,
    verticalFlip: options.verticalFlip ?? false,
    fillMode,
    cval,
    order,
  };
}

function checkShape(length: number, rows: number, cols: number, what: string): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new RangeError(`augment: rows and cols must be positive integers, got ${rows}×${cols}`);
  }
  if (length % (rows * cols) !== 0) {
    throw new RangeError(`augment: ${what} has ${length} values, not a whole number of ${rows}×${cols} images`);
  }
}

function drawTransform(o: ResolvedOptions, rng: Rng, rows: number, cols: number): TransformParams {
  // The order of the draws is Keras' get_random_transform, so a range of 0 consumes no draw.
  const theta = o.rotationRange ? rng.uniform(-o.rotationRange, o.rotationRange) : 0;
  let tx = 0;
  if (o.heightShiftRange) {
    tx = rng.uniform(-o.heightShiftRange, o.heightShiftRange);
    // Keras treats a range below 1 as a fraction of the image and anything else as pixels.
    if (o.heightShiftRange < 1) tx *= rows;
  }
  let ty = 0;
  if (o.widthShiftRange) {
    ty = rng.uniform(-o.widthShiftRange, o.widthShiftRange);
    if (o.widthShiftRange < 1) ty *= cols;
  }
  const shear = o.shearRange ? rng.uniform(-o.shearRange, o.shearRange) : 0;
  let zx = 1;
  let zy = 1;
  if (!(o.zoomLow === 1 && o.zoomHigh === 1)) {
    zx = rng.uniform(o.zoomLow, o.zoomHigh);
    zy = rng.uniform(o.zoomLow, o.zoomHigh);
  }
  // Keras draws both flips every time and multiplies by the setting afterwards.
  const flipHorizontal = rng.next() < 0.5 && o.horizontalFlip;
  const flipVertical = rng.next() < 0.5 && o.verticalFlip;
  return { theta, tx, ty, shear, zx, zy, flipHorizontal, flipVertical };
}

/** Draws one transform the way Keras' `ImageDataGenerator.get_random_transform` does. */
export function randomTransform(options: AugmentOptions, rng: Rng, rows: number, cols: number): TransformParams {
  return drawTransform(resolveOptions(options), rng, rows, cols);
}

/** A 2×3 affine matrix [a b c; d e f] as a 6-tuple, rows first. */
type Affine = [number, number, number, number, number, number];

/** a · b for 2×3 matrices with an implicit last row [0 0 1], as np.dot on the 3×3 forms. */
function multiply(a: Affine, b: Affine): Affine {
  return [
    a[0] * b[0] + a[1] * b[3],
    a[0] * b[1] + a[1] * b[4],
    a[0] * b[2] + a[1] * b[5] + a[2],
    a[3] * b[0] + a[4] * b[3],
    a[3] * b[1] + a[4] * b[4],
    a[3] * b[2] + a[4] * b[5] + a[5],
  ];
}

const DEG = Math.PI / 180;

/**
 * The output→input matrix in (row, col) terms, or undefined when Keras would skip the warp.
 * Returns [rr, rc, r0, cr, cc, c0]: input row = rr·row + rc·col + r0, input col = cr·row + cc·col + c0.
 */
export function transformMatrix(params: TransformParams, rows: number, cols: number): Affine | undefined {
  // Built in Keras' (x, y) frame, with each factor skipped when it is the identity, as Keras does.
  let m: Affine | undefined;
  const then = (f: Affine): void => {
    m = m === undefined ? f : multiply(m, f);
  };
  if (params.theta !== 0) {
    const t = params.theta * DEG;
    then([Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0]);
  }
  if (params.tx !== 0 || params.ty !== 0) then([1, 0, params.tx, 0, 1, params.ty]);
  if (params.shear !== 0) {
    const s = params.shear * DEG;
    then([1, -Math.sin(s), 0, 0, Math.cos(s), 0]);
  }
  if (params.zx !== 1 || params.zy !== 1) then([params.zx, 0, 0, 0, params.zy, 0]);
  if (m === undefined) return undefined;
  // transform_matrix_offset_center(matrix, h, w): x is offset by h/2 - 0.5 and y by w/2 - 0.5.
  const ox = rows / 2 - 0.5;
  const oy = cols / 2 - 0.5;
  const k = multiply(multiply([1, 0, ox, 0, 1, oy], m), [1, 0, -ox, 0, 1, -oy]);
  // Keras' axis swap: scipy's first axis (row) is Keras' y, its second (col) is Keras' x.
  return [k[4], k[3], k[5], k[1], k[0], k[2]];
}

/**
 * scipy.ndimage's map_coordinate: folds a coordinate outside [0, n - 1] back in for the given
 * mode, or returns -1 for 'constant', which the caller turns into cval.
 */
function mapCoordinate(x: number, n: number, mode: FillMode): number {
  if (x < 0) {
    switch (mode) {
      case 'nearest':
        return 0;
      case 'constant':
        return -1;
      case 'reflect': {
        if (n <= 1) return 0;
        const s2 = 2 * n;
        let v = x;
        if (v < -s2) v = s2 * Math.trunc(-v / s2) + v;
        // scipy's guard against -v - 1 landing exactly on -1.
        return v < -n ? v + s2 : (v > -1e-15 ? 1e-15 : -v) - 1;
      }
      case 'wrap': {
        if (n <= 1) return 0;
        const sz = n - 1;
        return x + sz * (Math.trunc(-x / sz) + 1);
      }
    }
  } else if (x > n - 1) {
    switch (mode) {
      case 'nearest':
        return n - 1;
      case 'constant':
        return -1;
      case 'reflect': {
        if (n <= 1) return 0;
        const s2 = 2 * n;
        const v = x - s2 * Math.trunc(x / s2);
        return v >= n ? s2 - v - 1 : v;
      }
      case 'wrap': {
        if (n <= 1) return 0;
        const sz = n - 1;
        return x - sz * Math.trunc(x / sz);
      }
    }
  }
  return x;
}

/**
 * Where an interpolation tap outside the image reads from. scipy extends the taps the way the
 * mode extends the image: half-sample symmetric for 'reflect' (-1 reads 0, n reads n - 1) and
 * whole-sample mirrored otherwise; for 'nearest', 'constant' and 'wrap' an outside tap only
 * occurs with weight 0, because their coordinates are already folded into [0, n - 1].
 */
function tapIndex(i: number, n: number, halfSample: boolean): number {
  if (i >= 0 && i < n) return i;
  if (n <= 1) return 0;
  if (halfSample) {
    const period = 2 * n;
    const v = ((i % period) + period) % period;
    return v >= n ? period - v - 1 : v;
  }
  const s2 = 2 * n - 2;
  if (i < 0) {
    const v = s2 * Math.trunc(-i / s2) + i;
    return v <= 1 - n ? v + s2 : -v;
  }
  const v = i - s2 * Math.trunc(i / s2);
  return v >= n ? s2 - v : v;
}

/**
 * Applies one transform to one rows×cols image, as Keras' `apply_transform` with
 * scipy.ndimage.affine_transform. Writes into `out` when given (it must not be `image`).
 */
export function applyTransform(
  image: Float32Array,
  rows: number,
  cols: number,
  params: TransformParams,
  options: AugmentOptions = {},
  out: Float32Array = new Float32Array(rows * cols),
): Float32Array {
  checkShape(image.length, rows, cols, 'image');
  if (image.length !== rows * cols) throw new RangeError(`augment: image must hold one ${rows}×${cols} image, got ${image.length} values`);
  if (out.length !== rows * cols) throw new RangeError(`augment: out must hold ${rows * cols} values, got ${out.length}`);
  if (out === image) throw new RangeError('augment: out must not be the input image');
  const o = resolveOptions(options);
  warp(image, 0, rows, cols, params, o, out, 0);
  return out;
}

/** The warp and flips of one image at `src` in `image` into `out` at `dst`; no allocation per pixel. */
function warp(
  image: Float32Array,
  src: number,
  rows: number,
  cols: number,
  params: TransformParams,
  o: ResolvedOptions,
  out: Float32Array,
  dst: number,
): void {
  const m = transformMatrix(params, rows, cols);
  const flipH = params.flipHorizontal;
  const flipV = params.flipVertical;
  const { fillMode, cval, order } = o;
  const half = fillMode === 'reflect';
  // The default, 'nearest' with order 1, gets its own loop: clamping inline and taking the
  // second tap from inside the image (its weight is 0 at the last row or column) avoids two
  // function calls per coordinate, which is most of the time for 30,000 images.
  const fast = m !== undefined && fillMode === 'nearest' && order === 1;
  const lastRow = rows - 1;
  const lastCol = cols - 1;
  for (let i = 0; i < rows; i++) {
    // Flipping after the warp is the same as writing each warped pixel to its mirrored place.
    const rowBase = dst + (flipV ? lastRow - i : i) * cols;
    for (let j = 0; j < cols; j++) {
      const target = rowBase + (flipH ? lastCol - j : j);
      if (m === undefined) {
        out[target] = image[src + i * cols + j];
        continue;
      }
      // Summed in scipy's order, so that boundary cases round the same way.
      let r = i * m[0] + j * m[1] + m[2];
      let c = i * m[3] + j * m[4] + m[5];
      if (fast) {
        r = r < 0 ? 0 : r > lastRow ? lastRow : r;
        c = c < 0 ? 0 : c > lastCol ? lastCol : c;
      } else {
        r = mapCoordinate(r, rows, fillMode);
        c = mapCoordinate(c, cols, fillMode);
        if (r <= -1 || c <= -1) {
          out[target] = cval;
          continue;
        }
        if (order === 0) {
          out[target] = image[src + tapIndex(Math.floor(r + 0.5), rows, half) * cols + tapIndex(Math.floor(c + 0.5), cols, half)];
          continue;
        }
      }
      const r0 = Math.floor(r);
      const c0 = Math.floor(c);
      const wr1 = r - r0;
      const wc1 = c - c0;
      const wr0 = 1 - wr1;
      const wc0 = 1 - wc1;
      let top: number;
      let bottom: number;
      let left: number;
      let right: number;
      if (fast) {
        top = src + r0 * cols;
        bottom = r0 < lastRow ? top + cols : top;
        left = c0;
        right = c0 < lastCol ? c0 + 1 : c0;
      } else {
        top = src + tapIndex(r0, rows, half) * cols;
        bottom = src + tapIndex(r0 + 1, rows, half) * cols;
        left = tapIndex(c0, cols, half);
        right = tapIndex(c0 + 1, cols, half);
      }
      out[target] =
        image[top + left] * wr0 * wc0 +
        image[top + right] * wr0 * wc1 +
        image[bottom + left] * wr1 * wc0 +
        image[bottom + right] * wr1 * wc1;
    }
  }
}

/**
 * The counterpart of `ImageDataGenerator(...).flow(x, shuffle=False)`: one generator holds one
 * seeded random stream, so successive calls keep drawing new transforms and the same seed gives
 * the same images.
 */
export class ImageDataGenerator {
  readonly options: Readonly<AugmentOptions>;
  private readonly resolved: ResolvedOptions;
  private readonly rng: Rng;

  constructor(options: AugmentOptions & { seed?: number } = {}) {
    const { seed, ...rest } = options;
    this.options = Object.freeze({ ...rest });
    this.resolved = resolveOptions(rest);
    this.rng = createRng(seed ?? DEFAULT_HYPERPARAMETERS.seed);
  }

  /** Draws the next transform from this generator's stream. */
  nextTransform(rows = IMAGE_ROWS, cols = IMAGE_COLS): TransformParams {
    return drawTransform(this.resolved, this.rng, rows, cols);
  }

  /**
   * `count` augmented images, one random transform each. Output image k comes from input image
   * k mod n, so passing n images and count = n augments each once, in order.
   */
  augment(images: Float32Array, count: number, rows = IMAGE_ROWS, cols = IMAGE_COLS): Float32Array {
    checkShape(images.length, rows, cols, 'images');
    const size = rows * cols;
    const n = images.length / size;
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`augment: count must be an integer >= 0, got ${count}`);
    if (n === 0 && count > 0) throw new RangeError('augment: no images to augment');
    const out = new Float32Array(count * size);
    for (let k = 0; k < count; k++) {
      const params = drawTransform(this.resolved, this.rng, rows, cols);
      warp(images, (k % n) * size, rows, cols, params, this.resolved, out, k * size);
    }
    return out;
  }

  /**
   * One augmented copy of every image of `images` [n, rows, cols, 1], drawing the same
   * transforms in the same order as `augment` and returning a new tensor. With the default
   * sampling (bilinear, 'nearest' fill) the warp runs on TensorFlow's ImageProjectiveTransformV3
   * kernel over the whole batch, several times faster than the TypeScript loop and without
   * copying the images to the host. Other fill modes and order 0 take the slower TypeScript warp,
   * because TensorFlow folds outside coordinates and rounds nearest samples differently from scipy.
   */
  augmentTensor(images: tf.Tensor4D): tf.Tensor4D {
    const [n, rows, cols, channels] = images.shape;
    if (channels !== 1) throw new RangeError(`augment: images must have one channel, got ${channels}`);
    if (this.resolved.fillMode !== 'nearest' || this.resolved.order !== 1) {
      return tf.tensor(this.augment(images.dataSync() as Float32Array, n, rows, cols), images.shape) as tf.Tensor4D;
    }
    const transforms = new Float32Array(n * 8);
    for (let k = 0; k < n; k++) {
      const params = drawTransform(this.resolved, this.rng, rows, cols);
      const row = projectiveRow(transformMatrix(params, rows, cols), rows, cols, params.flipHorizontal, params.flipVertical);
      transforms.set(row, k * 8);
    }
    return warpBatch(images, transforms);
  }
}

/** The seed's cell: `copies` augmented versions of one image (it draws 100 of train_X[0]). */
export function augmentCopies(
  image: Float32Array,
  copies: number,
  options: AugmentOptions & { seed?: number },
  rows = IMAGE_ROWS,
  cols = IMAGE_COLS,
): Float32Array {
  if (image.length !== rows * cols) throw new RangeError(`augment: image must hold one ${rows}×${cols} image, got ${image.length} values`);
  return new ImageDataGenerator(options).augment(image, copies, rows, cols);
}

/** The augmentation fields of the hyperparameters, as options for this module. */
export type AugmentHyperparameters = Pick<
  Hyperparameters,
  'rotationRange' | 'zoomRange' | 'shearRange' | 'widthShiftRange' | 'heightShiftRange' | 'horizontalFlip' | 'verticalFlip'
>;

export function augmentOptionsFrom(hp: AugmentHyperparameters): AugmentOptions {
  return {
    rotationRange: hp.rotationRange,
    zoomRange: hp.zoomRange,
    shearRange: hp.shearRange,
    widthShiftRange: hp.widthShiftRange,
    heightShiftRange: hp.heightShiftRange,
    horizontalFlip: hp.horizontalFlip,
    verticalFlip: hp.verticalFlip,
  };
}

export interface AugmentedDataset<L extends Uint8Array | Int32Array> {
  /** `extra` augmented images, rows×cols each. */
  images: Float32Array;
  /** The label of each augmented image (that of its source). */
  labels: L;
  /** Which training image each augmented one was made from. */
  sourceIndices: Int32Array;
}

/**
 * The book's next step: `extra` augmented copies of training images chosen at random with
 * replacement (`np.random.randint`), to be appended to the training set. All indices are drawn
 * first, then one transform per copy, from one stream seeded with `seed`.
 */
export function augmentDataset(
  images: Float32Array,
  labels: Uint8Array,
  extra: number,
  options: AugmentOptions,
  seed: number,
  rows?: number,
  cols?: number,
): AugmentedDataset<Uint8Array>;
export function augmentDataset(
  images: Float32Array,
  labels: Int32Array,
  extra: number,
  options: AugmentOptions,
  seed: number,
  rows?: number,
  cols?: number,
): AugmentedDataset<Int32Array>;
export function augmentDataset(
  images: Float32Array,
  labels: Uint8Array | Int32Array,
  extra: number,
  options: AugmentOptions,
  seed: number,
  rows = IMAGE_ROWS,
  cols = IMAGE_COLS,
): AugmentedDataset<Uint8Array | Int32Array> {
  checkShape(images.length, rows, cols, 'images');
  const size = rows * cols;
  const n = images.length / size;
  if (labels.length !== n) throw new RangeError(`augment: ${n} images but ${labels.length} labels`);
  if (!Number.isInteger(extra) || extra < 0) throw new RangeError(`augment: extra must be an integer >= 0, got ${extra}`);
  if (n === 0 && extra > 0) throw new RangeError('augment: no images to augment');
  const o = resolveOptions(options);
  const rng = createRng(seed);
  const sourceIndices = new Int32Array(extra);
  for (let k = 0; k < extra; k++) sourceIndices[k] = rng.int(n);
  const outImages = new Float32Array(extra * size);
  const outLabels = labels instanceof Uint8Array ? new Uint8Array(extra) : new Int32Array(extra);
  for (let k = 0; k < extra; k++) {
    const source = sourceIndices[k];
    warp(images, source * size, rows, cols, drawTransform(o, rng, rows, cols), o, outImages, k * size);
    outLabels[k] = labels[source];
  }
  return { images: outImages, labels: outLabels, sourceIndices };
}
