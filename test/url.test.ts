// src/url.ts: URLs, percent-escapes and path segments from users and documents, handled without throwing.

import assert from "node:assert/strict";
import { test } from "node:test";
import { decodePercent, encodeSegment, isWellFormed, parseHttpUrl, parseUrl, urlFormProblem } from "../src/url.js";

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

test("parseUrl refuses the http, https and file: URLs WHATWG's parser would mend: no host, no path, a relative path", () => {
  const refused: Array<[string, RegExp]> = [
    ["http:///x", /has no host/],
    ["https:///x/y?q#f", /has no host/],
    ["http://user:pw@/x", /has no host/],
    ["http://:80/x", /has no host/],
    ["HTTP:x", /has no `\/\/` and host after `http:`/],
    ["https:/x", /has no `\/\/` and host/],
    ["https:\\\\x\\y", /has no `\/\/` and host/],
    ["file:", /names no path/],
    ["file://", /names no path/],
    ["file://localhost", /names no path/],
    ["FILE:?x", /names no path/],
    ["file:x/y", /names a relative path/],
    ["file:../dist/x-1.0.tar.gz", /names a relative path/],
    ["file:///srv/x-1.0.tar.gz?x=1", /has a query \(`\?\.\.\.`\), which names no file/],
    ["FILE://localhost/srv/?", /has a query/],
    ["file:../dist/x-1.0.tar.gz?x=1#sha256=00", /has a query/],
  ];
  for (const [text, problem] of refused) {
    assert.match(urlFormProblem(text) ?? "", problem, text);
    assert.equal(parseUrl(text), undefined, text);
  }
  for (const text of ["http://h/x", "https://u:p@h:8443/x?q#f", "http://[::1]:80/", "file:///", "file:///srv/x", "file://localhost/srv/x", "file:/srv/x", "file:///srv/x#a?b", "ftp:x", "mailto:a@b"]) {
    assert.equal(urlFormProblem(text), undefined, text);
    assert.ok(parseUrl(text) !== undefined, text);
  }
  // A reference resolved against a base is no URL as typed: `http:x` against an http base is a relative path.
  assert.equal(parseUrl("http:x", "http://host/a/")?.toString(), "http://host/a/x");
});
