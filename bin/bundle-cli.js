#!/usr/bin/env node
// Bundles tsc's output (dist/cli/main.js and everything it imports, eagerly or lazily) into dist/bundle/, which bin/orc.js
// runs: a few ESM modules instead of ~100 saves resolving, reading and linking on every command. rolldown splits the
// chunks at the dynamic imports, so each command, agent and LLM provider loads only what it uses and `orc --version`
// loads main.js alone. Packages stay external (node_modules is resolved at run time), but for yaml and commander: plain
// JS that every command reading a file (yaml) or every command (commander) needs, whose CommonJS files cost time to
// resolve and load one by one (yaml: ~70 files, ~15 ms; commander: 7 files, ~4 ms of each `orc` start). The files the
// code finds through `import.meta.url` stay where they are: dist/bundle/ is as deep as dist/cli/, so `../../schemas/`
// and `../config/validators/` point where they did. Part of `npm run build`, after tsc.
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
  output: { dir: out, format: "esm", entryFileNames: "[name].js", chunkFileNames: "[name]-[hash].js" },
});
console.log("wrote dist/bundle/main.js");
