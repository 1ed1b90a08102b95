// The simple repository API: the HTML scanner and both page parsers as pure functions, then SimpleSource
// against a real server speaking PEP 691 JSON and PEP 503 HTML (test/helpers/simple-index.ts).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { HttpClient } from "../../src/http.js";
import { decodeEntities, scanTags } from "../../src/sources/simple-html.js";
import { parseSimpleHtml, parseSimpleJson, parseSimplePage, SIMPLE_ACCEPT, SimpleSource } from "../../src/sources/simple.js";
import type { ProjectListing } from "../../src/sources/types.js";
import { parseRequirement } from "../../src/spec/requirement.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { prng } from "../helpers/prng.js";
import { prefersJson, serveSimple, SIMPLE_JSON_TYPE } from "../helpers/simple-index.js";

const PAGE = "https://index.example/simple/foo/";
const origin = { url: PAGE, index: "https://index.example/simple" };
const HASH = "ab".repeat(32);
const sha256 = (body: Buffer) => createHash("sha256").update(body).digest("hex");

/** The MpipError `run` throws, for checks on its code and wording. */
function thrown(run: () => unknown): MpipError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof MpipError, `expected an MpipError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected an error");
}

async function rejected(promise: Promise<unknown>): Promise<MpipError> {
  const error = await promise.then(() => assert.fail("expected an error"), (reason: unknown) => reason);
  assert.ok(error instanceof MpipError, `expected an MpipError, got ${String(error)}`);
  return error;
}

describe("HTML scanning", () => {
  test("entities: named, decimal, hex; unknown ones stay; legacy `&amp=` in an attribute stays", () => {
    assert.equal(decodeEntities("a&amp;b&#38;c&#x26;d&lt;&gt;&quot;&apos;"), "a&b&c&d<>\"'");
    assert.equal(decodeEntities("&copy; &bogus; &#0; &#xD800;"), "&copy; &bogus; \ufffd \ufffd");
    assert.equal(decodeEntities("?a=1&amp=2", true), "?a=1&amp=2");
    assert.equal(decodeEntities("?a=1&amp;b=2&lt", true), "?a=1&b=2<");
  });

  test("attributes in any quoting and case; `>` inside quotes; the first of two same-named attributes wins", () => {
    const html = `<A HREF="one.tar.gz" Data-Yanked>One</A><a href='t>wo' title=x href=ignored>Two</a><a href=three/ class = "c">3</a>`;
    const tags = scanTags(html, new Set(["a"]));
    assert.deepEqual(tags.map((tag) => [Object.fromEntries(tag.attributes), tag.text]), [
      [{ href: "one.tar.gz", "data-yanked": "" }, "One"],
      [{ href: "t>wo", title: "x" }, "Two"],
      [{ href: "three/", class: "c" }, "3"],
    ]);
  });

  test("comments and scripts hide anchors; inner tags and whitespace leave the text; an unclosed anchor ends at the next", () => {
    const html = `<!-- <a href="hidden">x</a> --><script>var s = "<a href='js'>y</a>";</script>
      <a href="a"><b>foo</b>-1.0.tar.gz\n </a><a href="b">bar <a href="c">baz`;
    const tags = scanTags(html, new Set(["a"]));
    assert.deepEqual(tags.map((tag) => [tag.attributes.get("href"), tag.text]), [["a", "foo-1.0.tar.gz"], ["b", "bar"], ["c", "baz"]]);
  });

  test("hostile input: stray `<`, unterminated quotes and tags end the scan without throwing", () => {
    assert.deepEqual(scanTags("a < b <3 <a href='x", new Set(["a"])).map((tag) => tag.attributes.get("href")), ["x"]);
    assert.deepEqual(scanTags("<a href", new Set(["a"])).map((tag) => tag.attributes.get("href")), [""]);
    assert.deepEqual(scanTags("<!-- never closed <a href=x>", new Set(["a"])), []);
  });
});

test("fuzz: any mix of markup fragments scans to an end, and parses or fails with a bad-metadata error", () => {
  const fragments = ["<", ">", "<a", "</a>", "<A HREF=", "href", "=", '"', "'", " ", "/", "<!--", "-->", "<script>", "</script", "&amp", "&#x26;", ";",
    "data-yanked", "foo-1.0.tar.gz", "#sha256=", "ab", "<base href=", "https://h.example/", "javascript:x", "<meta name=pypi:repository-version content=", "1.0", "\n"];
  const random = prng(503);
  for (let round = 0; round < 3000; round++) {
    const html = Array.from({ length: 1 + Math.floor(random() * 24) }, () => fragments[Math.floor(random() * fragments.length)]).join("");
    for (const tag of scanTags(html, new Set(["a", "base"]))) {
      assert.ok(tag.name === "a" || tag.name === "base", html);
      for (const name of tag.attributes.keys()) assert.equal(name, name.toLowerCase(), html);
    }
    try {
      for (const file of parseSimpleHtml(html, origin).files) assert.match(file.url, /^https?:\/\/[^#]*$/, html);
    } catch (error) {
      assert.ok(error instanceof MpipError && error.code === "bad-metadata", `${html}: ${String(error)}`);
    }
  }
});

describe("PEP 503 HTML pages", () => {
  test("relative and absolute URLs, hash fragments, yanked with and without a reason", () => {
    const html = `<html><body>
      <a href="../../files/foo-1.0.tar.gz#sha256=${HASH.toUpperCase()}">foo-1.0.tar.gz</a>
      <a href="https://cdn.example/f/foo-1.1.tar.gz?x=1&amp;y=2#md5=abc" data-yanked>foo-1.1.tar.gz</a>
      <a href="/f/foo-1.2.tar.gz#md5=abc&sha256=${HASH}" data-yanked="broken">foo-1.2.tar.gz</a>
      <a href="foo-1.3.tar.gz" data-yanked="">foo-1.3.tar.gz</a>
    </body></html>`;
    assert.deepEqual(parseSimpleHtml(html, origin), {
      files: [
        { filename: "foo-1.0.tar.gz", url: "https://index.example/files/foo-1.0.tar.gz", sha256: HASH, yanked: false },
        { filename: "foo-1.1.tar.gz", url: "https://cdn.example/f/foo-1.1.tar.gz?x=1&y=2", yanked: true },
        { filename: "foo-1.2.tar.gz", url: "https://index.example/f/foo-1.2.tar.gz", sha256: HASH, yanked: true, yankedReason: "broken" },
        { filename: "foo-1.3.tar.gz", url: "https://index.example/simple/foo/foo-1.3.tar.gz", yanked: true },
      ],
    });
  });

  test("`<base href>` changes what relative URLs resolve against", () => {
    const page = parseSimpleHtml(`<head><base href="https://mirror.example/pkgs/"></head><a href="foo-1.0.tar.gz">foo-1.0.tar.gz</a>`, origin);
    assert.equal(page.files[0]?.url, "https://mirror.example/pkgs/foo-1.0.tar.gz");
  });

  test("the file name is the anchor text, else the URL's last segment; anchors with neither, or no href, are skipped", () => {
    const html = `<a href="/d/foo-2.0.tar.gz">Download</a><a href="/d/abc123">foo_bar-1.0.tar.gz</a>
      <a href="/d/x%20y-1.0.tar.gz">x/y</a><a href="../">up</a><a name="top">top</a><a href="/d/a%2Fb">a/b</a>`;
    assert.deepEqual(parseSimpleHtml(html, origin).files.map((file) => file.filename), ["foo-2.0.tar.gz", "foo_bar-1.0.tar.gz", "x y-1.0.tar.gz"]);
  });

  test("a malformed sha256 fragment is an error naming the page and the anchor", () => {
    const error = thrown(() => parseSimpleHtml(`<a href="ok.tar.gz">ok</a><a href="foo-1.0.tar.gz#sha256=abc">foo-1.0.tar.gz</a>`, origin));
    assert.equal(error.code, "bad-metadata");
    assert.match(error.message, /`https:\/\/index\.example\/simple\/foo\/`/);
    assert.match(error.message, /field `a\[1\]\.href` has a malformed sha256 \(must be 64 hex digits\): `abc`/);
  });

  test("only http(s) URLs are taken", () => {
    for (const href of ["file:///etc/passwd", "javascript:alert(1)", "ftp://host/foo-1.0.tar.gz"]) {
      const error = thrown(() => parseSimpleHtml(`<a href="${href}">foo-1.0.tar.gz</a>`, origin));
      assert.equal(error.code, "bad-metadata");
      assert.match(error.message, /field `a\[0\]\.href` must be an http or https URL/);
    }
  });

  test("a page of another major repository version is refused; a newer minor one is read", () => {
    const meta = (version: string) => `<meta name="pypi:repository-version" content="${version}"><a href="foo-1.0.tar.gz">foo-1.0.tar.gz</a>`;
    assert.equal(parseSimpleHtml(meta("1.4"), origin).files.length, 1);
    const error = thrown(() => parseSimpleHtml(meta("2.0"), origin));
    assert.equal(error.code, "bad-metadata");
    assert.match(error.message, /uses version 2\.0 of the simple repository API; mpip reads version 1/);
    assert.match(error.hint ?? "", /upgrade mpip/);
  });
});

describe("PEP 691 JSON pages", () => {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const page = (files: unknown[], meta: unknown = { "api-version": "1.0" }) => json({ meta, name: "foo", files });

  test("files with hashes, relative URLs, yanked as a boolean or a reason", () => {
    const body = page([
      { filename: "foo-1.0.tar.gz", url: "../../files/foo-1.0.tar.gz", hashes: { sha256: HASH.toUpperCase(), md5: "x" } },
      { filename: "foo-1.1.tar.gz", url: "https://cdn.example/foo-1.1.tar.gz", hashes: { md5: "x" }, yanked: true },
      { filename: "foo-1.2.tar.gz", url: `foo-1.2.tar.gz#sha256=${HASH}`, hashes: {}, yanked: "broken build" },
      { filename: "foo-1.3.tar.gz", url: "foo-1.3.tar.gz", hashes: {}, yanked: false },
    ]);
    assert.deepEqual(parseSimpleJson(body, origin), {
      name: "foo",
      files: [
        { filename: "foo-1.0.tar.gz", url: "https://index.example/files/foo-1.0.tar.gz", sha256: HASH, yanked: false },
        { filename: "foo-1.1.tar.gz", url: "https://cdn.example/foo-1.1.tar.gz", yanked: true },
        { filename: "foo-1.2.tar.gz", url: "https://index.example/simple/foo/foo-1.2.tar.gz", sha256: HASH, yanked: true, yankedReason: "broken build" },
        { filename: "foo-1.3.tar.gz", url: "https://index.example/simple/foo/foo-1.3.tar.gz", yanked: false },
      ],
    });
  });

  test("another major api-version is refused with a clear error before any other field is looked at", () => {
    const error = thrown(() => parseSimpleJson(json({ meta: { "api-version": "2.0" }, projects: {} }), origin));
    assert.equal(error.code, "bad-metadata");
    assert.match(error.message, /uses version 2\.0 of the simple repository API; mpip reads version 1/);
    assert.equal(parseSimpleJson(page([], { "api-version": "1.3" }), origin).files.length, 0);
  });

  test("errors name the field: missing meta, a bad hash, a non-http URL, a path as a file name, a numeric yanked", () => {
    const cases: Array<[Buffer, RegExp]> = [
      [json({ name: "foo", files: [] }), /field `meta` is missing/],
      [page([], { "api-version": "one" }), /field `meta\.api-version` must be a version such as `1\.0`, not `one`/],
      [page([{ filename: "foo-1.0.tar.gz", url: "a", hashes: { sha256: "xyz" } }]), /field `files\[0\]\.hashes\.sha256` must be 64 hex digits/],
      [page([{ filename: "foo-1.0.tar.gz", url: "file:///etc/passwd", hashes: {} }]), /field `files\[0\]\.url` must be an http or https URL/],
      [page([{ filename: "../foo-1.0.tar.gz", url: "a", hashes: {} }]), /field `files\[0\]\.filename` must be a plain file name/],
      [page([{ filename: "foo-1.0.tar.gz", url: "a", hashes: {}, yanked: 3 }]), /field `files\[0\]\.yanked` must be .*not the number 3/],
      [page([{ filename: "foo-1.0.tar.gz", url: "a#sha256=12", hashes: {} }]), /field `files\[0\]\.url` has a malformed sha256/],
      [Buffer.from("<html>"), /is not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const error = thrown(() => parseSimpleJson(body, origin));
      assert.equal(error.code, "bad-metadata");
      assert.match(error.message, message);
    }
  });

  test("the media type picks the parser; without one the first character does", () => {
    const body = page([{ filename: "foo-1.0.tar.gz", url: "a", hashes: {} }]);
    assert.equal(parseSimplePage(body, "application/vnd.pypi.simple.v1+json", origin).name, "foo");
    assert.equal(parseSimplePage(body, "", origin).name, "foo");
    const html = Buffer.from(`<a href="foo-1.0.tar.gz">foo-1.0.tar.gz</a>`);
    assert.equal(parseSimplePage(html, "application/vnd.pypi.simple.v1+html", origin).files.length, 1);
    assert.equal(parseSimplePage(html, "text/html; charset=utf-8", origin).files.length, 1);
    assert.equal(parseSimplePage(html, "application/octet-stream", origin).files.length, 1);
  });
});

test("the test index negotiates as PEP 691 says", () => {
  assert.equal(prefersJson(SIMPLE_ACCEPT), true);
  assert.equal(prefersJson(undefined), false);
  assert.equal(prefersJson("text/html"), false);
  assert.equal(prefersJson(`${SIMPLE_JSON_TYPE};q=0.5, text/html`), false);
  assert.equal(prefersJson(`${SIMPLE_JSON_TYPE};q=0, */*`), false);
});

describe("SimpleSource against a real index", () => {
  let server: IndexServer;
  let http: HttpClient;
  let negotiating: string;
  let htmlOnly: string;

  before(async () => {
    server = await startIndexServer();
    http = new HttpClient({ retries: 0 });
    negotiating = serveSimple(server);
    htmlOnly = serveSimple(server, { prefix: "/legacy/simple", html: true });
    await server.addSdist({ name: "micropython-foo", version: "1.0", files: { "foo.py": "x = 1\n" } });
    await server.addSdist({ name: "micropython-foo", version: "1.1", files: { "foo.py": "x = 2\n" } }, { yanked: true });
    await server.addSdist({ name: "micropython-foo", version: "2.0rc1", files: { "foo.py": "x = 3\n" } });
    server.addFile("micropython-foo", "1.0", { filename: "micropython_foo-1.0-py3-none-any.whl", body: Buffer.from("wheel") });
    server.addFile("micropython-foo", "1.0", { filename: "micropython-foo-1.0.tar.gz.asc", body: Buffer.from("sig") });
    server.addFile("micropython-foo", "1.0", { filename: "micropython-foobar-1.0.tar.gz", body: Buffer.from("other") });
    server.addFile("micropython-foo", "1.1", { filename: "micropython-foo-1.1.zip", body: Buffer.from("zip"), sha256: null });
  });
  after(async () => {
    await http.close();
    await server.close();
  });

  const lookup = (index: string, spec = "micropython-foo", options = {}) => new SimpleSource(index, http, options).lookup(parseRequirement(spec));

  /** The listing this test expects, from the files the server holds (their real hashes, their yanked flags). */
  function expected(name: string): ProjectListing {
    const project = server.projects.get("micropython-foo")!;
    const releases = new Map<string, unknown[]>();
    for (const [version, filename, packagetype] of [
      ["1.0", "micropython-foo-1.0.tar.gz", "sdist"],
      ["1.0", "micropython_foo-1.0-py3-none-any.whl", "bdist_wheel"],
      ["1.1", "micropython-foo-1.1.tar.gz", "sdist"],
      ["1.1", "micropython-foo-1.1.zip", "sdist"],
      ["2.0rc1", "micropython-foo-2.0rc1.tar.gz", "sdist"],
    ] as const) {
      const file = project.releases.get(version)!.find((candidate) => candidate.filename === filename)!;
      const url = `${server.origin}/files/micropython-foo/${version}/${filename}?via=simple&v=1`;
      const dist = { filename, location: { type: "remote", url }, packagetype, ...(file.sha256 === null ? {} : { sha256: sha256(file.body) }), yanked: file.yanked === true, ...(file.yanked === true ? { yankedReason: file.yankedReason ?? "yanked for a test" } : {}) };
      releases.set(version, [...(releases.get(version) ?? []), { type: "dist", file: dist }]);
    }
    return { name, source: negotiating, releases } as ProjectListing;
  }

  test("JSON and HTML give the same listing: versions from file names, hashes, yanked files, other projects left out", async () => {
    const fromJson = await lookup(negotiating);
    const fromHtml = await lookup(htmlOnly);
    assert.deepEqual(fromJson, expected("micropython-foo"));
    assert.deepEqual(fromHtml, { ...expected("micropython-foo"), source: htmlOnly });
    const pages = server.received.filter((request) => request.url.endsWith("/micropython-foo/"));
    assert.deepEqual(pages.map((request) => [request.url, request.headers.accept]), [
      ["/simple/micropython-foo/", SIMPLE_ACCEPT],
      ["/legacy/simple/micropython-foo/", SIMPLE_ACCEPT],
    ]);
  });

  test("the two routes really answer in different formats", async () => {
    const json = await http.get(`${negotiating}/micropython-foo/`, { accept: SIMPLE_ACCEPT, maxBytes: 1 << 20 });
    const html = await http.get(`${htmlOnly}/micropython-foo/`, { accept: SIMPLE_ACCEPT, maxBytes: 1 << 20 });
    assert.ok(json.status === "ok" && html.status === "ok");
    assert.equal(json.contentType, SIMPLE_JSON_TYPE);
    assert.match(html.contentType, /^text\/html/);
    assert.match(html.body.toString(), /href="\.\.\/\.\.\/\.\.\/files\/micropython-foo\/1\.0\/micropython-foo-1\.0\.tar\.gz\?via=simple&amp;v=1#sha256=[0-9a-f]{64}"/);
  });

  test("listed URLs download the very bytes their sha256 names", async () => {
    const listing = await lookup(htmlOnly);
    const artifact = listing!.releases.get("1.0")![0]!;
    assert.equal(artifact.type, "dist");
    if (artifact.type !== "dist" || artifact.file.location.type !== "remote") return assert.fail("expected a remote dist");
    const download = await http.get(artifact.file.location.url, { maxBytes: 1 << 20 });
    assert.ok(download.status === "ok");
    assert.equal(sha256(download.body), artifact.file.sha256);
  });

  test("any spelling of the name asks for the normalized page; the server redirects other spellings", async () => {
    const listing = await lookup(negotiating, "MicroPython_Foo>=1");
    assert.equal(listing?.releases.size, 3);
    assert.ok(server.requests.includes("GET /simple/micropython-foo/"));
    const redirected = await http.get(`${negotiating}/MicroPython.Foo`, { maxBytes: 1 << 20 });
    assert.equal(redirected.url, `${negotiating}/micropython-foo/`);
  });

  test("relative file URLs resolve against the page's final URL, after redirects", async () => {
    // A deeper path that redirects to /simple: resolving `../../../files/...` against it would miss.
    server.routes.push({ name: "alias", pattern: /^\/a\/b\/c\/([^/]+)\/$/, handle: ({ match }) => ({ status: 301, headers: { Location: `/simple/${match[1]}/` } }) });
    const listing = await lookup(`${server.origin}/a/b/c`);
    assert.deepEqual(listing?.releases, expected("micropython-foo").releases);
    assert.equal(listing?.source, `${server.origin}/a/b/c`);
  });

  test("a project the index does not have is undefined (not known here)", async () => {
    assert.equal(await lookup(negotiating, "micropython-missing"), undefined);
    assert.equal(await lookup(htmlOnly, "micropython-missing"), undefined);
  });

  test("a page over --max-metadata-bytes is a limit-exceeded error naming the page", async () => {
    const error = await rejected(lookup(negotiating, "micropython-foo", { maxMetadataBytes: 200 }));
    assert.equal(error.code, "limit-exceeded");
    assert.match(error.message, /`http:\/\/127\.0\.0\.1:\d+\/simple\/micropython-foo\/`.* is larger than the limit of 200 bytes/);
    assert.match(error.hint ?? "", /--max-metadata-bytes/);
    assert.equal((await rejected(lookup(htmlOnly, "micropython-foo", { maxMetadataBytes: 200 }))).code, "limit-exceeded");
  });

  test("a wrong hash is listed as served (the download check catches it); a malformed one is refused", async () => {
    const body = Buffer.from("bar");
    server.addFile("micropython-bar", "1.0", { filename: "micropython-bar-1.0.tar.gz", body, sha256: "0".repeat(64) });
    for (const index of [negotiating, htmlOnly]) {
      const artifact = (await lookup(index, "micropython-bar"))?.releases.get("1.0")?.[0];
      assert.ok(artifact?.type === "dist");
      assert.equal(artifact.file.sha256, "0".repeat(64));
      assert.notEqual(artifact.file.sha256, sha256(body));
    }
    server.addFile("micropython-bar", "1.0", { filename: "micropython-bar-1.0.tar.gz", body, sha256: "not-a-hash" });
    const fromJson = await rejected(lookup(negotiating, "micropython-bar"));
    assert.match(fromJson.message, /field `files\[0\]\.hashes\.sha256` must be 64 hex digits/);
    const fromHtml = await rejected(lookup(htmlOnly, "micropython-bar"));
    assert.match(fromHtml.message, /field `a\[0\]\.href` has a malformed sha256/);
  });

  test("the label hides credentials and trailing slashes", () => {
    assert.equal(new SimpleSource("https://user:token@index.example/simple///", http).label, "https://***@index.example/simple");
  });
});
