// src/url.ts: URLs, percent-escapes and path segments from users and documents, handled without throwing.

import assert from "node:assert/strict";
import { test } from "node:test";
import { decodePercent, encodeSegment, isWellFormed, parseHttpUrl, parseUrl } from "../src/url.js";

test("parseUrl answers undefined where `new URL` throws", () => {
  for (const text of ["http://[", "https://", "http://host:70000/x", "http://999.999.999.999.999/", "https://[::1/x", "", "no scheme", "http://a b/"]) {
    assert.throws(() => new URL(text), TypeError, `new URL(${JSON.stringify(text)}) throws`);
    assert.equal(parseUrl(text), undefined, text);
  }
  assert.equal(parseUrl("../x.tar.gz", "https://host/simple/foo/")?.toString(), "https://host/simple/x.tar.gz");
  assert.equal(parseUrl("x", "http://["), undefined);
});

test("parseHttpUrl takes http and https only", () => {
  assert.equal(parseHttpUrl("https://host/p")?.host, "host");
  for (const text of ["ftp://host/x", "file:///etc/passwd", "javascript:alert(1)", "data:,x", "http://["]) assert.equal(parseHttpUrl(text), undefined, text);
});

test("decodePercent decodes as Python's unquote: malformed escapes stay, bytes that are not UTF-8 become U+FFFD", () => {
  assert.throws(() => decodeURIComponent("%zz"), URIError);
  assert.equal(decodePercent("user%40example.com"), "user@example.com");
  assert.equal(decodePercent("p%zz%41%"), "p%zzA%");
  assert.equal(decodePercent("%E2%82%AC%E0%A4"), "€\ufffd");
  assert.equal(decodePercent("plain"), "plain");
});

test("encodeSegment never throws on a lone surrogate", () => {
  assert.throws(() => encodeURIComponent("a\ud800"), URIError);
  assert.equal(encodeSegment("a\ud800b/c"), "a%EF%BF%BDb%2Fc");
  assert.equal(encodeSegment("\udc00"), "%EF%BF%BD");
  assert.equal(encodeSegment("ok é"), "ok%20%C3%A9");
  assert.ok(isWellFormed("😀 é"));
  assert.ok(!isWellFormed("x\udc00"));
});
