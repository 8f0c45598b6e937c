/**
 * The run's prompt files live in orc's state directory on the host; an agent on the remote that is given one
 * (ORC_PROMPT_FILE) gets a copy under orc's remote directory instead, sent once per file over SFTP.
 */
import { readFileSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { SshConnection } from "./connection.js";

export class PromptFiles {
  private readonly sent = new Map<string, string>();

  constructor(
    private readonly hostDir: string,
    private readonly remoteDir: string,
  ) {}

  /** The remote path for a value naming a host prompt file (copied there first); undefined for any other value. */
  async map(conn: SshConnection, value: string): Promise<string | undefined> {
    if (dirname(value) !== this.hostDir) return undefined;
    let stamp: string;
    try {
      const st = statSync(value);
      stamp = `${String(st.size)} ${String(st.mtimeMs)}`;
    } catch {
      return undefined;
    }
    const remote = `${this.remoteDir}/${basename(value)}`;
    if (this.sent.get(value) === stamp) return remote;
    const sftp = await conn.sftp();
    await new Promise<void>((resolve) => { sftp.mkdir(this.remoteDir, () => { resolve(); }); });
    await new Promise<void>((resolve, reject) => {
      sftp.writeFile(remote, readFileSync(value), { mode: 0o600 }, (error) => { if (error) reject(error); else resolve(); });
    });
    this.sent.set(value, stamp);
    return remote;
  }
}
