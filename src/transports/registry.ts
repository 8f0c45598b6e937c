/**
 * The one registry of transport kinds, like the agents' (src/agents/registry.ts): each kind registers a loader, so a
 * run that stays local never imports the sandbox. config/ checks `transport:` against src/core/kinds.ts.
 */
import { mkdirSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { TransportSpec } from "../core/pipeline.js";
import type { BuiltTransport, TransportContext } from "./port.js";

type TransportLoader = (spec: TransportSpec, ctx: TransportContext) => Promise<BuiltTransport>;

const loaders = new Map<string, TransportLoader>();

export function registerTransport(kind: string, loader: TransportLoader): void {
  if (loaders.has(kind)) throw new Error(`transport kind "${kind}" is already registered`);
  loaders.set(kind, loader);
}

export async function createTransport(spec: TransportSpec, ctx: TransportContext): Promise<BuiltTransport> {
  const loader = loaders.get(spec.kind);
  if (loader === undefined) throw new Error(`unknown transport kind "${spec.kind}" (known: ${registeredTransportKinds().join(", ")})`);
  return loader(spec, ctx);
}

export function registeredTransportKinds(): string[] {
  return [...loaders.keys()];
}

registerTransport("local", async (_spec, ctx) => ({ transport: new (await import("./local.js")).LocalTransport(), env: ctx.env }));

registerTransport("sandbox", async (spec, ctx) => {
  if (spec.kind !== "sandbox") throw new Error(`transport kind "sandbox" was given a "${spec.kind}" spec`);
  const { SandboxTransport, sandboxEnv, sandboxHome } = await import("./sandbox.js");
  // Kept per run, so an agent's session files survive from one attempt to the next (a resumed session).
  const homeDir = join(ctx.stateDir, "runs", ctx.runId, "home");
  mkdirSync(homeDir, { recursive: true, mode: 0o700 });
  mkdirSync(ctx.scratchDir, { recursive: true, mode: 0o700 });
  const options = {
    workspace: ctx.workspace,
    stateDir: ctx.stateDir,
    // An empty or relative HOME names no home (orc itself then needs ORC_STATE_DIR): the sandbox's is /tmp/home.
    userHome: ctx.env.HOME !== undefined && isAbsolute(ctx.env.HOME) ? ctx.env.HOME : undefined,
    homeDir,
    homePaths: spec.home,
    network: spec.network,
    readable: [ctx.promptDir],
    writable: [ctx.scratchDir],
  };
  return { transport: new SandboxTransport(options), env: sandboxEnv(ctx.env, spec.env, sandboxHome(options)) };
});

registerTransport("docker", async (spec, ctx) => {
  if (spec.kind !== "docker") throw new Error(`transport kind "docker" was given a "${spec.kind}" spec`);
  return (await import("./docker/index.js")).buildDockerTransport(spec, ctx);
});

registerTransport("ssh", async (spec, ctx) => {
  if (spec.kind !== "ssh") throw new Error(`transport kind "ssh" was given a "${spec.kind}" spec`);
  const { sshTransportFor, sshEnv } = await import("./ssh/setup.js");
  return { transport: sshTransportFor(spec, ctx), env: sshEnv(ctx.env, spec.env) };
});
