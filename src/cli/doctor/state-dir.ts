import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { defaultStateDir, insideProject } from "../../config/index.js";
import type { CheckResult, DoctorCheck, DoctorContext } from "./check.js";

/**
 * Where the state directory is and why, whether orc can write there (a probe file, creating the directory as `orc
 * apply` would), and a warning when it lies inside the project, where an agent can delete it.
 */
export const stateDirWritable: DoctorCheck = {
  name: "state",
  run: async (ctx) => {
    const { stateDir: dir, stateSource: source, root } = ctx.settings;
    const inside = insideProject(dir, root);
    const data = { dir, source, insideProject: inside };
    const where = `${dir} (${why(ctx)})`;
    const probe = join(dir, `.doctor-${String(process.pid)}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(probe, "ok");
      await rm(probe, { force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      return { status: "fail", detail: `${where} is not writable (${code}): set ORC_STATE_DIR to a directory orc can write`, data };
    }
    return inside ? { status: "warn", detail: `${where} is writable, but ${insideWarning(ctx)}`, data } : { status: "ok", detail: `${where} is writable`, data };
  },
};

function why(ctx: DoctorContext): string {
  const { stateSource, file } = ctx.settings;
  switch (stateSource) {
    case "env":
      return "from ORC_STATE_DIR";
    case "config":
      return `from state: in ${file === undefined ? "orchestrator.yaml" : relative(ctx.cwd, file) || file}`;
    case "legacy":
      return "the project's .orc/, kept because it holds this project's runs";
    case "default":
      return "the default, outside the project";
  }
}

function insideWarning(ctx: DoctorContext): CheckResult["detail"] {
  const { stateDir, stateSource, root } = ctx.settings;
  const risk = `it is inside the project ${root}, where an agent can delete it`;
  const outside = defaultStateDir(root, ctx.env);
  // mv into an existing directory would nest .orc inside it: only offer the command while the default is free.
  if (stateSource === "legacy" && outside !== undefined && !existsSync(outside)) {
    return `${risk}: \`mkdir -p ${quote(dirname(outside))} && mv ${quote(stateDir)} ${quote(outside)}\` keeps its runs out of reach`;
  }
  return `${risk}: point ${stateSource === "config" ? "state:" : "ORC_STATE_DIR"} at a directory outside it`;
}

/** A path as one shell word. */
function quote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
}
