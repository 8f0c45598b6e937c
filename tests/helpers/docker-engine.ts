import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Docker from "dockerode";

/** A hard link where the file system allows (a CLI of hundreds of MB), else a copy. */
function place(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  if (existsSync(to)) return;
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** SIGKILLs every process whose command line names `marker`, with all its descendants. */
function killTrees(marker: string): void {
  const parent = new Map<number, number>();
  const roots: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) roots.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  const doomed = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!doomed.has(pid) && doomed.has(ppid)) {
        doomed.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/**
 * A real Docker engine (dockerd from Debian's docker.io, which .ci/run installs) started by the test setup on a unix
 * socket of its own, with its data in a temporary folder: no iptables, no bridge, no registry. It dies with the test
 * process (pdeathsig) and is stopped in afterAll. Images are made locally from a rootfs tarball (`docker import`).
 */
export class DockerEngine {
  readonly dir = mkdtempSync(join(tmpdir(), "orc-dk-"));
  readonly socket = join(this.dir, "d.sock");
  readonly docker = new Docker({ socketPath: this.socket });
  private daemon: ChildProcess | undefined;
  private log = "";

  async start(): Promise<void> {
    const args = ["--pdeathsig", "TERM", "dockerd", "--data-root", join(this.dir, "data"), "--exec-root", join(this.dir, "x"), "-H", `unix://${this.socket}`, "--iptables=false", "--bridge=none", "--pidfile", join(this.dir, "d.pid")];
    const daemon = spawn("setpriv", args, { stdio: ["ignore", "pipe", "pipe"] });
    daemon.stdout.on("data", (b: Buffer) => (this.log += b.toString()));
    daemon.stderr.on("data", (b: Buffer) => (this.log += b.toString()));
    this.daemon = daemon;
    for (let i = 0; i < 300; i++) {
      if (daemon.exitCode !== null) break;
      try {
        await this.docker.ping();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`dockerd did not start:\n${this.log.slice(-3000)}`);
  }

  /** Kills the engine outright (SIGKILL), as a crash would: its clients' connections break. */
  crash(): void {
    this.daemon?.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    const daemon = this.daemon;
    if (daemon !== undefined && daemon.exitCode === null) {
      const exited = new Promise<boolean>((r) => daemon.once("exit", () => { r(true); }));
      daemon.kill("SIGTERM");
      const stopped = await Promise.race([exited, new Promise<boolean>((r) => setTimeout(() => { r(false); }, 10_000))]);
      if (!stopped) daemon.kill("SIGKILL");
    }
    // After a crash the containers' shims outlive the engine: kill them and what runs under them (found by this
    // engine's folder in their command line, so no other process is touched).
    killTrees(this.dir);
    // Overlay mounts the daemon left (a kill) would keep the folder busy.
    spawnSync("sh", ["-c", `grep -o " ${this.dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Containers of this engine with the given label (`key=value`), running or not. */
  async containers(label: string): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [label] } });
  }

  /**
   * Imports an image from a rootfs: busybox-static (with its applets), /etc/passwd with root and an `agent` user, a
   * world-writable /tmp, /image-marker (a file only the image has), and `binaries`: host executables at the image
   * paths given as keys (with `node: true`, the host's node at /usr/local/bin/node), each with its shared libraries
   * (ldd) at their host paths.
   */
  async buildImage(name: string, options: { readonly node?: boolean; readonly binaries?: Readonly<Record<string, string>> } = {}): Promise<void> {
    const root = join(this.dir, `rootfs-${name.replace(/[^a-z0-9]/gi, "_")}`);
    mkdirSync(join(root, "bin"), { recursive: true });
    mkdirSync(join(root, "etc"));
    mkdirSync(join(root, "tmp"));
    chmodSync(join(root, "tmp"), 0o1777);
    copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
    chmodSync(join(root, "bin", "busybox"), 0o755);
    const applets = spawnSync("/bin/busybox", ["--list"], { encoding: "utf8" }).stdout.split("\n").filter((a) => a !== "" && a !== "busybox");
    for (const applet of applets) symlinkSync("busybox", join(root, "bin", applet));
    writeFileSync(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nagent:x:1000:1000:agent:/tmp:/bin/sh\n");
    writeFileSync(join(root, "etc", "group"), "root:x:0:\nagent:x:1000:\n");
    writeFileSync(join(root, "image-marker"), "made by the test's image\n");
    const binaries = { ...(options.node === true ? { "/usr/local/bin/node": process.execPath } : {}), ...options.binaries };
    for (const [at, from] of Object.entries(binaries)) {
      const host = realpathSync(from);
      const libs = spawnSync("ldd", [host], { encoding: "utf8" }).stdout.match(/\/\S+/g) ?? [];
      for (const file of libs) place(realpathSync(file), join(root, file));
      place(host, join(root, at));
    }
    const tar = spawn("tar", ["-C", root, "-cf", "-", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const [repo, tag] = name.split(":");
    const progress = await this.docker.importImage(tar.stdout, { repo, tag: tag ?? "latest" });
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(progress, (err) => {
        if (err === null) resolve();
        else reject(err);
      });
    });
    rmSync(root, { recursive: true, force: true });
  }
}
