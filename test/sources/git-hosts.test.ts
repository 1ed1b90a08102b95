import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { DEFAULT_GIT_HOSTS, expandShorthand, gitHostsFromEnv, isShorthand, refFor, rewriteShorthand, shorthandNotFound, shorthandRepo, splitRef, withPackageJson } from "../../src/sources/git-hosts.js";

const hosts = DEFAULT_GIT_HOSTS;

/** Splits and expands a spec the way a caller does. */
function expand(text: string): string {
  const { spec, ref } = splitRef(text);
  return expandShorthand(spec, ref, hosts);
}

function badSpec(problem: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof MpipError, String(error));
    assert.equal(error.code, "bad-spec");
    assert.match(error.message, problem);
    assert.match(error.hint ?? "", /github:org\/repo/);
    assert.match(error.hint ?? "", /@ref/);
    return true;
  };
}

test("shorthands are recognized by their prefix only", () => {
  for (const text of ["github:a/b", "gitlab:a/b", "codeberg:a/b"]) assert.equal(isShorthand(text), true, text);
  for (const text of ["gh:a/b", "https://github.com/a/b", "foo", "GitHub:a/b", "./github:a"]) assert.equal(isShorthand(text), false, text);
});

test("splitRef takes the `@ref` after org/repo, including refs with `/`", () => {
  assert.deepEqual(splitRef("github:org/repo/path@v1.2"), { spec: "github:org/repo/path", ref: "v1.2" });
  assert.deepEqual(splitRef("github:org/repo@main"), { spec: "github:org/repo", ref: "main" });
  assert.deepEqual(splitRef("gitlab:org/repo@feature/x"), { spec: "gitlab:org/repo", ref: "feature/x" });
  assert.deepEqual(splitRef("codeberg:org/repo/a.py@0123abc"), { spec: "codeberg:org/repo/a.py", ref: "0123abc" });
  assert.deepEqual(splitRef("github:org/repo"), { spec: "github:org/repo" });
  // An `@` before org/repo ends is no ref (and the spec is refused when expanded).
  assert.deepEqual(splitRef("github:org@x"), { spec: "github:org@x" });
  assert.deepEqual(splitRef("github:o@rg/repo"), { spec: "github:o@rg/repo" });
  // Plain URLs carry no ref: an `@` there is credentials or part of the path.
  assert.deepEqual(splitRef("https://user@host/x/package.json"), { spec: "https://user@host/x/package.json" });
  assert.deepEqual(splitRef("github:org/repo@"), { spec: "github:org/repo", ref: "" });
});

test("github, gitlab and codeberg shorthands expand as mip rewrites them", () => {
  assert.equal(expand("github:org/repo"), "https://raw.githubusercontent.com/org/repo/HEAD/package.json");
  assert.equal(expand("github:org/repo/"), "https://raw.githubusercontent.com/org/repo/HEAD/package.json");
  assert.equal(expand("github:org/repo/lib/foo"), "https://raw.githubusercontent.com/org/repo/HEAD/lib/foo/package.json");
  assert.equal(expand("github:org/repo/lib/foo/"), "https://raw.githubusercontent.com/org/repo/HEAD/lib/foo/package.json");
  assert.equal(expand("github:org/repo/lib/foo.py@v1.2"), "https://raw.githubusercontent.com/org/repo/v1.2/lib/foo.py");
  assert.equal(expand("github:org/repo/foo.mpy"), "https://raw.githubusercontent.com/org/repo/HEAD/foo.mpy");
  assert.equal(expand("github:org/repo/pkg/other.json@main"), "https://raw.githubusercontent.com/org/repo/main/pkg/other.json");
  assert.equal(expand("github:org/repo@feature/x"), "https://raw.githubusercontent.com/org/repo/feature/x/package.json");
  assert.equal(expand("gitlab:org/repo"), "https://gitlab.com/org/repo/-/raw/HEAD/package.json");
  assert.equal(expand("gitlab:org/repo/a/b.py@v2"), "https://gitlab.com/org/repo/-/raw/v2/a/b.py");
  assert.equal(expand("codeberg:org/repo"), "https://codeberg.org/api/v1/repos/org/repo/raw/package.json?ref=HEAD");
  assert.equal(expand("codeberg:org/repo/lib@v1"), "https://codeberg.org/api/v1/repos/org/repo/raw/lib/package.json?ref=v1");
  assert.equal(expand("codeberg:org/repo/x.py@feature/y"), "https://codeberg.org/api/v1/repos/org/repo/raw/x.py?ref=feature%2Fy");
});

test("path segments are percent-encoded, so none can change the URL's meaning", () => {
  assert.equal(expand("github:org/repo/my dir/a#b?.py"), "https://raw.githubusercontent.com/org/repo/HEAD/my%20dir/a%23b%3F.py");
  assert.equal(expand("github:org/repo/%2e%2e/x.py"), "https://raw.githubusercontent.com/org/repo/HEAD/%252e%252e/x.py");
});

test("a ref given separately is used; HEAD without one", () => {
  assert.equal(expandShorthand("github:org/repo", "v3", hosts), "https://raw.githubusercontent.com/org/repo/v3/package.json");
  assert.equal(expandShorthand("github:org/repo", undefined, hosts), "https://raw.githubusercontent.com/org/repo/HEAD/package.json");
});

test("overridden hosts replace the forge's base URL, with trailing slashes ignored", () => {
  const own = { github: "http://127.0.0.1:1/gh/", gitlab: "https://git.example.com/gitlab", codeberg: "http://127.0.0.1:1/cb" };
  assert.equal(expandShorthand("github:o/r/a.py", "t", own), "http://127.0.0.1:1/gh/o/r/t/a.py");
  assert.equal(expandShorthand("gitlab:o/r", undefined, own), "https://git.example.com/gitlab/o/r/-/raw/HEAD/package.json");
  assert.equal(expandShorthand("codeberg:o/r/a.py", undefined, own), "http://127.0.0.1:1/cb/api/v1/repos/o/r/raw/a.py?ref=HEAD");
});

test("rewriteShorthand names any file, without the package.json rule", () => {
  assert.equal(rewriteShorthand("github:org/repo/data/notes.txt", "v1", hosts), "https://raw.githubusercontent.com/org/repo/v1/data/notes.txt");
  assert.equal(rewriteShorthand("codeberg:org/repo/lib/x", undefined, hosts), "https://codeberg.org/api/v1/repos/org/repo/raw/lib/x?ref=HEAD");
  assert.throws(() => rewriteShorthand("github:org/repo", undefined, hosts), badSpec(/names a folder/));
  assert.throws(() => rewriteShorthand("github:org/repo/lib/", undefined, hosts), badSpec(/names a folder/));
});

test("invalid shorthands are refused with the accepted forms", () => {
  const cases: Array<[string, RegExp]> = [
    ["github:", /org .*and a repo/],
    ["github:org", /org .*and a repo/],
    ["github:org/", /org .*and a repo/],
    ["github:/repo", /org .*and a repo/],
    ["github:org/repo//x.py", /empty path segment/],
    ["github:org/repo/../x.py", /`\.\.` path segment/],
    ["github:../repo", /`\.\.` path segment/],
    ["github:org/./x", /`\.` path segment/],
    ["github:org/repo/a\\b.py", /backslash/],
    ["github:org/repo/a\u0001.py", /control character/],
    ["github:org/re\npo", /control character/],
    ["github:org@x", /org .*and a repo/],
    ["github:o@rg/repo", /`@` outside a trailing `@ref`/],
    ["github:org/repo@", /not followed by a ref/],
    ["github:org/repo@a..b/../c", /empty, `\.` or `\.\.` segment/],
    ["github:org/repo@a b", /ref contains a character/],
    ["github:org/repo@a?b", /ref contains a character/],
    ["github:org/repo@x//y", /empty, `\.` or `\.\.` segment/],
  ];
  for (const [text, problem] of cases) assert.throws(() => expand(text), badSpec(problem), text);
  assert.throws(() => expandShorthand("https://x/y", undefined, hosts), badSpec(/does not start with/));
});

test("withPackageJson points a repo folder URL at its package.json", () => {
  assert.equal(withPackageJson("https://example.com/org/repo"), "https://example.com/org/repo/package.json");
  assert.equal(withPackageJson("https://example.com/org/repo/"), "https://example.com/org/repo/package.json");
  assert.equal(withPackageJson("https://example.com/pkg?token=1"), "https://example.com/pkg/package.json?token=1");
  assert.equal(withPackageJson("https://example.com/x/foo.py"), "https://example.com/x/foo.py");
  assert.equal(withPackageJson("https://example.com/x/foo.mpy"), "https://example.com/x/foo.mpy");
  assert.equal(withPackageJson("https://example.com/x/other.json"), "https://example.com/x/other.json");
  assert.equal(withPackageJson("https://example.com"), "https://example.com/package.json");
});

test("MPIP_GITHUB_URL, MPIP_GITLAB_URL and MPIP_CODEBERG_URL override the hosts", () => {
  assert.deepEqual(gitHostsFromEnv({}), { ...DEFAULT_GIT_HOSTS });
  assert.deepEqual(gitHostsFromEnv({ MPIP_GITHUB_URL: "http://127.0.0.1:8080/gh/", MPIP_CODEBERG_URL: "https://cb.example" }), {
    github: "http://127.0.0.1:8080/gh",
    gitlab: "https://gitlab.com",
    codeberg: "https://cb.example",
  });
  assert.deepEqual(gitHostsFromEnv({ MPIP_GITLAB_URL: "" }), { ...DEFAULT_GIT_HOSTS });
  for (const [variable, value] of [["MPIP_GITHUB_URL", "ftp://x"], ["MPIP_GITLAB_URL", "gitlab.example.com"], ["MPIP_CODEBERG_URL", "https://x/?a=1"]] as const) {
    assert.throws(() => gitHostsFromEnv({ [variable]: value }), (error: unknown) => {
      assert.ok(error instanceof MpipError);
      assert.equal(error.code, "usage");
      assert.match(error.message, new RegExp(`\`${variable}\``));
      assert.match(error.message, /not an http or https base URL/);
      return true;
    });
  }
});

test("a rejected host variable's credentials are never printed, whether or not it parses as a URL", () => {
  for (const [value, shown] of [
    ["https://user:s3cret@ghe.corp/raw?x=1", "https://***@ghe.corp/raw?x=1"],
    ["http://tok3n@ghe.corp/raw#frag", "http://***@ghe.corp/raw#frag"],
    ["user:s3cret@ghe.corp/raw", "***@ghe.corp/raw"],
  ] as const) {
    assert.throws(() => gitHostsFromEnv({ MPIP_GITHUB_URL: value }), (error: unknown) => {
      assert.ok(error instanceof MpipError);
      assert.equal(error.code, "usage");
      assert.ok(error.message.includes(`\`${shown}\``), error.message);
      assert.doesNotMatch(`${error.message}\n${error.hint}`, /s3cret|tok3n/);
      return true;
    });
  }
});

describe("which repo a shorthand names, and which ref it is fetched at", () => {
  test("shorthandRepo names the forge and the project, lowercased; a path or a ref does not change it", () => {
    assert.equal(shorthandRepo("github:Org/App"), "github:org/app");
    assert.equal(shorthandRepo("github:org/app/lib/x.py@dev"), "github:org/app");
    assert.equal(shorthandRepo("gitlab:org/app/sub/package.json"), "gitlab:org/app");
    assert.equal(shorthandRepo("gitlab:group/sub/project/-/lib@v1"), "gitlab:group/sub/project");
    assert.equal(shorthandRepo("codeberg:org/app/"), "codeberg:org/app");
    for (const text of ["github:org", "https://h/x", "github:org/../x", "mipname"]) assert.equal(shorthandRepo(text), undefined, text);
  });

  test("a ref reaches shorthands into its own repo only; a shorthand's own ref always wins", () => {
    const dev = { repo: "github:org/app", ref: "dev" };
    assert.equal(refFor("github:org/app/lib/x.py", undefined, dev), "dev");
    assert.equal(refFor("github:ORG/app", undefined, dev), "dev");
    assert.equal(refFor("github:org/app/x.py", "v1", dev), "v1");
    for (const other of ["github:other/helpers/h.py", "github:org/app2/x.py", "github:org/ap/x.py", "gitlab:org/app/x.py", "codeberg:org/app", "github:app/org"]) {
      assert.equal(refFor(other, undefined, dev), undefined, other);
    }
    assert.equal(refFor("github:org/app", undefined, undefined), undefined);
  });
});

describe("GitLab projects inside subgroups: `gitlab:group/subgroup/project/-/path`", () => {
  test("`/-/` ends the project's path, as in GitLab's own URLs", () => {
    assert.equal(expand("gitlab:group/sub/project/-"), "https://gitlab.com/group/sub/project/-/raw/HEAD/package.json");
    assert.equal(expand("gitlab:group/sub/project/-/"), "https://gitlab.com/group/sub/project/-/raw/HEAD/package.json");
    assert.equal(expand("gitlab:group/a/b/project/-/lib/pkg@v1"), "https://gitlab.com/group/a/b/project/-/raw/v1/lib/pkg/package.json");
    assert.equal(expand("gitlab:group/sub/project/-/mod.py@feature/x"), "https://gitlab.com/group/sub/project/-/raw/feature/x/mod.py");
    assert.equal(rewriteShorthand("gitlab:group/sub/project/-/lib/a.py", "v2", hosts), "https://gitlab.com/group/sub/project/-/raw/v2/lib/a.py");
    // On two segments `/-/` changes nothing; on GitHub and Codeberg (no subgroups) `-` is a folder name.
    assert.equal(expand("gitlab:org/repo/-/a.py"), "https://gitlab.com/org/repo/-/raw/HEAD/a.py");
    assert.equal(expand("github:org/repo/-/a.py"), "https://raw.githubusercontent.com/org/repo/HEAD/-/a.py");
  });

  test("`/-/` needs a group and a project before it; its segments get the usual checks", () => {
    for (const [text, problem] of [["gitlab:org/-/a.py", /needs a group and a project/], ["gitlab:-/x", /needs a group and a project/], ["gitlab:g/s/../p/-/a.py", /`\.\.` path segment/], ["gitlab:g/s//p/-/a.py", /empty path segment/], ["gitlab:g/s/p/-/a//b.py", /empty path segment/]] as const) {
      assert.throws(() => expand(text), badSpec(problem), text);
    }
  });
});

describe("a shorthand that answers 404", () => {
  const url = "https://raw.githubusercontent.com/org/repo/HEAD/package.json";
  const lines = (error: MpipError) => error.hintLines.join("\n");

  test("says which file is missing in which repo at which ref, and the forms that name another place", () => {
    const top = shorthandNotFound("github:org/repo", undefined, url, hosts);
    assert.equal(top.code, "not-found");
    assert.match(top.message, /^`github:org\/repo`: there is no `package\.json` at the top of `org\/repo` on its default branch \(`https:\/\/raw\.githubusercontent\.com\/org\/repo\/HEAD\/package\.json` answered 404\)$/);
    for (const form of ["`github:org/repo/path/to/folder`", "`github:org/repo@v1.0`", "`github:org/repo/module.py`"]) assert.ok(lines(top).includes(form), form);
    assert.doesNotMatch(lines(top), /subgroup/);
    assert.match(shorthandNotFound("codeberg:o/r/lib", "dev", url, hosts).message, /there is no `lib\/package\.json` in `o\/r` at `dev`/);
    assert.match(shorthandNotFound("github:o/r/pkg/other.json", undefined, url, hosts).message, /no `pkg\/other\.json` in `o\/r`/);
    const module = shorthandNotFound("github:o/r/lib/m.py", "v2", url, hosts);
    assert.match(module.message, /no `lib\/m\.py` in `o\/r` at `v2`/);
    assert.match(lines(module), /check the module's path/);
  });

  test("for GitLab, the hint reads the first path segment as a project inside a subgroup: the form and the raw URL", () => {
    const error = shorthandNotFound("gitlab:group/sub/project/lib/m.py", "v1", url, hosts);
    assert.match(lines(error), /if `group\/sub` is a group and a subgroup, write `gitlab:group\/sub\/project\/-\/lib\/m\.py@v1`, or give the raw URL `https:\/\/gitlab\.com\/group\/sub\/project\/-\/raw\/v1\/lib\/m\.py`/);
    assert.match(lines(shorthandNotFound("gitlab:group/sub/project", undefined, url, hosts)), /write `gitlab:group\/sub\/project\/-`, or give the raw URL `https:\/\/gitlab\.com\/group\/sub\/project\/-\/raw\/HEAD\/package\.json`/);
    // Nothing to read as a project, or already the subgroup form: the general form only.
    for (const spec of ["gitlab:group/sub", "gitlab:group/sub/project/-/lib"]) {
      const hint = lines(shorthandNotFound(spec, undefined, url, hosts));
      assert.match(hint, /a GitLab project inside subgroups is `gitlab:group\/subgroup\/project\/-\/path`/, spec);
      assert.doesNotMatch(hint, /raw URL/, spec);
    }
  });
});
