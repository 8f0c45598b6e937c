import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type ParcelWatcher from "@parcel/watcher";

/**
 * The options @parcel/watcher's native binding reads (its src/binding.cc): ignored paths, absolute, each with
 * everything under it, and std::regex sources matched against the whole path relative to the watched directory.
 */
export interface NativeOptions {
  readonly ignorePaths: readonly string[];
  readonly ignoreGlobs: readonly string[];
  readonly backend: ParcelWatcher.BackendType;
}

type Callback = (err: Error | null, events: ParcelWatcher.Event[]) => unknown;

/** The native binding's calls, which the package's JS wrapper makes with resolved paths and native options. */
export interface NativeWatcher {
  writeSnapshot(dir: string, snapshot: string, options: NativeOptions): Promise<string>;
  getEventsSince(dir: string, snapshot: string, options: NativeOptions): Promise<ParcelWatcher.Event[]>;
  subscribe(dir: string, fn: Callback, options: Pick<NativeOptions, "backend">): Promise<void>;
  unsubscribe(dir: string, fn: Callback, options: Pick<NativeOptions, "backend">): Promise<void>;
}

/**
 * @parcel/watcher's native binding, without the package's JS entry. That entry costs ~5 ms of every run's start:
 * it loads picomatch and is-glob, to turn `ignore` globs into regexes orc does not use (orc passes native options
 * it builds once), and detect-libc, to pick the glibc or musl build. Here the platform's build is found the way the
 * entry finds it (`@parcel/watcher-<platform>-<arch>[-glibc|-musl]`, of the same version as the package: on Linux
 * the build for the other libc fails to load and the next is tried); where none loads, the package's own entry is
 * used, which passes native options through untouched when no `ignore` is given. Paths passed here must be
 * absolute: the entry would resolve them.
 */
export function loadNativeWatcher(): NativeWatcher {
  const require = createRequire(import.meta.url);
  const base = `@parcel/watcher-${process.platform}-${process.arch}`;
  const builds = process.platform === "linux" ? [`${base}-glibc`, `${base}-musl`] : [base];
  const wanted = versionOf(require, "@parcel/watcher");
  for (const build of builds) {
    try {
      // Only the build of the very version installed (a layout like pnpm's could offer another one).
      if (wanted !== undefined && versionOf(require, build) === wanted) return require(build) as NativeWatcher;
    } catch {
      // Not installed for this platform, or built for the other libc: try the next.
    }
  }
  const entry = require("@parcel/watcher") as typeof ParcelWatcher;
  return {
    writeSnapshot: (dir, snapshot, options) => entry.writeSnapshot(dir, snapshot, options),
    getEventsSince: (dir, snapshot, options) => entry.getEventsSince(dir, snapshot, options),
    subscribe: async (dir, fn, options) => {
      await entry.subscribe(dir, fn, options);
    },
    unsubscribe: (dir, fn, options) => entry.unsubscribe(dir, fn, options),
  };
}

function versionOf(require: NodeJS.Require, name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
