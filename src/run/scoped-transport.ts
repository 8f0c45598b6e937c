import type { Transport } from "../transports/port.js";

/**
 * The run's transport, for processes that work in `workspace` (a task's own directory while tasks run side by side):
 * every process it runs carries `workspace`, which the sandbox binds in place of its own and a container or remote
 * transport must mount or sync (ProcessSpec.workspace). Agents and gates need not know.
 */
export function transportIn(transport: Transport, workspace: string): Transport {
  return {
    kind: transport.kind,
    run: (spec) => transport.run({ ...spec, workspace }),
    ...(transport.stopOrphan === undefined ? {} : { stopOrphan: transport.stopOrphan.bind(transport) }),
  };
}
