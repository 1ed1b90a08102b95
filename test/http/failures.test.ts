// How a failed request is said (src/http/failures.ts), for what the end-to-end tests cannot set up: a
// certificate error through a proxy reached over https.

import assert from "node:assert/strict";
import { test } from "node:test";
import { thrownFailure } from "../../src/http/failures.js";

const certificateError = Object.assign(new Error("unable to verify the first certificate"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });

test("a certificate error through a proxy reached over https says the proxy's certificate must be trusted too, without its login", () => {
  const failure = thrownFailure(certificateError, { url: "https://idx.example/pypi/x/json", timeoutMs: 1000, env: { https_proxy: "https://ci:hunter22@proxy.example:3129", HTTPS_PROXY: "http://other:3128" } });
  assert.equal(failure.ok, false);
  assert.equal(failure.error.code, "tls");
  assert.equal(failure.retryable, false);
  assert.match(failure.error.hint ?? "", /The request went through the proxy `https:\/\/\*\*\*@proxy\.example:3129\/?` \(https_proxy\) unless NO_PROXY names the host: a proxy that inspects TLS signs with an authority of its own, and a proxy reached over https must have a certificate mpip trusts too$/);
  assert.doesNotMatch(failure.error.hint ?? "", /hunter22/);
});

test("no proxy is named for an http URL, or when none is set", () => {
  for (const [url, env] of [["http://idx.example/pypi/x/json", { HTTPS_PROXY: "http://proxy:3128", HTTP_PROXY: "http://proxy:3128" }], ["https://idx.example/pypi/x/json", { HTTPS_PROXY: "" }]] as const) {
    const failure = thrownFailure(certificateError, { url, timeoutMs: 1000, env });
    assert.doesNotMatch(failure.ok ? "" : failure.error.hint ?? "", /proxy/, url);
  }
});

test("an expired certificate, or one for another host, is the server's to fix: no hint to trust another authority", () => {
  for (const code of ["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "ERR_TLS_CERT_ALTNAME_INVALID"]) {
    const failure = thrownFailure(Object.assign(new Error(code), { code }), { url: "https://idx.example/pypi/x/json", timeoutMs: 1000, certFile: "ca.pem", env: {} });
    assert.equal(failure.ok ? "" : failure.error.code, "tls", code);
    assert.match(failure.ok ? "" : failure.error.hint ?? "", /^the certificate itself is wrong \(expired, not yet valid, or made for another host name\)/, code);
  }
  const unknown = thrownFailure(certificateError, { url: "https://idx.example/pypi/x/json", timeoutMs: 1000, certFile: "ca.pem", env: {} });
  assert.match(unknown.ok ? "" : unknown.error.hint ?? "", /^neither Node's certificate authorities nor those in `ca\.pem` \(--cert\) signed it/);
});
