#!/usr/bin/env node
// The installed entry point: a plain JS shim so `npx orc` works right after `npm ci` (which builds dist/ via prepare).
import "../dist/cli/main.js";
