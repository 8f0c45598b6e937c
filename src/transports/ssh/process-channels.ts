/**
 * The channels the processes of one remote copy run in, each running the wrapper (wrapper.ts) from the moment it
 * opens. For the run's own copy, one is opened ahead of the process that will use it (`openAhead`), so that process
 * starts on a channel whose exec round trips and remote shell start are already done (on loopback, that is most of a
 * short command's time: 0.8 ms instead of 2.9 here). The wrapper waits for its line and runs nothing until it comes;
 * a channel opened ahead and never used ends with its connection, or when a process of another copy needs its slot
 * (`giveBack`): its wrapper reads end-of-file and exits having run nothing. Only a free process slot is ever taken
 * for it: a process waiting for one always gets it first (connection.ts).
 */
import { randomBytes } from "node:crypto";
import type { ClientChannel } from "ssh2";
import { exited, type SshConnection } from "./connection.js";
import { wrapperCommand } from "./wrapper.js";

/** A channel running the wrapper, and the nonce its control records carry. */
export interface WrapperChannel {
  readonly channel: ClientChannel;
  readonly nonce: string;
}

export class ProcessChannels {
  private ahead: Promise<WrapperChannel | undefined> | undefined;

  /**
   * `copy`: the sync folder of the remote copy these processes work in (wrapper.ts); `slotsFull`: called when a new
   * channel has to wait for a process slot, just before it queues for one (another copy's channel opened ahead may
   * give its slot back).
   */
  constructor(
    readonly conn: SshConnection,
    private readonly direct: boolean,
    private readonly copy: string,
    private readonly slotsFull: () => void = () => undefined,
  ) {}

  /** The channel opened ahead when there is one still open, else a new one (waiting for a process slot). */
  async take(): Promise<WrapperChannel> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead !== undefined) {
      const opened = await ahead;
      if (opened !== undefined && !exited(opened.channel)) return opened;
      if (opened !== undefined) release(opened.channel); // its wrapper died meanwhile (killed on the remote)
    }
    const nonce = newNonce();
    // No await between this look and the exec's place in the queue: no other process takes the slot meanwhile.
    if (!this.conn.processSlotFree) this.slotsFull();
    return { channel: await this.conn.exec(wrapperCommand(nonce, this.direct, this.copy)), nonce };
  }

  /** Opens the next process's channel now, if none is open ahead yet and a process slot is free. */
  openAhead(): void {
    if (this.ahead !== undefined || this.conn.lost !== undefined) return;
    const nonce = newNonce();
    const opening = this.conn.execIfFree(wrapperCommand(nonce, this.direct, this.copy));
    if (opening === undefined) return;
    this.ahead = opening.then(
      (channel) => ({ channel, nonce }),
      () => undefined,
    );
  }

  /** Ends the channel opened ahead, if any, so its slot goes to a process waiting for one. */
  giveBack(): void {
    const ahead = this.ahead;
    this.ahead = undefined;
    void ahead?.then((opened) => {
      if (opened !== undefined) release(opened.channel);
    });
  }
}

/**
 * Lets an unused channel close (one opened ahead and given back, one whose process was cancelled before it came): its
 * wrapper gets end-of-file (and exits having run nothing), and what it wrote (its pid record), kept for the process
 * that would have taken it, is read and dropped: ssh2 closes a channel only once its output is consumed, and only
 * then is its slot free.
 */
export function release(channel: ClientChannel): void {
  channel.resume();
  channel.stderr.resume();
  channel.end();
}

function newNonce(): string {
  return randomBytes(9).toString("hex");
}
