/** Variables every process needs; PATH and HOME are the image's and the container's, never the host's. */
const BASE_ENV = ["LANG", "LANGUAGE", "TERM", "TZ", "CI", "NO_COLOR", "FORCE_COLOR"];

/** Where the run's home directory (orc's, kept per run under the state directory) is mounted inside. */
export const CONTAINER_HOME = "/orc/home";

/**
 * The environment children start from in the container: the base variables, the variables named in `transport.env`
 * (credentials pass by name, so their values are never in the config, the image or orc's records), and HOME.
 */
export function dockerEnv(host: Readonly<Record<string, string>>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(host)) {
    if (BASE_ENV.includes(key) || key.startsWith("LC_") || names.includes(key)) out[key] = value;
  }
  out.HOME = CONTAINER_HOME;
  return out;
}
