import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** End-to-end tests run the built binary: refuse to start on a stale or missing build instead of failing obscurely. */
export default function setup(): void {
  const entry = fileURLToPath(new URL("../dist/bundle/main.cjs", import.meta.url));
  if (!existsSync(entry)) throw new Error(`orc is not built (${entry} missing): run \`npm run build\` first`);
}
