// The environment the test files and the benchmark's timed runs get (scripts/machine-env.ts): the shell's
// settings that change what mpip or Node does are gone, the suite's own controls and everything else stay.
// And a test file really runs so: this one is run by scripts/test.ts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { withoutMachineSettings } from "../../scripts/machine-env.js";

test("mpip's settings, proxies and Node's certificate and option variables go; the suite's controls and the rest stay", () => {
  const given: NodeJS.ProcessEnv = {
    MPIP_OFFLINE: "1", MPIP_JSON: "1", MPIP_INDEX_URL: "http://x/pypi", MPIP_CACHE_DIR: "/c", MPIP_JOBS: "1",
    HTTP_PROXY: "http://127.0.0.1:9", https_proxy: "http://127.0.0.1:9", ALL_PROXY: "socks5://h", no_proxy: "*",
    NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt", NODE_OPTIONS: "--use-openssl-ca", SSL_CERT_FILE: "/x.pem", NODE_TLS_REJECT_UNAUTHORIZED: "0", NODE_DEBUG: "tls", OPENSSL_CONF: "/o.cnf",
    NETRC: "/n", MICROPYPATH: "/img", SOURCE_DATE_EPOCH: "0", FORCE_COLOR: "1",
    MPIP_TEST_SCALE: "2", MPIP_FUZZ_SEED: "7", MPIP_CRASH_KILLS: "3",
    PATH: "/usr/bin", HOME: "/root", TMPDIR: "/tmp", NO_COLOR: "1", MPIPX: "kept", PROXY: "kept",
  };
  assert.deepEqual(withoutMachineSettings(given), {
    MPIP_TEST_SCALE: "2", MPIP_FUZZ_SEED: "7", MPIP_CRASH_KILLS: "3",
    PATH: "/usr/bin", HOME: "/root", TMPDIR: "/tmp", NO_COLOR: "1", MPIPX: "kept", PROXY: "kept",
  });
  assert.equal(given.MPIP_OFFLINE, "1", "a copy: the given environment is unchanged");
});

test("this file runs without them", () => {
  for (const name of Object.keys(process.env)) {
    assert.ok(!/^MPIP_(?!TEST_|FUZZ_|CRASH_)|^(https?|all|no)_proxy$|^NODE_EXTRA_CA_CERTS$|^NODE_OPTIONS$/i.test(name), `${name} reached a test file`);
  }
});
