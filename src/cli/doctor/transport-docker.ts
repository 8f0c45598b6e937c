import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import type { DockerTransportSpec } from "../../core/pipeline.js";
import { projectLabel } from "../../transports/docker/index.js";
import { socketPath } from "../../transports/docker/options.js";
import { DockerTransport } from "../../transports/docker/transport.js";
import type { CheckResult, DoctorContext } from "./check.js";

/** `transport: docker`: the engine answers on its socket, the image is there, and a container of it runs `true`. */
export async function dockerCheck(ctx: DoctorContext, spec: DockerTransportSpec): Promise<CheckResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(ctx.env)) if (value !== undefined) env[key] = value;
  const socket = socketPath(spec, env);
  const docker = new Docker({ socketPath: socket });
  const data = { kind: "docker", socket, image: spec.image };
  try {
    await docker.ping();
  } catch (err) {
    return { status: "fail", detail: `docker: the engine does not answer at ${socket}: ${(err as Error).message}`, data };
  }
  try {
    await docker.getImage(spec.image).inspect();
  } catch {
    return { status: "fail", detail: `docker: image ${JSON.stringify(spec.image)} is not in the engine (orc pulls nothing: build or pull it first)`, data };
  }
  const dir = mkdtempSync(join(tmpdir(), "orc-doctor-docker-"));
  const workspace = join(dir, "ws");
  mkdirSync(workspace);
  mkdirSync(join(dir, "home"));
  const transport = new DockerTransport(docker, { spec, socket, workspace, readable: [], homeDir: join(dir, "home"), runId: `doctor-${String(process.pid)}`, project: projectLabel(ctx.settings.stateDir), user: spec.user ?? `${String(process.getuid?.() ?? 0)}:${String(process.getgid?.() ?? 0)}` });
  try {
    const started = performance.now();
    const out = await transport.run({ command: "true", cwd: workspace, env: {}, timeoutMs: 30_000, killGraceMs: 500 });
    const ms = Math.round(performance.now() - started);
    if (out.end !== "exited" || out.exitCode !== 0) return { status: "fail", detail: `docker: a container of ${spec.image} could not run \`true\`: ${out.error ?? (out.outputTail.trim() || out.end)}`, data };
    return { status: "ok", detail: `docker (${spec.image}, network ${spec.network}): a container started and ran \`true\` in ${String(ms)}ms`, data: { ...data, ms } };
  } finally {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
