/**
 * Downloads one file safely: into a temporary file beside its destination, checked, and only
 * then renamed into place. A rename within one folder is atomic, so a reader (or a second process
 * downloading the same file at the same time) sees either no file or a complete, verified one,
 * never a partial download. Used by `loadFashionMnist` (src/data/load.ts) when no copy is found.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { removeLeftovers } from '../core/leftovers';
import { DataError } from './idx';

export interface DownloadProgress {
  url: string;
  /** Bytes of the body received so far. */
  received: number;
  /** The body's length from Content-Length, when the server sends one. */
  total?: number;
}

export interface DownloadOptions<T> {
  /**
   * Checks the downloaded bytes and returns what the caller wants from them; throwing (a
   * DataError whose message starts with `where`) rejects the download and removes the file.
   */
  verify: (bytes: Buffer, where: string) => T;
  /**
   * The longest wait, in milliseconds, for the server to answer or to send the next bytes.
   * It restarts with every chunk, so a slow but steady download finishes while a stalled one
   * fails. Default 60000.
   */
  timeoutMs?: number;
  /** Redirects followed before giving up. Default 5. */
  maxRedirects?: number;
  /** Called for every chunk received. */
  onProgress?: (progress: DownloadProgress) => void;
  /** No progress bar or lines on stderr. Default false. */
  quiet?: boolean;
  /** Where the progress goes. Default process.stderr. */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_REDIRECTS = 5;

/** A unique temporary name beside `dest`: two processes never write to the same file. */
export function temporaryPath(dest: string): string {
  const suffix = `${process.pid}.${randomBytes(6).toString('hex')}`;
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${suffix}.tmp`);
}

/**
 * Removes the temporary files of `dest` left by processes that no longer run (killed in the
 * middle of a download, when no `finally` gets to clean up). Those of live processes, including
 * other downloads in this one, are left alone: they may still be renamed into place.
 */
export function removeStaleTemporaryFiles(dest: string): void {
  const prefix = `.${path.basename(dest)}.`;
  removeLeftovers(path.dirname(dest), (name) =>
    name.startsWith(prefix) && name.endsWith('.tmp') ? Number(name.slice(prefix.length).split('.')[0]) : undefined,
  );
}

/** Sizes as a progress line shows them: kB for the label files, MB for the image files. */
const amount = (n: number, total = n): string => (total < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`);

/**
 * A bar on a terminal, or a few plain lines when stderr goes to a file or a notebook, where
 * carriage returns would pile up as hundreds of lines.
 */
class ProgressReport {
  private lastDraw = 0;
  private drawn = false;
  private nextQuarter = 1;

  constructor(
    private readonly stream: DownloadOptions<unknown>['progressStream'],
    private readonly name: string,
    private readonly url: string,
  ) {
    if (this.stream && !this.stream.isTTY) this.stream.write(`downloading ${this.url}\n`);
  }

  update(received: number, total: number | undefined): void {
    const stream = this.stream;
    if (!stream) return;
    if (stream.isTTY) {
      const now = Date.now();
      // Redrawing on every chunk would cost more than the download on a fast link.
      if (now - this.lastDraw < 100 && received !== total) return;
      this.lastDraw = now;
      this.drawn = true;
      stream.write(`\r${this.bar(received, total)}`);
    } else if (total !== undefined && total > 1e6) {
      // Small files finish at once; quarter marks are only worth printing for the large ones.
      while (this.nextQuarter < 4 && received >= (total * this.nextQuarter) / 4) {
        stream.write(`  ${this.name}: ${this.nextQuarter * 25}% (${amount(received, total)} of ${amount(total)})\n`);
        this.nextQuarter++;
      }
    }
  }

  private bar(received: number, total: number | undefined): string {
    if (total === undefined || total === 0) return `${this.name} ${amount(received)}`;
    const width = Math.max(10, Math.min(40, (this.stream?.columns ?? 80) - this.name.length - 30));
    const fraction = Math.min(1, received / total);
    const filled = Math.round(fraction * width);
    const percent = String(Math.floor(fraction * 100)).padStart(3);
    return `${this.name} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}% ${amount(received, total)} of ${amount(total)}`;
  }

  finish(received: number, seconds: number): void {
    const stream = this.stream;
    if (!stream) return;
    if (stream.isTTY) {
      stream.write(`\r${this.bar(received, received)}  ${seconds.toFixed(1)} s\n`);
    } else {
      stream.write(`  ${this.name}: ${received} bytes in ${seconds.toFixed(1)} s\n`);
    }
  }

  /** Ends a half-drawn bar so the error message that follows starts on its own line. */
  abandon(): void {
    if (this.stream?.isTTY && this.drawn) this.stream.write('\n');
  }
}

/** Node's network errors in words a reader can act on. */
function describeNetworkError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found (no network, or a typo in the mirror URL)';
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      return e instanceof Error ? e.message : String(err);
  }
}

interface Exchange {
  request: http.ClientRequest;
  response: http.IncomingMessage;
}

/**
 * One idle timer for a whole download: it starts with the request, restarts with each chunk,
 * and when it fires it destroys whatever is in flight, so a server that accepts the connection
 * and then sends nothing cannot hang the caller.
 */
class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  fired = false;
  private target: { destroy(error?: Error): unknown } | undefined;

  constructor(private readonly ms: number) {}

  watch(target: { destroy(error?: Error): unknown }): void {
    this.target = target;
    this.kick();
  }

  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.target?.destroy(new Error('stalled'));
    }, this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

function get(url: URL, watchdog: Watchdog): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    // Identity encoding: the .gz files must arrive byte for byte, not re-compressed in transit.
    const request = client.get(url, { headers: { 'accept-encoding': 'identity', 'user-agent': 'fmnist-tutorial' } }, (response) =>
      resolve({ request, response }),
    );
    request.on('error', reject);
    watchdog.watch(request);
  });
}

/**
 * Downloads `url` into `dest` (whose folder must exist), checking the bytes with
 * `options.verify` before the file appears under its name. On any failure the temporary file is
 * removed and a one-line DataError naming the URL is thrown; an existing `dest` is left as it was.
 */
export async function downloadVerified<T>(url: string, dest: string, options: DownloadOptions<T>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const report = new ProgressReport(options.quiet ? undefined : (options.progressStream ?? process.stderr), path.basename(dest), url);
  removeStaleTemporaryFiles(dest);
  const tmp = temporaryPath(dest);
  const watchdog = new Watchdog(timeoutMs);
  const started = Date.now();
  let received = 0;
  let total: number | undefined;
  try {
    let current: URL;
    try {
      current = new URL(url);
    } catch {
      throw new DataError(`${url}: not a valid URL`);
    }
    for (let redirects = 0; ; redirects++) {
      if (current.protocol !== 'http:' && current.protocol !== 'https:') {
        throw new DataError(`${url}: unsupported protocol ${current.protocol} (only http and https)`);
      }
      let exchange: Exchange;
      try {
        exchange = await get(current, watchdog);
      } catch (err) {
        throw new DataError(`${url}: ${watchdog.fired ? `no answer within ${timeoutMs} ms` : describeNetworkError(err)}`);
      }
      const { response } = exchange;
      watchdog.watch(response);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        // The body of a redirect is of no use; reading it frees the connection.
        response.resume();
        if (redirects >= maxRedirects) throw new DataError(`${url}: more than ${maxRedirects} redirects`);
        current = new URL(response.headers.location, current);
        continue;
      }
      if (status !== 200) {
        response.resume();
        const via = current.href === url ? '' : ` (redirected to ${current.href})`;
        throw new DataError(`${url}: HTTP ${status} ${response.statusMessage ?? ''}`.trimEnd() + via);
      }
      const length = Number(response.headers['content-length']);
      total = Number.isFinite(length) && length >= 0 ? length : undefined;
      await receive(response, tmp, watchdog, (chunkBytes) => {
        received += chunkBytes;
        report.update(received, total);
        options.onProgress?.({ url, received, total });
      }).catch((err: unknown) => {
        const sizes = total === undefined ? `${received} bytes` : `${received} of ${total} bytes`;
        if (watchdog.fired) throw new DataError(`${url}: stalled: no data for ${timeoutMs} ms after ${sizes}`);
        if (err instanceof DataError) throw err;
        throw new DataError(`${url}: download interrupted after ${sizes}: ${describeNetworkError(err)}`);
      });
      break;
    }
    watchdog.stop();
    if (total !== undefined && received !== total) {
      throw new DataError(`${url}: incomplete download: ${received} of ${total} bytes`);
    }
    const bytes = await fs.promises.readFile(tmp);
    const result = options.verify(bytes, url);
    await fs.promises.rename(tmp, dest);
    report.finish(received, (Date.now() - started) / 1000);
    return result;
  } catch (err) {
    watchdog.stop();
    report.abandon();
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    if (err instanceof DataError) throw err;
    throw new DataError(`${url}: ${describeNetworkError(err)}`);
  }
}

/** Streams the body into a new file, flushed to disk before it is closed so the rename is durable. */
async function receive(response: http.IncomingMessage, tmp: string, watchdog: Watchdog, onChunk: (bytes: number) => void): Promise<void> {
  let file: fs.promises.FileHandle;
  try {
    // 'wx' fails rather than overwrite: the name is unique, so an existing file means a bug.
    file = await fs.promises.open(tmp, 'wx');
  } catch (err) {
    response.destroy();
    const e = err as NodeJS.ErrnoException;
    throw new DataError(`${tmp}: cannot create the download file: ${e.code ?? e.message}`);
  }
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      watchdog.kick();
      await file.write(chunk);
      onChunk(chunk.length);
    }
    await file.sync();
  } finally {
    await file.close();
  }
}
