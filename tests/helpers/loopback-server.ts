import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * An HTTP server on 127.0.0.1 with an ephemeral port, for the tests' scripted model APIs. `stop()` destroys open
 * sockets first, so a deliberately stalled stream cannot keep the server (and the test) alive.
 */
export class LoopbackServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  /** Starts listening and returns the port. */
  async start(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
    const server = createServer(handle);
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return address.port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}
