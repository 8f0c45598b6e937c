import { linkSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";

/** A file as the kernel knows it: a path deleted and made again is another file, though its name is the same. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** The identity of what is at `file` now; undefined when nothing is. */
export function identityOf(file: string): FileIdentity | undefined {
  try {
    const stat = statSync(file);
    return { dev: stat.dev, ino: stat.ino };
  } catch {
    return undefined;
  }
}

export function sameFile(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/**
 * What is wrong with the database file when `error` says it is not a sound SQLite database (SQLITE_NOTADB, or
 * SQLITE_CORRUPT and its extended codes); undefined for any other error. Read by name, so the caller need not load
 * better-sqlite3 to ask.
 */
export function damageOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== "SqliteError") return undefined;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code !== "string" || !(code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT"))) return undefined;
  return `${error.message}, ${code}`;
}

/** The one line for a database orc will not touch: it is never migrated, overwritten, moved or deleted. */
export function damagedMessage(file: string, damage: string): string {
  return `${file} is damaged (${damage}); orc left it as it is: move it aside to start afresh, or restore it from a backup`;
}

/**
 * Writes a copy (`save(tmp)`) beside `file` and links it in at `file` without replacing anything there (link(2) fails
 * on an existing name, with no window in which another file could be lost). If something new already took the name,
 * the copy stays beside it as `file.recovered-TIME`. Returns where the copy is.
 */
export function writeBack(file: string, save: (tmp: string) => void): string {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.orc-restore-${String(process.pid)}`;
  rmSync(tmp, { force: true });
  save(tmp);
  try {
    linkSync(tmp, file);
    rmSync(tmp, { force: true });
    return file;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const kept = `${file}.recovered-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    renameSync(tmp, kept);
    return kept;
  }
}
