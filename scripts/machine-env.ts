// The environment the test files and the benchmark's timed runs get: the caller's, without what would tie
// their results to the shell they were started from. Used by scripts/test.ts and bench/.

/** Variables that change what mpip or Node does, besides mpip's own `MPIP_*` settings and the proxies. */
const MACHINE_SETTINGS = [
  // Read and parsed by Node at every start-up (a system bundle: ~90 ms of CPU, more than the rest of
  // Node's start-up); the tests that trust a CA make their own and set it themselves.
  "NODE_EXTRA_CA_CERTS",
  "NODE_OPTIONS",
  // `0` makes Node accept any certificate: the tests of certificate errors would pass nothing.
  "NODE_TLS_REJECT_UNAUTHORIZED",
  "NODE_DEBUG",
  "OPENSSL_CONF",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NETRC",
  // `mpip list` and the other image commands take their target from it.
  "MICROPYPATH",
  // `mpip pack` dates its archives by it.
  "SOURCE_DATE_EPOCH",
  "FORCE_COLOR",
];
/** HTTP_PROXY, https_proxy, ALL_PROXY, NO_PROXY, in either case. */
const PROXY_SETTING = /^(https?|all|no)_proxy$/i;
/** mpip's own settings (MPIP_OFFLINE, MPIP_JSON, MPIP_CACHE_DIR...), but not the suite's controls (MPIP_TEST_*, MPIP_FUZZ_*, MPIP_CRASH_*). */
const MPIP_SETTING = /^MPIP_(?!TEST_|FUZZ_|CRASH_)/;

/** `env` (by default this process's) without the variables above: a copy. */
export function withoutMachineSettings(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (MACHINE_SETTINGS.includes(name) || PROXY_SETTING.test(name) || MPIP_SETTING.test(name)) continue;
    kept[name] = value;
  }
  return kept;
}
