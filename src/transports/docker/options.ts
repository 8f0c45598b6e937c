import type { DockerTransportSpec } from "../../core/pipeline.js";

/** What the docker transport is built from: the config's settings and the run it serves. */
export interface DockerOptions {
  readonly spec: DockerTransportSpec;
  /** The engine's unix socket. */
  readonly socket: string;
  /** Bound read-write at the same path inside, so working directories need no translation. */
  readonly workspace: string;
  /** Bound read-only at the same path inside: the run's prompt files. */
  readonly readable: readonly string[];
  /** Bound read-write at the same path inside: the run's scratch directory (agents' own files). */
  readonly writable?: readonly string[];
  /** orc's per-run home for the container (created by the caller), bound writable at CONTAINER_HOME. */
  readonly homeDir: string;
  readonly runId: string;
  /** Labels every container of this project (a hash of orc's state directory), for orphan cleanup. */
  readonly project: string;
  /** The user processes run as, resolved (uid:gid or a name the image knows). */
  readonly user: string;
}

/** The engine's socket: the config's, else DOCKER_HOST when it is a unix socket, else the usual path. */
export function socketPath(spec: DockerTransportSpec, env: Readonly<Record<string, string>>): string {
  if (spec.socket !== undefined) return spec.socket;
  const host = env.DOCKER_HOST;
  if (host?.startsWith("unix://") === true && host.length > "unix://".length) return host.slice("unix://".length);
  return "/var/run/docker.sock";
}
