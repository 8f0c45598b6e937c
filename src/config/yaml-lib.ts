/**
 * The `yaml` package, from the one-file copy the build makes (bin/bundle-yaml.js → dist/vendor/yaml.cjs) when that is
 * the installed version: one file instead of ~70 CommonJS modules saves ~20 ms on every command that reads YAML. From
 * src/ (tests), or after `yaml` changed without a rebuild, the package itself; the code is the same either way.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

type Yaml = typeof import("yaml");

const require = createRequire(import.meta.url);
/** dist/vendor/ seen from dist/config/ (from src/config/, src/vendor/, which never exists). */
const BUNDLE = fileURLToPath(new URL("../vendor/yaml.cjs", import.meta.url));

function load(): Yaml {
  if (existsSync(BUNDLE)) {
    const bundle = require(BUNDLE) as Yaml & { readonly bundledVersion?: string };
    const installed = (require("yaml/package.json") as { readonly version: string }).version;
    if (bundle.bundledVersion === installed) return bundle;
  }
  return require("yaml") as Yaml;
}

let loaded: Yaml | undefined;

/**
 * The library, loaded on first use: a clean file takes the fast path (yaml-fast.ts) and never needs it, so most
 * commands do not load it at all (~6 ms).
 */
export function yamlLibrary(): Yaml {
  loaded ??= load();
  return loaded;
}
