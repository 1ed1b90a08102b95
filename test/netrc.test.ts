// netrc parsing: machines, default, quoting, comments and macros.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { netrcLogin, netrcPath, parseNetrc } from "../src/netrc.js";

describe("netrc", () => {
  test("reads machines on one line or many, and the default entry", () => {
    const netrc = parseNetrc(`
# a comment: machine evil.example login x password y
machine pypi.example.com login alice password s3cret
machine Files.Example.COM
  login bob
  account ignored
  password "with space"
default login anon password guest
`);
    assert.deepEqual(netrcLogin(netrc, "pypi.example.com", true), { login: "alice", password: "s3cret" });
    assert.deepEqual(netrcLogin(netrc, "files.example.com", true), { login: "bob", password: "with space" });
    assert.deepEqual(netrcLogin(netrc, "other.example", true), { login: "anon", password: "guest" });
    assert.equal(netrcLogin(netrc, "other.example", false), undefined, "default only where allowed");
    assert.equal(netrcLogin(netrc, "evil.example", false), undefined, "comment lines are not entries");
  });

  test("the first entry for a host wins; macros are skipped", () => {
    const netrc = parseNetrc("machine h login first password one\nmacdef init\nmachine h login macro password two\n\nmachine h login second password three\n");
    assert.deepEqual(netrcLogin(netrc, "h", false), { login: "first", password: "one" });
    assert.equal(netrc.machines.size, 1);
  });

  test("an entry without a password has an empty one; an empty file has nothing", () => {
    assert.deepEqual(netrcLogin(parseNetrc("machine h login token"), "h", false), { login: "token", password: "" });
    assert.equal(netrcLogin(parseNetrc(""), "h", true), undefined);
  });

  test("NETRC overrides ~/.netrc", () => {
    assert.equal(netrcPath({ NETRC: "/etc/my-netrc", HOME: "/home/u" }), "/etc/my-netrc");
    assert.equal(netrcPath({ HOME: "/home/u" }), "/home/u/.netrc");
  });
});
