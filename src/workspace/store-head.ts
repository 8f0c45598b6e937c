/**
 * Points the checkpoint store's HEAD at a commit of a tree, as `git commit-tree` and `git update-ref --no-deref HEAD`
 * would, without their two processes: on a 100,000-file workspace they are a twentieth of `orc rollback`, and what
 * they write is a few bytes in a store that only orc uses. The commit's author and dates are fixed, so a tree always
 * makes the same commit, and a second rollback to one checkpoint writes nothing new.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";

const SHA1_ID = /^[0-9a-f]{40}$/;

/**
 * HEAD, detached, at a commit of `tree`. False when it cannot be done here: the store is not a SHA-1 one (orc makes
 * its stores so, but a 64-digit id is left to git), or HEAD is locked (a git process is moving it, and git's
 * update-ref would refuse too).
 */
export function pointHeadAt(storeDir: string, tree: string): boolean {
  if (!SHA1_ID.test(tree)) return false;
  const commit = writeLooseObject(storeDir, "commit", `tree ${tree}\nauthor orc <orc@localhost> 0 +0000\ncommitter orc <orc@localhost> 0 +0000\n\norc: restore base\n`);
  return writeHead(storeDir, commit);
}

/**
 * git's loose object format: `<type> <length>\0<body>`, named by its SHA-1, zlib-compressed. Written to a temporary
 * name first (one git's gc removes when it is left behind), then renamed: a reader sees the whole object or none.
 */
function writeLooseObject(storeDir: string, type: string, body: string): string {
  const content = Buffer.from(body, "utf8");
  const object = Buffer.concat([Buffer.from(`${type} ${String(content.length)}\0`, "utf8"), content]);
  const id = createHash("sha1").update(object).digest("hex");
  const dir = join(storeDir, "objects", id.slice(0, 2));
  const file = join(dir, id.slice(2));
  if (existsSync(file)) return id;
  mkdirSync(dir, { recursive: true });
  const temporary = join(dir, `tmp_obj_${randomBytes(6).toString("hex")}`);
  try {
    writeFileSync(temporary, deflateSync(object), { mode: 0o444 });
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
  return id;
}

/** git's lock protocol for a ref: HEAD.lock made exclusively, written, renamed over HEAD. */
function writeHead(storeDir: string, commit: string): boolean {
  const lock = join(storeDir, "HEAD.lock");
  let fd: number;
  try {
    fd = openSync(lock, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    try {
      writeSync(fd, `${commit}\n`);
    } finally {
      closeSync(fd);
    }
    renameSync(lock, join(storeDir, "HEAD"));
  } catch (error) {
    rmSync(lock, { force: true });
    throw error;
  }
  return true;
}
