/** Exponential backoff with full jitter, for reconnecting: attempt n waits a random time in [0, min(max, base * 2^n)). */
export interface Backoff {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export const RECONNECT: Backoff = { attempts: 5, baseMs: 250, maxMs: 4000 };

export function backoffDelay(attempt: number, policy: Backoff, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxMs, policy.baseMs * 2 ** attempt));
}

/**
 * Calls `fn` until it succeeds, `attempts` times at most, waiting between tries; an error `fatal` says is not worth
 * retrying (a refused host key, a rejected key) ends it at once. The last error is thrown.
 */
export async function retry<T>(fn: () => Promise<T>, options: { readonly policy: Backoff; readonly fatal: (error: unknown) => boolean; readonly signal?: AbortSignal }): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (options.fatal(error) || attempt + 1 >= options.policy.attempts || options.signal?.aborted === true) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, options.policy)));
    }
  }
}
