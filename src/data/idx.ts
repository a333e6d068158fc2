/**
 * Parsing and checking of the IDX files Fashion-MNIST ships in. Everything here is pure: bytes in,
 * arrays or a `DataError` out, so the same checks serve a file found on disk and one just
 * downloaded. Introduced in notebook 01, step 1 ("load").
 *
 * The IDX format (from the MNIST page): a big-endian header of a magic number (0x0000 then the
 * element type 0x08 = unsigned byte, then the number of dimensions), one 32-bit size per
 * dimension, then the values in row-major order. Images are idx3 (magic 2051: N × 28 × 28),
 * labels are idx1 (magic 2049: N).
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { IMAGE_COLS, IMAGE_PIXELS, IMAGE_ROWS } from '../core/image';

/**
 * A problem with the data, in one line: `<file or URL>: <problem>`. Commands print the message
 * alone, without a stack trace, because the fix is always about the file, never about the code.
 */
export class DataError extends Error {
  override name = 'DataError';

  constructor(message: string) {
    // A message that spans lines would break the one-line `error: …` contract of the commands.
    super(message.replace(/\s*\n\s*/g, ' '));
  }
}

export type IdxKind = 'images' | 'labels';

export const IDX3_UBYTE_MAGIC = 2051;
export const IDX1_UBYTE_MAGIC = 2049;
const IMAGE_HEADER_BYTES = 16;
const LABEL_HEADER_BYTES = 8;
const LABEL_COUNT = 10;

/** What one decompressed file must be. */
export interface IdxFileSpec {
  kind: IdxKind;
  /** The number of images or labels the header must declare; omitted, any count is accepted. */
  count?: number;
  /** SHA-256 of the decompressed bytes, lowercase hex; omitted, the checksum is not compared. */
  sha256?: string;
}

/** The four files of the dataset, by the names the loader uses for them. */
export type DataFileKey = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

export type DatasetSpec = Record<DataFileKey, IdxFileSpec>;

/**
 * The official files, as TUTORIAL.md ("The official data") records them: the decompressed bytes
 * are the same in every copy (the gz bytes are not, Debian recompressed them), so these are the
 * values every load is checked against unless a caller passes its own spec.
 */
export const OFFICIAL_SPEC: Readonly<Record<DataFileKey, Readonly<Required<IdxFileSpec> & { bytes: number }>>> = Object.freeze({
  trainImages: Object.freeze({
    kind: 'images' as const,
    count: 60000,
    bytes: 47_040_016,
    sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  }),
  trainLabels: Object.freeze({
    kind: 'labels' as const,
    count: 60000,
    bytes: 60_008,
    sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  }),
  testImages: Object.freeze({
    kind: 'images' as const,
    count: 10000,
    bytes: 7_840_016,
    sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  }),
  testLabels: Object.freeze({
    kind: 'labels' as const,
    count: 10000,
    bytes: 10_008,
    sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
  }),
});

/** The decompressed size a file of this kind and count must have. */
export function idxByteLength(kind: IdxKind, count: number): number {
  return kind === 'images' ? IMAGE_HEADER_BYTES + count * IMAGE_PIXELS : LABEL_HEADER_BYTES + count;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const GZIP_MAGIC = [0x1f, 0x8b];
/** Far above the largest file (47 MB), low enough that a gzip bomb fails instead of eating memory. */
const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** The first bytes as text a reader can recognise, e.g. `"<!DOCTYPE html>…"` for an error page. */
function preview(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 24));
  const printable = head.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return JSON.stringify(printable) + (bytes.length > 24 ? '…' : '');
}

/**
 * Decompresses a .gz file's bytes. `where` (a path or URL) starts every error message. A file
 * that is not gzip at all, most often an HTML error page saved under the .gz name, gets its own
 * message, because zlib's "incorrect header check" does not tell a reader what went wrong.
 */
export function gunzip(bytes: Uint8Array, where: string): Buffer {
  if (bytes.length === 0) throw new DataError(`${where}: empty file (0 bytes)`);
  if (!isGzip(bytes)) {
    throw new DataError(`${where}: not a gzip file (${bytes.length} bytes, starting ${preview(bytes)})`);
  }
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new DataError(`${where}: decompresses to more than ${MAX_DECOMPRESSED_BYTES} bytes, far more than any Fashion-MNIST file`);
    }
    const reason = err instanceof Error ? err.message : String(err);
    // zlib says "unexpected end of file" for a cut-off download and "incorrect data check" for a
    // flipped bit; both mean the file is damaged, which is what the reader needs to know.
    throw new DataError(`${where}: corrupt gzip data (${reason}); the file is damaged or incomplete`);
  }
}

/** The result of parsing one IDX file. `data` is a copy, independent of the input buffer. */
export interface IdxImages {
  kind: 'images';
  count: number;
  rows: number;
  cols: number;
  /** count × rows × cols bytes, row-major, 0 = background. */
  data: Uint8Array;
  sha256: string;
  bytes: number;
}

export interface IdxLabels {
  kind: 'labels';
  count: number;
  /** One class id 0..9 per image. */
  data: Uint8Array;
  sha256: string;
  bytes: number;
}

export type IdxFile = IdxImages | IdxLabels;

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * Checks decompressed IDX bytes against `spec` and returns their contents. The checks run from
 * the most specific message to the least: header, declared count, length, values, and the
 * checksum last, so a file that is merely cut short says "truncated" rather than "checksum".
 */
export function parseIdx(bytes: Uint8Array, spec: IdxFileSpec, where: string): IdxFile {
  const kind = spec.kind;
  const headerBytes = kind === 'images' ? IMAGE_HEADER_BYTES : LABEL_HEADER_BYTES;
  const unit = kind === 'images' ? 'image' : 'label';
  if (bytes.length === 0) throw new DataError(`${where}: empty (0 bytes after decompression)`);
  if (bytes.length < headerBytes) {
    throw new DataError(`${where}: truncated: ${bytes.length} bytes, shorter than the ${headerBytes}-byte IDX header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const expectedMagic = kind === 'images' ? IDX3_UBYTE_MAGIC : IDX1_UBYTE_MAGIC;
  if (magic !== expectedMagic) {
    const other = magic === IDX3_UBYTE_MAGIC ? ' (an images file)' : magic === IDX1_UBYTE_MAGIC ? ' (a labels file)' : '';
    throw new DataError(`${where}: wrong magic number ${magic}${other}, expected ${expectedMagic} for IDX ${kind}`);
  }
  const count = view.getUint32(4, false);
  let rows = 0;
  let cols = 0;
  if (kind === 'images') {
    rows = view.getUint32(8, false);
    cols = view.getUint32(12, false);
    if (rows !== IMAGE_ROWS || cols !== IMAGE_COLS) {
      throw new DataError(`${where}: images are ${rows}×${cols}, expected ${IMAGE_ROWS}×${IMAGE_COLS}`);
    }
  }
  if (spec.count !== undefined && count !== spec.count) {
    throw new DataError(`${where}: header says ${plural(count, unit)}, expected ${spec.count}`);
  }
  const expectedLength = idxByteLength(kind, count);
  if (bytes.length < expectedLength) {
    const held = Math.floor((bytes.length - headerBytes) / (kind === 'images' ? IMAGE_PIXELS : 1));
    throw new DataError(
      `${where}: truncated: header says ${plural(count, unit)} but the file holds ${held} ` +
        `(${bytes.length} of ${expectedLength} bytes)`,
    );
  }
  if (bytes.length > expectedLength) {
    throw new DataError(
      `${where}: ${bytes.length - expectedLength} trailing bytes after the ${plural(count, unit)} the header declares ` +
        `(${bytes.length} bytes, expected ${expectedLength})`,
    );
  }
  // A copy, as a plain Uint8Array: Buffer#slice would return a view that keeps (and shares) the
  // whole decompressed buffer, header included.
  const data = new Uint8Array(bytes.subarray(headerBytes));
  if (kind === 'labels') {
    for (let i = 0; i < data.length; i++) {
      if (data[i] >= LABEL_COUNT) {
        throw new DataError(`${where}: label ${data[i]} at index ${i} is outside 0..9`);
      }
    }
  }
  const sha256 = sha256Hex(bytes);
  if (spec.sha256 !== undefined && sha256 !== spec.sha256.toLowerCase()) {
    throw new DataError(`${where}: SHA-256 mismatch: got ${sha256}, expected ${spec.sha256}; the file is damaged or not the official one`);
  }
  return kind === 'images'
    ? { kind, count, rows, cols, data, sha256, bytes: bytes.length }
    : { kind, count, data, sha256, bytes: bytes.length };
}

/**
 * A file's bytes as read from disk: decompressed first when `compressed` (the file's name ends in
 * .gz), then checked by `parseIdx`.
 */
export function parseIdxFile(fileBytes: Uint8Array, spec: IdxFileSpec, where: string, compressed: boolean): IdxFile {
  if (fileBytes.length === 0) throw new DataError(`${where}: empty file (0 bytes)`);
  return parseIdx(compressed ? gunzip(fileBytes, where) : fileBytes, spec, where);
}

/** Images and labels are read from separate files; a pair of different lengths cannot be used. */
export function checkPair(images: IdxImages, imagesWhere: string, labels: IdxLabels, labelsWhere: string): void {
  if (images.count !== labels.count) {
    throw new DataError(
      `${labelsWhere}: holds ${plural(labels.count, 'label')} but ${imagesWhere} holds ${plural(images.count, 'image')}`,
    );
  }
}

/** Builds an IDX file: the tests' synthetic data, and a reference for the format. */
export function encodeIdx(kind: IdxKind, data: Uint8Array, options: { count?: number; magic?: number; rows?: number; cols?: number } = {}): Buffer {
  const headerBytes = kind === 'images' ? IMAGE_HEADER_BYTES : LABEL_HEADER_BYTES;
  const header = Buffer.alloc(headerBytes);
  const count = options.count ?? (kind === 'images' ? Math.floor(data.length / IMAGE_PIXELS) : data.length);
  header.writeUInt32BE(options.magic ?? (kind === 'images' ? IDX3_UBYTE_MAGIC : IDX1_UBYTE_MAGIC), 0);
  header.writeUInt32BE(count, 4);
  if (kind === 'images') {
    header.writeUInt32BE(options.rows ?? IMAGE_ROWS, 8);
    header.writeUInt32BE(options.cols ?? IMAGE_COLS, 12);
  }
  return Buffer.concat([header, data]);
}
