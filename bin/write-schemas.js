#!/usr/bin/env node
// Writes schemas/*.schema.json from the TypeBox source (src/config/schema/), the one schema source. Run after a build:
// `npm run build && npm run schemas`. A test fails when the committed files drift from the source.
import { mkdirSync, writeFileSync } from "node:fs";

const { renderSchemas } = await import("../dist/config/schema/write.js");
const dir = new URL("../schemas/", import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(renderSchemas())) {
  writeFileSync(new URL(name, dir), text);
  console.log(`wrote schemas/${name}`);
}
