import { execFile } from "node:child_process";
import type { DoctorCheck } from "./check.js";

/** orc's checkpoints live in a shadow git store: git must be on PATH. */
export const gitPresent: DoctorCheck = {
  name: "git",
  run: (ctx) =>
    new Promise((resolve) => {
      execFile("git", ["--version"], { timeout: 10_000, env: { ...ctx.env } }, (error, stdout) => {
        if (error !== null) resolve({ status: "fail", detail: `git cannot be run (${error.message.split("\n")[0] ?? ""}); orc's checkpoints need it` });
        else resolve({ status: "ok", detail: stdout.trim(), data: { version: stdout.trim().replace(/^git version /, "") } });
      });
    }),
};
