import type { GateOutcome } from "../core/events.js";
import type { GateSpec } from "../core/pipeline.js";
import type { Gate, GateContext, GateKind, GateRunner } from "./port.js";

/** Loads a gate kind on first use, so a run with no judge gate never imports the LLM. */
export type GateLoader<K extends GateKind> = () => Promise<Gate<K>>;

/**
 * The gates of one run, keyed by kind (like src/agents/registry.ts for agents). Each run builds its own, because a
 * kind's implementation may hold run-level things (the judge's LLM and verdict cache). Registering a kind twice is a
 * bug and throws; so does running a kind nobody registered (config/ accepts only known kinds).
 */
export class GateRegistry implements GateRunner {
  private readonly loaders = new Map<GateKind, () => Promise<Gate>>();
  private readonly loaded = new Map<GateKind, Promise<Gate>>();

  register<K extends GateKind>(kind: K, loader: GateLoader<K>): this {
    if (this.loaders.has(kind)) throw new Error(`gate kind "${kind}" is already registered`);
    this.loaders.set(kind, loader as unknown as () => Promise<Gate>);
    return this;
  }

  kinds(): GateKind[] {
    return [...this.loaders.keys()];
  }

  async run(spec: GateSpec, ctx: GateContext): Promise<GateOutcome> {
    const gate = await this.load(spec.kind);
    return gate.run(spec, ctx);
  }

  private load(kind: GateKind): Promise<Gate> {
    let gate = this.loaded.get(kind);
    if (gate === undefined) {
      const loader = this.loaders.get(kind);
      if (loader === undefined) throw new Error(`unknown gate kind "${kind}" (known: ${this.kinds().join(", ")})`);
      gate = loader();
      this.loaded.set(kind, gate);
    }
    return gate;
  }
}
