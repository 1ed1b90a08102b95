// The globs of `[tool.mpip] include` and `exclude`, matched against archive paths (`pkg/data/x.bin`):
// `*` and `?` stay within one folder, `**` spans folders, `[abc]`, `[a-z]` and `[!a]` are classes.
// A glob that matches a folder matches everything below it, so `mypkg/tests` excludes that folder.
// (Node 20 has no stable `path.matchesGlob`; this is the small subset a package layout needs.)

export type GlobMatcher = (archivePath: string) => boolean;

export function compileGlobs(globs: string[]): GlobMatcher {
  const patterns = globs.map(globToRegExp);
  return (archivePath) => {
    if (patterns.length === 0) return false;
    const parts = archivePath.split("/");
    for (let length = parts.length; length > 0; length--) {
      const prefix = parts.slice(0, length).join("/");
      if (patterns.some((pattern) => pattern.test(prefix))) return true;
    }
    return false;
  };
}

export function globToRegExp(glob: string): RegExp {
  const segments = glob.replace(/\\/g, "/").replace(/^\.\//, "").replace(/\/+$/, "").split("/");
  let source = "";
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === "**") {
      // Any number of whole folders, including none.
      source += last ? ".*" : "(?:[^/]*/)*";
      return;
    }
    source += segmentToRegExp(segment) + (last ? "" : "/");
  });
  return new RegExp(`^${source}$`, "u");
}

function segmentToRegExp(segment: string): string {
  let out = "";
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === "*") out += "[^/]*";
    else if (char === "?") out += "[^/]";
    else if (char === "[") {
      const end = segment.indexOf("]", i + 2);
      if (end < 0) {
        out += "\\[";
        continue;
      }
      let body = segment.slice(i + 1, end);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^/" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else out += char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return out;
}
