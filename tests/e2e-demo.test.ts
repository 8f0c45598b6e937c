import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./helpers/rig.js";

describe("npm run demo", () => {
  it("runs the bundled pipeline end to end: every task accepted, the retry visible, exit 0", () => {
    const state = mkdtempSync(join(tmpdir(), "orc-demo-state-"));
    try {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
      const result = spawnSync("npm", ["run", "--silent", "demo"], {
        cwd: REPO,
        env: { ...env, CI: "true", ORC_STATE_DIR: state },
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^run r-\S+: pipeline demo, 3 tasks, workspace /);
      expect(result.stdout).toContain("[subtract] gate tests failed: exit 1");
      expect(result.stdout).toContain("[subtract] attempt 1: retry (gate tests failed");
      expect(result.stdout).toContain("[subtract] attempt 2: accept");
      for (const task of ["subtract", "multiply", "docs"]) expect(result.stdout).toContain(`[${task}] accepted`);
      expect(result.stdout).toMatch(/run r-\S+ succeeded: all 3 tasks accepted/);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});
