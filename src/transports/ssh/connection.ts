/**
 * One SSH connection, held for the run: connects (host key checked against known_hosts or the pinned fingerprint,
 * a key file or the ssh-agent, never a password), keeps itself alive, opens exec channels (at most a few at once:
 * sshd refuses more than MaxSessions, 10 by default) and one SFTP session, and says when it is lost.
 */
import { readFileSync } from "node:fs";
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { fingerprintOf, hostKeyAlgorithms, judgeHostKey, knownKeys, hostName, type HostKeyVerdict } from "./known-hosts.js";
import { GroupKiller } from "./group-killer.js";
import { Semaphore } from "./semaphore.js";

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** An absolute path to a private key; undefined: the agent at `agentSocket`. */
  readonly keyFile?: string;
  readonly passphrase?: string;
  readonly agentSocket?: string;
  readonly knownHostsFile: string;
  readonly fingerprint?: string;
}

/** How each channel's command ended, as the server said (recorded as soon as the channel exists). */
const exits = new WeakMap<ClientChannel, { readonly code: number | null; readonly signal: string | null }>();

/** The exit status and signal (`SIGKILL`, …) of a channel's command once it closed; nulls when the server sent none. */
export function exitOf(channel: ClientChannel): { readonly code: number | null; readonly signal: string | null } {
  const exit = exits.get(channel);
  if (exit === undefined) return { code: null, signal: null };
  const signal = exit.signal === null ? null : exit.signal.startsWith("SIG") ? exit.signal : `SIG${exit.signal}`;
  return { code: exit.code, signal };
}

/** Whether the server said the channel's command exited (it may not have closed yet). */
export function exited(channel: ClientChannel): boolean {
  return exits.has(channel);
}

/** Connecting failed for a reason retrying cannot fix (host key refused, authentication rejected, no credentials). */
export class FatalSshError extends Error {}

/**
 * Process channels a connection opens at once; orc's own steps (the sync's updates, removals) have one slot of their
 * own, so a process waiting for its copy's update never holds the slot that update needs; the SFTP session, two kill
 * channels and the remote watcher's channel (remote-watch.ts) come on top: sshd's default MaxSessions 10. A channel
 * we saw close may not be freed on the server yet: a refused open is retried (openChannel).
 */
const MAX_CHANNELS = 5;

export class SshConnection {
  private readonly channels = new Semaphore(MAX_CHANNELS);
  private readonly steps = new Semaphore(1);
  /** Kills remote process groups outside the process slots (a cancel must get through while they are all held). */
  readonly killer = new GroupKiller((command) => this.openChannel(command));
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private lostReason: string | undefined;
  private readonly lostListeners = new Set<(reason: string) => void>();

  private constructor(private readonly client: Client) {
    const lose = (reason: string): void => {
      if (this.lostReason !== undefined) return;
      this.lostReason = reason;
      for (const listener of this.lostListeners) listener(reason);
    };
    client.on("error", (error: Error) => { lose(error.message); });
    client.on("close", () => { lose("the connection closed"); });
  }

  static async open(target: SshTarget): Promise<SshConnection> {
    const client = new Client();
    const config = connectConfig(target);
    let refused: string | undefined;
    const known = readKnownKeys(target);
    const algorithms = hostKeyAlgorithms(known);
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => {
        // Each process is a few small packets each way: Nagle's algorithm would hold them for the peer's delayed ACK.
        client.setNoDelay(true);
        resolve();
      });
      client.once("error", (error: Error) => {
        if (refused !== undefined) reject(new FatalSshError(refused));
        else if ((error as { level?: string }).level === "client-authentication") reject(new FatalSshError(`ssh: ${target.user}@${target.host} refused every key offered (${target.keyFile ?? "the ssh-agent's keys"}): ${error.message}`));
        else reject(new Error(`ssh: cannot connect to ${target.host}:${String(target.port)}: ${error.message}`));
      });
      client.connect({
        ...config,
        ...(algorithms.length > 0 && target.fingerprint === undefined ? { algorithms: { serverHostKey: algorithms as never } } : {}),
        hostVerifier: (key: Buffer): boolean => {
          const verdict = judgeHostKey(key, known, target.fingerprint);
          if (!verdict.ok) refused = hostKeyMessage(verdict, target, key);
          return verdict.ok;
        },
      });
    });
    return new SshConnection(client);
  }

  /** Why the connection went away; undefined while it is up. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  onLost(listener: (reason: string) => void): () => void {
    this.lostListeners.add(listener);
    return () => { this.lostListeners.delete(listener); };
  }

  /** Opens an exec channel for a process's `command` (a remote command line); its slot is freed when it closes. */
  exec(command: string): Promise<ClientChannel> {
    return this.execIn(this.channels, command);
  }

  /** Whether a process would get a slot without waiting. */
  get processSlotFree(): boolean {
    return this.channels.free;
  }

  /** Opens an exec channel for a process's `command` now if a process slot is free without waiting; else undefined. */
  execIfFree(command: string): Promise<ClientChannel> | undefined {
    if (!this.channels.tryAcquire()) return undefined;
    return this.openIn(this.channels, command);
  }

  /** Opens an exec channel for one of orc's own steps (the sync's updates, removals), in the steps' slot. */
  execStep(command: string): Promise<ClientChannel> {
    return this.execIn(this.steps, command);
  }

  private async execIn(slots: Semaphore, command: string): Promise<ClientChannel> {
    await slots.acquire();
    return this.openIn(slots, command);
  }

  /** Opens a channel in a slot already acquired, which its close (or a failure to open) gives back. */
  private async openIn(slots: Semaphore, command: string): Promise<ClientChannel> {
    try {
      const channel = await this.openChannel(command);
      channel.once("close", () => { slots.release(); });
      return channel;
    } catch (error) {
      slots.release();
      throw error;
    }
  }

  /** Opens a channel held for the connection's life outside the process slots (the remote watcher's). */
  execHeld(command: string): Promise<ClientChannel> {
    return this.openChannel(command);
  }

  /** Opens a channel; a refusal (the server has not freed a closed channel yet) is retried a few times, briefly. */
  private async openChannel(command: string): Promise<ClientChannel> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<ClientChannel>((resolve, reject) => {
          if (this.lostReason !== undefined) { reject(new Error(this.lostReason)); return; }
          this.client.exec(command, (error, stream) => {
            if (error !== undefined) { reject(error); return; }
            // Now, not after the promise settles: ssh2 emits `exit` as it parses the packet, and a fast command's
            // status can come in the same read as the channel's confirmation, before any later listener exists.
            stream.once("exit", (code: number | null, signal?: string) => { exits.set(stream, { code: code ?? null, signal: signal ?? null }); });
            resolve(stream);
          });
        });
      } catch (error) {
        if (this.lostReason !== undefined || attempt >= 4) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
      }
    }
  }

  /** Runs a short command to its end, stdin given whole; stdout as a Buffer, and the exit code. */
  async capture(command: string, stdin?: Buffer | string): Promise<{ readonly code: number | null; readonly signal?: string; readonly stdout: Buffer; readonly stderr: string }> {
    const channel = await this.execStep(command);
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const stopLost = this.onLost((reason) => { reject(new Error(reason)); });
      channel.on("data", (chunk: Buffer) => out.push(chunk));
      channel.stderr.on("data", (chunk: Buffer) => err.push(chunk));
      channel.on("close", () => {
        stopLost();
        const { code, signal } = exitOf(channel);
        resolve({ code, ...(signal === null ? {} : { signal }), stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") });
      });
      channel.end(stdin);
    });
  }

  /** The connection's one SFTP session, opened on first use. */
  sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) => {
      this.client.sftp((error, sftp) => { if (error === undefined) resolve(sftp); else reject(error); });
    });
    return this.sftpSession;
  }

  close(): void {
    this.lostReason ??= "closed by orc";
    this.client.end();
  }

  /** Breaks the connection at once, as a network failure would (tests). */
  destroy(): void {
    this.client.destroy();
  }
}

function connectConfig(target: SshTarget): ConnectConfig {
  const base: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: 15_000,
    // A dead peer is noticed within ~15 s even when no process is writing.
    keepaliveInterval: 5000,
    keepaliveCountMax: 3,
  };
  if (target.keyFile !== undefined) {
    let privateKey: Buffer;
    try {
      privateKey = readFileSync(target.keyFile);
    } catch (error) {
      throw new FatalSshError(`ssh: cannot read the private key ${target.keyFile}: ${(error as Error).message}`);
    }
    return { ...base, privateKey, ...(target.passphrase === undefined ? {} : { passphrase: target.passphrase }) };
  }
  if (target.agentSocket === undefined) throw new FatalSshError("ssh: no key configured (transport.key) and no ssh-agent (SSH_AUTH_SOCK is not set)");
  return { ...base, agent: target.agentSocket };
}

function readKnownKeys(target: SshTarget): ReturnType<typeof knownKeys> {
  try {
    return knownKeys(readFileSync(target.knownHostsFile, "utf8"), target.host, target.port);
  } catch {
    return []; // no known_hosts: every host is unknown unless pinned
  }
}

function hostKeyMessage(verdict: Exclude<HostKeyVerdict, { ok: true }>, target: SshTarget, key: Buffer): string {
  const name = hostName(target.host, target.port);
  const fp = fingerprintOf(key);
  if (verdict.reason === "revoked") return `ssh: the host key of ${name} (${fp}) is marked @revoked in ${target.knownHostsFile}; refusing to connect`;
  if (verdict.reason === "changed") {
    return `ssh: HOST KEY CHANGED for ${name}: it offered ${fp}, which ${target.knownHostsFile} does not hold for it; refusing to connect (if the change is expected, fix known_hosts or pin transport.fingerprint)`;
  }
  return `ssh: unknown host key for ${name} (${fp}): not in ${target.knownHostsFile}; refusing to connect (check it, then add it with \`ssh-keyscan -p ${String(target.port)} ${target.host} >> ${target.knownHostsFile}\` or pin transport.fingerprint: ${fp})`;
}
