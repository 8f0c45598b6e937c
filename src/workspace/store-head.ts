/**
 * Points the checkpoint store's HEAD at a commit of a tree, as `git commit-tree` and `git update-ref --no-deref HEAD`
 * would, without their two processes: on a 100,000-file workspace they are a twentieth of `orc rollback`, and what
 * they write is a few bytes in a store that only orc uses. orc makes that store with git's defaults under an empty
 * configuration (SHA-1 objects, refs as files), which is what the formats below are. The commit's author and dates are
 * fixed, so a tree always makes the same commit.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";

const SHA1_ID = /^[0-9a-f]{40}$/;

/** A HEAD moved by pointHeadAt(), and how to put the one before it back. */
export interface MovedHead {
  /** HEAD as it was (a branch it named, or a commit): for when what it now names turns out not to be usable. */
  putBack(): void;
}

/**
 * HEAD, detached, at a commit of `tree`. Undefined, with HEAD as it was, when it cannot be done here: a 64-digit id
 * (not a store orc made), HEAD locked by a git process moving it (git's update-ref would refuse too), or the store not
 * writable. The tree is not looked up: a caller whose git then finds it missing puts the old HEAD back.
 */
export function pointHeadAt(storeDir: string, tree: string): MovedHead | undefined {
  if (!SHA1_ID.test(tree)) return undefined;
  try {
    const before = readFileSync(join(storeDir, "HEAD"));
    const commit = writeLooseObject(storeDir, "commit", `tree ${tree}\nauthor orc <orc@localhost> 0 +0000\ncommitter orc <orc@localhost> 0 +0000\n\norc: restore base\n`);
    if (!writeHead(storeDir, Buffer.from(`${commit}\n`, "utf8"))) return undefined;
    return {
      putBack: () => {
        try {
          writeHead(storeDir, before);
        } catch {
          // The restore's own failure is what the caller reports; HEAD is only ever compared with, never built on.
        }
      },
    };
  } catch {
    return undefined;
  }
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

/** git's lock protocol for a ref: HEAD.lock made exclusively, written, renamed over HEAD. False when it is held. */
function writeHead(storeDir: string, content: Buffer): boolean {
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
      writeSync(fd, content);
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
