import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderSchemas } from "../src/config/schema/write.js";

const SCHEMAS_DIR = new URL("../schemas/", import.meta.url);
/** Objects whose keys belong to someone else (plugins), so they accept any key. */
const PASS_THROUGH = ["#/properties/llm", "/options"];

type Json = Record<string, unknown>;

/** Every object schema under `schema`, with a readable location. */
function* objects(schema: unknown, at = "#"): Generator<[string, Json]> {
  if (typeof schema !== "object" || schema === null) return;
  const node = schema as Json;
  if (node.type === "object") yield [at, node];
  for (const [key, value] of Object.entries(node)) {
    if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* objects(item, `${at}/${key}/${i}`);
    else if (typeof value === "object") yield* objects(value, `${at}/${key}`);
  }
}

describe("config: JSON Schemas", () => {
  const rendered = renderSchemas();

  it("the committed schemas/*.schema.json match the TypeBox source (run `npm run build && npm run schemas`)", () => {
    expect(Object.keys(rendered).sort()).toEqual(["orchestrator.schema.json", "pipeline.schema.json", "rule-pack.schema.json", "verdict.schema.json"]);
    for (const [name, text] of Object.entries(rendered)) {
      expect(readFileSync(new URL(name, SCHEMAS_DIR), "utf8"), name).toBe(text);
    }
  });

  it("each schema has its $id, and every field a title and a description", () => {
    for (const [name, text] of Object.entries(rendered)) {
      const schema = JSON.parse(text) as Json;
      expect(schema.$id).toBe(`https://orc.dev/schemas/${name}`);
      for (const [at, object] of objects(schema)) {
        for (const [key, field] of Object.entries((object.properties ?? {}) as Record<string, Json>)) {
          expect(typeof field.title, `${name} ${at}/properties/${key} title`).toBe("string");
          expect(typeof field.description, `${name} ${at}/properties/${key} description`).toBe("string");
        }
      }
    }
  });

  it("refuses unknown keys everywhere except pass-through objects", () => {
    for (const [name, text] of Object.entries(rendered)) {
      // The verdict schema (the judge's answer) is one flat object; the config schemas nest many.
      if (name !== "verdict.schema.json") expect([...objects(JSON.parse(text))].length, name).toBeGreaterThan(3);
      for (const [at, object] of objects(JSON.parse(text))) {
        const passThrough = PASS_THROUGH.some((p) => at.endsWith(p));
        if (object.properties !== undefined) expect(object.additionalProperties, `${name} ${at}`).toBe(false);
        else if (!passThrough) expect(object.patternProperties, `${name} ${at} is a map of named entries`).toBeDefined();
      }
    }
  });
});
