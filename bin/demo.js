#!/usr/bin/env node
// `npm run demo`: copies the bundled example project to a temporary directory and runs the real `orc apply` on it,
// so the demo never touches this checkout's files. Exits with orc's exit code.
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const workspace = mkdtempSync(join(tmpdir(), "orc-demo-"));
cpSync(join(root, "examples", "calculator"), workspace, { recursive: true });
const orc = join(root, "bin", "orc.cjs");
const result = spawnSync(process.execPath, [orc, "apply", join(root, "pipelines", "demo.yaml"), "--workspace", workspace, ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
console.log(`\ndemo workspace: ${workspace}\nnext: node bin/orc.cjs status   (or: node bin/orc.cjs logs <run>)`);
process.exit(result.status ?? 1);
