/**
 * Leftovers of killed processes: temporary files and folders whose names carry the pid of the
 * process that wrote them. A `finally` does not run when a process is killed, so the next process
 * to look removes what only a process that is gone could have finished.
 */
import fs from 'node:fs';
import path from 'node:path';

/** True while a process with this pid exists. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the entries of `dir` whose writer, as `writerOf` reads it from the name, no longer runs.
 * Entries it gives no pid for are not leftovers; those of live processes (this one included) may
 * still be renamed into place and are left alone.
 */
export function removeLeftovers(dir: string, writerOf: (name: string) => number | undefined): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = writerOf(name);
    if (pid === undefined || !Number.isInteger(pid) || pid <= 0 || isRunning(pid)) continue;
    try {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    } catch {
      // One that cannot be removed (a read-only folder) is harmless: every reader skips it by name.
    }
  }
}
