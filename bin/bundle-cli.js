#!/usr/bin/env node
// Bundles tsc's output (dist/cli/main.js and everything it imports, eagerly or lazily) into dist/bundle/, which bin/orc.js
// runs: ~20 ESM modules instead of ~90 saves ~20 ms of resolving, reading and linking on every command. Each lazily
// imported command or agent stays its own chunk, so `orc --version` still loads commander and nothing else. Packages
// stay external (node_modules is resolved at run time as before), and so do the files the code finds through
// `import.meta.url`: dist/bundle/ is as deep as dist/cli/, so `../../schemas/` and `../vendor/yaml.cjs` point where
// they did. Part of `npm run build`, after tsc.
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const out = `${dist}bundle`;
rmSync(out, { recursive: true, force: true });
await build({
  input: { main: `${dist}cli/main.js` },
  platform: "node",
  // Bare specifiers are packages (and node: built-ins): never inlined.
  external: (id) => !id.startsWith(".") && !id.startsWith("/"),
  logLevel: "warn",
  output: { dir: out, format: "esm", entryFileNames: "[name].js", chunkFileNames: "[name]-[hash].js" },
});
console.log("wrote dist/bundle/main.js");
