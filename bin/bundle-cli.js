#!/usr/bin/env node
// Bundles tsc's output (dist/cli/main.js and everything it imports, eagerly or lazily) into dist/bundle/, which bin/orc.js
// runs: a few ESM modules instead of ~100 saves ~35 ms of resolving, reading and linking on every command. Lazily
// imported commands and agents stay chunks of their own, so `orc --version` still loads commander and nothing else. Packages
// stay external (node_modules is resolved at run time as before), and so do the files the code finds through
// `import.meta.url`: dist/bundle/ is as deep as dist/cli/, so `../../schemas/` and `../vendor/yaml.cjs` point where
// they did. Part of `npm run build`, after tsc.
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));

// Two named chunks for the modules that nearly every command needs: CONFIG, what `orc validate` and `orc plan` load
// (config and the core it uses, the plan), and RUN, what `orc apply` loads on top (the run loop, state, processes, the change check, the
// reporters, the command agent and gate). A run then reads 4 chunks instead of ~27 (~15 ms less at every start).
// Neither names a module that imports a heavy package at its top (llm/, the other agents, ui/listr): those stay
// in chunks of their own, loaded when used. A module named in neither is split the default way, so forgetting one
// costs a chunk, nothing else. `orc --version` still loads main.js alone (tests/e2e-startup.test.ts), and the native
// addons in RUN (better-sqlite3, @parcel/watcher) load on first use, not with the chunk.
const CONFIG = /^(config\/|core\/(duration|expression|kinds|pipeline|result)\.js$|cli\/(context|load|packs|validate)\.js$|plan\/plan\.js$)/;
const RUN =
  /^(run\/|state\/|transports\/|watch\/|rules\/(attempt-rules|breakpoints|builtin|context|engine|pack-gates|packs)\.js$|prompts\/(context|engine|summary)\.js$|ui\/(batched-sink|choose|describe-agent|describe|ndjson|plain)\.js$|agents\/(registry|command)\.js$|quality\/(command-gate|reports\/tap)\.js$|cli\/(apply|checkpoint-start|drive|interrupt|judge-wiring|run-deps)\.js$|core\/(failure|glob|ids)\.js$)/;
const inGroup = (id, pattern) => id.startsWith(dist) && pattern.test(id.slice(dist.length));
const out = `${dist}bundle`;
rmSync(out, { recursive: true, force: true });
await build({
  input: { main: `${dist}cli/main.js` },
  platform: "node",
  // Bare specifiers are packages (and node: built-ins): never inlined.
  external: (id) => !id.startsWith(".") && !id.startsWith("/"),
  logLevel: "warn",
  // The groups below leave modules they do not name where the default splitting puts them; that needs this.
  preserveEntrySignatures: "allow-extension",
  // The run chunk holds modules that are also imported lazily (the command agent, the judge wiring): expected.
  checks: { ineffectiveDynamicImport: false },
  output: {
    dir: out,
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "[name]-[hash].js",
    codeSplitting: { includeDependenciesRecursively: false, groups: [{ name: "config", test: (id) => inGroup(id, CONFIG) }, { name: "run", test: (id) => inGroup(id, RUN) }] },
  },
});
console.log("wrote dist/bundle/main.js");
