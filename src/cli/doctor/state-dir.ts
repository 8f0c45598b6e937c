import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DoctorCheck } from "./check.js";

/** Writes and removes a probe file in the state directory (creating the directory as `orc apply` would). */
export const stateDirWritable: DoctorCheck = {
  name: "state",
  run: async (ctx) => {
    const dir = ctx.settings.stateDir;
    const probe = join(dir, `.doctor-${String(process.pid)}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(probe, "ok");
      await rm(probe, { force: true });
      return { status: "ok", detail: `${dir} is writable`, data: { dir } };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      return { status: "fail", detail: `${dir} is not writable (${code})`, data: { dir } };
    }
  },
};
