import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { identify, killGroupIfSame } from "../src/transports/process-identity.js";
import { supervise } from "../src/transports/supervisor.js";
import { gone, isAlive } from "./helpers/rig.js";

describe("stopping an orphaned agent", () => {
  it("kills the group only when pid and start time both match", async () => {
    const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    const pid = child.pid ?? 0;
    const me = identify(pid);
    expect(me.startTime).toMatch(/^\d+$/);

    expect(killGroupIfSame({ pid, startTime: "1" })).toBe(false); // a pid reused by another process is left alone
    expect(killGroupIfSame({ pid })).toBe(false); // no start time recorded: never kill on a pid alone
    expect(isAlive(pid)).toBe(true);

    expect(killGroupIfSame(me)).toBe(true);
    expect(await gone(pid)).toBe(true);
  });

  it("the supervisor reports each process it starts, with its identity", async () => {
    const seen: { pid: number; startTime?: string }[] = [];
    const outcome = await supervise({ command: "sleep 0.1", shell: true, cwd: "/", env: { PATH: process.env.PATH ?? "" }, onSpawn: (p) => seen.push(p) });
    expect(outcome.end).toBe("exited");
    expect(seen).toHaveLength(1);
    expect(seen[0]?.pid).toBe(outcome.pid);
    expect(seen[0]?.startTime).toMatch(/^\d+$/);
  });
});
