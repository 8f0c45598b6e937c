// Types for bench/apply-dag.mjs, which the tests import (tests/config-yaml-fast.test.ts) to read the bench's pipeline.
export function dagPipeline(tasks: number): string;
export function run(options: { orc: string; runs?: number; tasks?: number }): Record<string, unknown>;
