/**
 * What git's outputs and names look like, for the checkpoint store (src/workspace/shadow-git.ts): `diff-tree`'s
 * records, the ref names git accepts, an index file's entry count, and paths cut into command lines that fit.
 */
import { open } from "node:fs/promises";
import type { FileChange } from "../core/events.js";

/** Parses `diff-tree -r -z --raw --numstat` (without renames): raw records first, then numstat records. */
export function parseDiff(out: string): FileChange[] {
  const tokens = out.split("\0");
  const status = new Map<string, FileChange["status"]>();
  const counts = new Map<string, { added: number; removed: number; binary: boolean }>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? "";
    if (token === "") continue;
    if (token.startsWith(":")) {
      // :<old mode> <new mode> <old id> <new id> <status>\0<path>\0
      const path = tokens[++i] ?? "";
      const letter = token.slice(token.lastIndexOf(" ") + 1).charAt(0);
      status.set(path, letter === "A" ? "added" : letter === "D" ? "deleted" : "modified");
      continue;
    }
    // <added>\t<removed>\t<path>\0, `-\t-\t` for a binary file
    const first = token.indexOf("\t");
    const second = token.indexOf("\t", first + 1);
    if (first < 0 || second < 0) throw new Error(`unexpected git diff-tree output: ${JSON.stringify(token.slice(0, 200))}`);
    const added = token.slice(0, first);
    const removed = token.slice(first + 1, second);
    const binary = added === "-" && removed === "-";
    counts.set(token.slice(second + 1), { added: binary ? 0 : Number(added), removed: binary ? 0 : Number(removed), binary });
  }
  return [...status.entries()]
    .map(([path, s]) => ({ path, status: s, ...(counts.get(path) ?? { added: 0, removed: 0, binary: false }) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A ref name git accepts for `name` (components split on `/`, unusual characters %-escaped). */
export function refName(name: string): string {
  const parts = name.split("/").filter((p) => p !== "");
  if (parts.length === 0) throw new Error(`invalid checkpoint name ${JSON.stringify(name)}`);
  return parts
    .map((part) => {
      let out = "";
      for (const byte of Buffer.from(part, "utf8")) {
        const ch = String.fromCharCode(byte);
        out += /[A-Za-z0-9_.-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }
      // No leading dot, no "..", no trailing "." or ".lock".
      out = out.replace(/^\./, "%2E").replaceAll("..", ".%2E").replace(/\.$/, "%2E").replace(/\.lock$/, "%2Elock");
      return out;
    })
    .join("/");
}

/** The entry count in an index file's header ("DIRC", version, count); 0 when it is not one. */
export async function indexEntries(path: string): Promise<number> {
  const file = await open(path).catch(() => undefined);
  if (file === undefined) return 0;
  try {
    const header = Buffer.alloc(12);
    const { bytesRead } = await file.read(header, 0, 12, 0);
    return bytesRead === 12 && header.toString("latin1", 0, 4) === "DIRC" ? header.readUInt32BE(8) : 0;
  } finally {
    await file.close();
  }
}

/** `paths` in groups whose total length stays under `maxBytes` (one path per group at least). */
export function batches(paths: readonly string[], maxBytes: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const path of paths) {
    const size = Buffer.byteLength(path) + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(path);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
