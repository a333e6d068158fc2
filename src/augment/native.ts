/**
 * The warp of augment.ts on TensorFlow's own kernel, ImageProjectiveTransformV3 (what Python's
 * `tf.image.transform` runs), for a whole batch of images in one call. tfjs-node registers no
 * kernel for `tf.image.transform`, so the op is called through the native backend directly.
 *
 * TensorFlow's kernel with bilinear interpolation and NEAREST fill clamps each source coordinate
 * to [0, n − 1] and interpolates, which is what scipy's order 1 with mode 'nearest' does; flips
 * are folded into the matrix. Other fill modes and order 0 round or fold coordinates differently
 * in the two libraries, so those stay on the TypeScript warp (see `supportsNative`).
 */
import { tf } from '../core/backend';

/** [rr, rc, r0, cr, cc, c0]: input row = rr·row + rc·col + r0, input col = cr·row + cc·col + c0. */
export type RowColAffine = readonly [number, number, number, number, number, number];

/** TensorFlow's 8 transform numbers for one output→input matrix followed by optional flips. */
export function projectiveRow(m: RowColAffine | undefined, rows: number, cols: number, flipH: boolean, flipV: boolean): number[] {
  const [rr, rc, r0, cr, cc, c0] = m ?? [1, 0, 0, 0, 1, 0];
  // Output (p, q) holds the warped pixel (i, j) = (flipV ? last − p : p, flipH ? last − q : q).
  const sv = flipV ? -1 : 1;
  const tv = flipV ? rows - 1 : 0;
  const sh = flipH ? -1 : 1;
  const th = flipH ? cols - 1 : 0;
  // TensorFlow's frame is (x, y) = (column, row): input x = a0·x + a1·y + a2, input y = b0·x + b1·y + b2.
  return [cc * sh, cr * sv, cr * tv + cc * th + c0, rc * sh, rr * sv, rr * tv + rc * th + r0, 0, 0];
}

interface NativeBinding {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_STRING: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: tf.Tensor[]): tf.Tensor;
}

/** Warps `images` [n, rows, cols, 1] with one row of `projectiveRow` per image (bilinear, nearest fill). */
export function warpBatch(images: tf.Tensor4D, transforms: Float32Array): tf.Tensor4D {
  const [n, rows, cols] = images.shape;
  if (transforms.length !== n * 8) throw new RangeError(`augment: expected ${n} transforms, got ${transforms.length / 8}`);
  const backend = tf.backend() as unknown as Partial<NativeBinding>;
  if (typeof backend.executeSingleOutput !== 'function' || !backend.binding) {
    throw new Error(`augment: the batch warp needs the native 'tensorflow' backend of tfjs-node, not '${tf.getBackend()}'`);
  }
  const t = tf.tensor2d(transforms, [n, 8]);
  const shape = tf.tensor1d([rows, cols], 'int32');
  const fill = tf.scalar(0);
  try {
    const { binding } = backend;
    return backend.executeSingleOutput('ImageProjectiveTransformV3', [
      { name: 'dtype', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
      { name: 'interpolation', type: binding.TF_ATTR_STRING, value: 'BILINEAR' },
      { name: 'fill_mode', type: binding.TF_ATTR_STRING, value: 'NEAREST' },
    ], [images, t, shape, fill]) as tf.Tensor4D;
  } finally {
    tf.dispose([t, shape, fill]);
  }
}
