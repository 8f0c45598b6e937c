import { err, ok, type Result } from "../core/result.js";
import { requestSignal, type LlmFailure } from "./port.js";

/**
 * One JSON request to a model server, with the request's timeout and signal. A refused connection means the server
 * is not there (unavailable: the judge may fall back to its cache); an HTTP error or a non-JSON body means it failed.
 */
export async function fetchJson(
  url: string,
  init: { readonly method: "GET" | "POST"; readonly body?: unknown; readonly headers?: Record<string, string> },
  limits: { readonly signal: AbortSignal; readonly timeoutMs: number },
): Promise<Result<unknown, LlmFailure>> {
  const limit = requestSignal(limits.signal, limits.timeoutMs);
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: { "content-type": "application/json", ...init.headers },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: limit.signal,
    });
    const text = await response.text();
    if (!response.ok) return err({ kind: "failed", message: `${url} answered HTTP ${String(response.status)}: ${text.slice(0, 300)}` });
    try {
      return ok(JSON.parse(text) as unknown);
    } catch {
      return err({ kind: "failed", message: `${url} answered something that is not JSON: ${text.slice(0, 200)}` });
    }
  } catch (error) {
    if (limit.timedOut()) return err({ kind: "timeout", message: `${url} did not answer within ${String(limits.timeoutMs)}ms` });
    if (limits.signal.aborted) return err({ kind: "aborted", message: "cancelled" });
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return err({ kind: "unavailable", message: `${url} cannot be reached${cause}` });
  } finally {
    limit.dispose();
  }
}

/** Reads `a.b.c` from parsed JSON without trusting its shape. */
export function pick(value: unknown, ...path: string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
