import { describe, expect, it } from "vitest";
import { BatchedSink } from "../src/ui/batched-sink.js";

describe("BatchedSink", () => {
  it("writes the lines of one synchronous burst in one write, in order, once the burst ends", async () => {
    const writes: string[] = [];
    const sink = new BatchedSink({ write: (text: string) => writes.push(text) });
    sink.write("a\n");
    sink.write("b\n");
    sink.write("c\n");
    expect(writes).toEqual([]);
    await Promise.resolve();
    expect(writes).toEqual(["a\nb\nc\n"]);
    sink.write("d\n");
    await new Promise((done) => setImmediate(done));
    expect(writes).toEqual(["a\nb\nc\n", "d\n"]);
  });

  it("flush() writes what is pending at once, and the end of the burst writes nothing twice", async () => {
    const writes: string[] = [];
    const sink = new BatchedSink({ write: (text: string) => writes.push(text) });
    sink.write("last line\n");
    sink.flush();
    expect(writes).toEqual(["last line\n"]);
    await Promise.resolve();
    sink.flush();
    expect(writes).toEqual(["last line\n"]);
  });
});
