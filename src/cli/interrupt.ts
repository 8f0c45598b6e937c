/**
 * SIGINT (and SIGTERM) abort the one AbortSignal that flows into every child process. A second SIGINT exits at once:
 * each transition is already its own transaction, so the run stays resumable (an attempt left running is closed as
 * interrupted by the next `orc resume`).
 */
export function interruptSignal(): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
