// `npm run bench`: every benchmark, each as a ratio to a floor measured in the same run (medians of several runs).
// Results print as JSON lines and are written to bench/results/latest.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const orc = join(root, "bin", "orc.cjs");
const only = process.argv.slice(2);
const suites = {
  version: () => import("./version.mjs"),
  validate: () => import("./validate-large.mjs"),
  apply: () => import("./apply-dag.mjs"),
  state: () => import("./state-append.mjs"),
  judge: () => import("./judge.mjs"),
  sandbox: () => import("./sandbox.mjs"),
  "sandbox-probe": () => import("./sandbox-probe.mjs"),
  docker: () => import("./docker.mjs"),
  ssh: () => import("./ssh.mjs"),
  big: () => import("./big-workspace.mjs"),
  parallel: () => import("./parallel.mjs"),
};

const results = [];
for (const [name, load] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const suite = await load();
  const result = await suite.run({ orc });
  results.push(result);
  console.log(JSON.stringify(result));
}
mkdirSync(join(root, "bench", "results"), { recursive: true });
writeFileSync(join(root, "bench", "results", "latest.json"), `${JSON.stringify({ time: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
