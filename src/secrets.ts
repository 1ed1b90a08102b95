// Credentials never reach the output. URLs that carry them (`https://user:token@host/simple`) come from the
// command line, `MPIP_*` variables, requirement files (`${TOKEN}` expanded) and proxies; a message may
// quote such a value anywhere (an unknown option, a bad value, a path that is really a URL). So every
// string mpip prints passes through `redactSecrets` (text.ts renders and `printable` call it, the JSON
// documents too): the userinfo of any URL becomes `***`, as `redactUrl` writes it (but for the placeholder
// of mpip's own examples, EXAMPLE_USERINFO), and the credentials seen in the run's inputs
// (`rememberCredentials`) are replaced wherever they appear on their own.

/**
 * `scheme://userinfo@`: the userinfo of a URL written in text. It ends at the *last* `@` before the first
 * `/`, `?`, `#` or space, as URL parsers read it (WHATWG URL): in `https://user:pa@ss@host/` the password is
 * `pa@ss`, so stopping at the first `@` would print `ss@host`.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'`<>\\]+@/gi;

/**
 * The userinfo of the example URLs in mpip's own hints (`https://user:token@host/pypi`): placeholders that
 * show where credentials go, which redaction keeps (written `***`, the hint would hide what it shows).
 * Every hint that shows credentials in a URL writes them with this.
 */
export const EXAMPLE_USERINFO = "user:token";

/**
 * Credentials shorter than this are removed from URLs but not searched for in the rest of the text: a
 * short word would be blanked out of unrelated output, and is no secret worth the name.
 */
export const MIN_REMEMBERED_LENGTH = 8;

const remembered = new Set<string>();
/** `remembered`, longest first (so that a secret holding another is replaced whole), rebuilt when it grows. */
let ordered: string[] = [];

/**
 * Notes the credentials of every URL in `text` (an argument, a variable's value, a requirement line):
 * the password, or the user when there is no password (a token given as the user), raw and
 * percent-decoded. From then on `redactSecrets` replaces them wherever they appear.
 */
export function rememberCredentials(text: string): void {
  let added = false;
  for (const match of text.matchAll(USERINFO)) {
    const userinfo = match[0].slice(match[1]!.length, -1);
    const colon = userinfo.indexOf(":");
    const secret = colon < 0 ? userinfo : userinfo.slice(colon + 1);
    for (const form of [secret, decoded(secret)]) {
      if (form.length >= MIN_REMEMBERED_LENGTH && form !== "***" && !remembered.has(form)) {
        remembered.add(form);
        added = true;
      }
    }
  }
  if (added) ordered = [...remembered].sort((a, b) => b.length - a.length);
}

/** `text` with the userinfo of every URL in it written `***`, and every remembered credential too. */
export function redactSecrets(text: string): string {
  let result = text.includes("://") ? text.replace(USERINFO, (userinfo, scheme: string) => (userinfo === `${scheme}${EXAMPLE_USERINFO}@` ? userinfo : `${scheme}***@`)) : text;
  for (const secret of ordered) if (result.includes(secret)) result = result.split(secret).join("***");
  return result;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
