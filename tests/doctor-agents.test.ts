import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { REPO, Rig } from "./helpers/rig.js";

interface Doctor { ok: boolean; checks: { name: string; status: string; detail: string; data?: { agents?: Record<string, { path: string | null; version: string | null }> } }[] }

describe("orc doctor: agent CLIs", () => {
  let rig: Rig;
  beforeEach(() => { rig = new Rig(); });
  afterEach(() => { rig.cleanup(); });

  it("reports which agent CLIs are installed, where, and their versions", () => {
    mkdirSync(rig.path("bin"));
    // Aider cannot be installed here: a STAND-IN named `aider` answers --version like the real one.
    symlinkSync(join(REPO, "tests", "fixtures", "aider-standin.mjs"), rig.path("bin", "aider"));
    const path = [rig.path("bin"), join(REPO, "node_modules", ".bin"), dirname(process.execPath), "/usr/bin", "/bin"].join(":");
    const doctor = rig.json<Doctor>(["doctor", "--json"], { env: { PATH: path } });
    const agents = doctor.checks.find((c) => c.name === "agents");
    expect(agents?.status).toBe("ok");
    expect(agents?.data?.agents?.["claude-code"]).toEqual({ executable: "claude", path: join(REPO, "node_modules", ".bin", "claude"), version: "2.1.330" });
    expect(agents?.data?.agents?.opencode?.version).toBe("1.18.33");
    expect(agents?.data?.agents?.aider).toMatchObject({ path: rig.path("bin", "aider"), version: "0.86.1" });
    expect(agents?.detail).toContain("claude-code 2.1.330");
  });

  it("warns when orchestrator.yaml's default agent has no CLI on this machine", () => {
    rig.write("orchestrator.yaml", "version: 1\nagent: { kind: codex }\n");
    const doctor = rig.json<Doctor>(["doctor", "--json"], { env: { PATH: "/usr/bin:/bin" } });
    const agents = doctor.checks.find((c) => c.name === "agents");
    expect(agents?.status).toBe("warn");
    expect(agents?.detail).toContain("the default agent (codex) cannot start");
  });
});
