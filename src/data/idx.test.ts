import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import {
  checkPair,
  DataError,
  encodeIdx,
  gunzip,
  idxByteLength,
  IdxImages,
  IdxLabels,
  OFFICIAL_SPEC,
  parseIdx,
  parseIdxFile,
  sha256Hex,
} from './idx';

const WHERE = '/x/file';

function images(count: number): Uint8Array {
  const data = new Uint8Array(count * 784);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
  return data;
}

function labels(count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => i % 10);
}

/** Asserts a one-line DataError that starts with the file's name and matches `pattern`. */
function assertDataError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.name, 'DataError');
    assert.ok(err.message.startsWith(`${WHERE}: `), err.message);
    assert.ok(!err.message.includes('\n'), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('the official spec agrees with the IDX layout', () => {
  for (const spec of Object.values(OFFICIAL_SPEC)) {
    assert.equal(idxByteLength(spec.kind, spec.count), spec.bytes);
    assert.match(spec.sha256, /^[0-9a-f]{64}$/);
  }
});

test('parses a well-formed images file and a labels file', () => {
  const raw = encodeIdx('images', images(3));
  const parsed = parseIdx(raw, { kind: 'images', count: 3, sha256: sha256Hex(raw) }, WHERE) as IdxImages;
  assert.equal(parsed.count, 3);
  assert.equal(parsed.rows, 28);
  assert.equal(parsed.cols, 28);
  assert.deepEqual(parsed.data, images(3));
  assert.equal(parsed.bytes, 16 + 3 * 784);
  // The data is a copy: the caller may reuse the input buffer.
  raw[16] ^= 0xff;
  assert.equal(parsed.data[0], 0);

  const rawLabels = encodeIdx('labels', labels(12));
  const parsedLabels = parseIdx(rawLabels, { kind: 'labels' }, WHERE) as IdxLabels;
  assert.deepEqual(Array.from(parsedLabels.data), Array.from(labels(12)));
});

test('gunzip round-trips and names bad input', () => {
  const raw = encodeIdx('labels', labels(5));
  assert.deepEqual(gunzip(gzipSync(raw), WHERE), raw);
  assertDataError(() => gunzip(new Uint8Array(0), WHERE), /empty file/);
  assertDataError(() => gunzip(Buffer.from('<!DOCTYPE html><html>Not Found</html>'), WHERE), /not a gzip file .*DOCTYPE/);
  const gz = gzipSync(raw);
  assertDataError(() => gunzip(gz.subarray(0, gz.length - 6), WHERE), /corrupt gzip data .*unexpected end of file/);
  const flipped = Buffer.from(gz);
  flipped[flipped.length - 6] ^= 0x01; // inside the CRC-32 trailer
  assertDataError(() => gunzip(flipped, WHERE), /corrupt gzip data/);
});

test('rejects each kind of damage with a one-line message naming the file', () => {
  const spec = { kind: 'labels' as const, count: 6 };
  assertDataError(() => parseIdx(new Uint8Array(0), spec, WHERE), /empty/);
  assertDataError(() => parseIdx(new Uint8Array(5), spec, WHERE), /truncated: 5 bytes, shorter than the 8-byte IDX header/);
  assertDataError(() => parseIdx(encodeIdx('images', images(6)), spec, WHERE), /wrong magic number 2051 \(an images file\), expected 2049/);
  assertDataError(() => parseIdx(encodeIdx('labels', labels(7)), spec, WHERE), /header says 7 labels, expected 6/);
  assertDataError(
    () => parseIdx(encodeIdx('labels', labels(4), { count: 6 }), spec, WHERE),
    /truncated: header says 6 labels but the file holds 4 \(12 of 14 bytes\)/,
  );
  assertDataError(() => parseIdx(encodeIdx('labels', labels(8), { count: 6 }), spec, WHERE), /2 trailing bytes/);
  const outOfRange = labels(6);
  outOfRange[3] = 10;
  assertDataError(() => parseIdx(encodeIdx('labels', outOfRange), spec, WHERE), /label 10 at index 3 is outside 0\.\.9/);
  assertDataError(
    () => parseIdx(encodeIdx('images', images(2), { rows: 27 }), { kind: 'images' }, WHERE),
    /images are 27×28, expected 28×28/,
  );
  assertDataError(
    () => parseIdx(encodeIdx('images', images(2)).subarray(0, 16 + 784 + 5), { kind: 'images', count: 2 }, WHERE),
    /truncated: header says 2 images but the file holds 1/,
  );
});

test('compares the SHA-256 of the decompressed bytes when the spec gives one', () => {
  const raw = encodeIdx('labels', labels(6));
  const sha256 = sha256Hex(raw);
  parseIdx(raw, { kind: 'labels', sha256 }, WHERE);
  const flipped = Buffer.from(raw);
  flipped[10] ^= 0x01;
  assertDataError(() => parseIdx(flipped, { kind: 'labels', sha256 }, WHERE), /SHA-256 mismatch: got [0-9a-f]{64}, expected/);
  // A bit flipped in the compressed bytes is caught by gzip's own checks, before the checksum.
  const gz = gzipSync(raw);
  gz[gz.length - 9] ^= 0x01;
  assertDataError(() => parseIdxFile(gz, { kind: 'labels', sha256 }, WHERE, true), /corrupt gzip data|SHA-256 mismatch/);
});

test('a pair of different lengths is an error naming both files', () => {
  const img = parseIdx(encodeIdx('images', images(3)), { kind: 'images' }, '/x/images') as IdxImages;
  const lab = parseIdx(encodeIdx('labels', labels(2)), { kind: 'labels' }, WHERE) as IdxLabels;
  assertDataError(() => checkPair(img, '/x/images', lab, WHERE), /holds 2 labels but \/x\/images holds 3 images/);
});

test('DataError messages are always one line', () => {
  const err = new DataError('/x: first\n  second');
  assert.equal(err.message, '/x: first second');
});
