/**
 * Builds the docker transport for one run (registered in ../registry.ts): the engine client, the user processes run
 * as, and the removal of this project's orphaned containers (their orc died) before anything new starts.
 */
import { createHash } from "node:crypto";
import { chownSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";
import type { DockerTransportSpec } from "../../core/pipeline.js";
import type { BuiltTransport, TransportContext } from "../port.js";
import { removeOrphans } from "./container.js";
import { dockerEnv } from "./env.js";
import { socketPath } from "./options.js";
import { DockerTransport } from "./transport.js";

/** The label value that names a project: its state directory, hashed (a path may say more than a label should). */
export function projectLabel(stateDir: string): string {
  return createHash("sha256").update(stateDir).digest("hex").slice(0, 16);
}

/** The configured user, else the workspace's owner, so the files agents write belong to whoever owns the workspace. */
function userFor(spec: DockerTransportSpec, workspace: string): string {
  if (spec.user !== undefined) return spec.user;
  const stat = statSync(workspace);
  return `${String(stat.uid)}:${String(stat.gid)}`;
}

/**
 * The home must be writable by the user inside. orc running as root (sudo, CI) hands it to a numeric user; a user
 * named by the image cannot be resolved here (docs/docker.md says to give uid:gid when its home matters).
 */
function giveHome(homeDir: string, user: string): void {
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (match === null || process.getuid?.() !== 0) return;
  const uid = Number(match[1]);
  chownSync(homeDir, uid, match[2] === undefined ? uid : Number(match[2]));
}

export async function buildDockerTransport(spec: DockerTransportSpec, ctx: TransportContext): Promise<BuiltTransport> {
  const socket = socketPath(spec, ctx.env);
  const docker = new Docker({ socketPath: socket });
  const project = projectLabel(ctx.stateDir);
  // Kept per run, like the sandbox's: an agent's session files survive from one attempt (and container) to the next.
  const homeDir = join(ctx.stateDir, "runs", ctx.runId, "home");
  mkdirSync(homeDir, { recursive: true, mode: 0o700 });
  mkdirSync(ctx.promptDir, { recursive: true });
  mkdirSync(ctx.scratchDir, { recursive: true, mode: 0o700 });
  const user = userFor(spec, ctx.workspace);
  giveHome(homeDir, user);
  giveHome(ctx.scratchDir, user);
  // The engine may be down now and up by the first process: that process reports it, not the run's start.
  const removed = await removeOrphans(docker, project).catch(() => [] as string[]);
  const transport = new DockerTransport(docker, { spec, socket, workspace: ctx.workspace, readable: [ctx.promptDir], writable: [ctx.scratchDir], homeDir, runId: ctx.runId, project, user }, removed.includes(ctx.runId));
  return { transport, env: dockerEnv(ctx.env, spec.env) };
}
