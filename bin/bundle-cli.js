#!/usr/bin/env node
// Bundles tsc's output (dist/cli/main.js and everything it imports, eagerly or lazily) into dist/bundle/, which
// bin/orc.cjs runs: a few modules instead of ~100 saves resolving, reading and linking on every command. rolldown
// splits the chunks at the dynamic imports, so each command, agent and LLM provider loads only what it uses and
// `orc --version` loads main.cjs alone.
//
// The chunks are CommonJS: node loads those synchronously, where its ESM loader goes through the event loop several
// times per module (resolve, read, link). `orc rollback` refuses an unknown run ~11 ms sooner (98 -> 87 ms, medians
// of 15). Dynamic imports stay `import()`, so ESM-only packages (node-llama-cpp) load as before; every package
// required statically ships a CommonJS entry.
//
// Packages stay external (node_modules is resolved at run time), but for yaml and commander: plain JS that every
// command reading a file (yaml) or every command (commander) needs, whose CommonJS files cost time to resolve and load
// one by one (yaml: ~70 files, ~15 ms; commander: 7 files, ~4 ms of each `orc` start). The files the code finds
// through `import.meta.url` (rolldown turns it into the chunk's own file URL) stay where they are: dist/bundle/ is as
// deep as dist/cli/, so `../../schemas/` and `../config/validators/` point where they did. Part of `npm run build`,
// after tsc.
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const out = `${dist}bundle`;
rmSync(out, { recursive: true, force: true });
await build({
  input: { main: `${dist}cli/main.js` },
  platform: "node",
  // Bare specifiers are packages (and node: built-ins).
  external: (id) => id !== "yaml" && id !== "commander" && !id.startsWith(".") && !id.startsWith("/"),
  logLevel: "warn",
  // strict: every chunk strict, as ES modules always were (tsc's output carries no "use strict" of its own).
  output: { dir: out, format: "cjs", strict: true, entryFileNames: "[name].cjs", chunkFileNames: "[name]-[hash].cjs" },
});
console.log("wrote dist/bundle/main.cjs");
