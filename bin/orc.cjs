#!/usr/bin/env node
// The installed entry point: a plain JS shim so `npx orc` works right after `npm ci` (which builds dist/ via prepare).
// It runs the bundled CLI (bin/bundle-cli.js); dist/cli/main.js is the same program, unbundled. CommonJS, like the
// bundle: an ESM entry would start node's ESM loader only to hand over to CommonJS (~15 ms more per command).
"use strict";
require("../dist/bundle/main.cjs");
