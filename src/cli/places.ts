import type { TransportSpec } from "../core/pipeline.js";
import type { Place } from "../run/deps.js";
import type { TransportContext } from "../transports/port.js";
import { createTransport } from "../transports/registry.js";

/**
 * The run's transports, one per distinct `transport:` its tasks use, each built when a task first needs it (a run
 * whose tasks all stay local never starts a container) and shared by every task with the same settings.
 */
export class Places {
  private readonly built = new Map<string, Promise<Place>>();

  constructor(private readonly ctx: TransportContext) {}

  for(spec: TransportSpec): Promise<Place> {
    const key = canonicalJson(spec);
    let place = this.built.get(key);
    if (place === undefined) {
      place = createTransport(spec, this.ctx);
      this.built.set(key, place);
    }
    return place;
  }

  /** Closes every transport that was built (one that failed to build holds nothing). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.built.values()].map(async (place) => (await place).transport.close?.()));
  }
}

/** JSON with object keys sorted, so two specs that differ only in key order are one transport. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
