// Credentials never reach the output. URLs that carry them (`https://user:token@host/simple`) come from the
// command line, `MPIP_*` variables, requirement files (`${TOKEN}` expanded) and proxies; a message may
// quote such a value anywhere (an unknown option, a bad value, a path that is really a URL). So every
// string mpip prints passes through `redactSecrets` (text.ts renders and `printable` call it, the JSON
// documents too): the userinfo of any URL becomes `***`, as `redactUrl` writes it (but for the placeholder
// of mpip's own examples, EXAMPLE_USERINFO), and the credentials seen in the run's inputs
// (`rememberCredentials`) are replaced wherever they appear on their own. Credentials carried in a query
// string (`?private_token=...`, a presigned URL's `X-Amz-Signature=...`, an Azure SAS `sig=...`) are
// treated alike: the value of a query parameter whose name says it holds a secret (SECRET_QUERY_NAME)
// becomes `***`, in any URL printed, and such values in the run's inputs are remembered too.

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

/**
 * Query parameter names whose value is a credential, matched whole and case-insensitively, also as the
 * last part of a longer name (`X-Amz-Signature`, `job_token`, `x-goog-credential`): tokens and keys
 * (GitLab's `private_token`, `job_token`; OAuth's `access_token`; `api_key`), passwords and secrets, and
 * the signatures and credentials of presigned URLs (S3 `X-Amz-Signature`, `X-Amz-Credential`,
 * `X-Amz-Security-Token`; GCS `X-Goog-Signature`; Azure SAS `sig`; CloudFront `Signature`, `Key-Pair-Id`).
 */
export const SECRET_QUERY_NAME = /^(?:[a-z0-9]+[-_.])*(?:token|access[-_]?token|private[-_]?token|auth|auth[-_]?token|authorization|api[-_]?key|apikey|key|password|passwd|pwd|pass|secret|client[-_]?secret|sig|signature|credential|security[-_]?token|session[-_]?token|key[-_]pair[-_]id)$/i;

/**
 * `?name=value` or `&name=value` in text: the value runs to the next `&`, `#`, space, quote, bracket or
 * backslash (the end of a URL written in a message, a JSON string or a TOML one).
 */
const QUERY_PARAMETER = /([?&])([A-Za-z0-9_.~%-]+)=([^&#\s"'`<>\\)\]]+)/g;

/**
 * Whether the query parameter `name`, as written in a URL (`%74oken` and `to+ken` are decoded as a server
 * decodes them), names a credential (SECRET_QUERY_NAME).
 */
export function isSecretName(name: string): boolean {
  if (!name.includes("%") && !name.includes("+")) return SECRET_QUERY_NAME.test(name);
  try {
    return SECRET_QUERY_NAME.test(decodeURIComponent(name.replace(/\+/g, " ")));
  } catch {
    return SECRET_QUERY_NAME.test(name);
  }
}

/** `url`'s query with every credential value (SECRET_QUERY_NAME, its name percent-decoded) written `***`; other text as it is. */
export function redactQuery(text: string): string {
  if (!text.includes("=")) return text;
  return text.replace(QUERY_PARAMETER, (whole, lead: string, name: string, value: string) => (isSecretName(name) && value !== "***" ? `${lead}${name}=***` : whole));
}

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
  const secrets: string[] = [];
  for (const match of text.matchAll(USERINFO)) {
    const userinfo = match[0].slice(match[1]!.length, -1);
    const colon = userinfo.indexOf(":");
    secrets.push(colon < 0 ? userinfo : userinfo.slice(colon + 1));
  }
  if (text.includes("=")) for (const match of text.matchAll(QUERY_PARAMETER)) if (isSecretName(match[2]!)) secrets.push(match[3]!);
  for (const secret of secrets) {
    for (const form of [secret, decoded(secret)]) {
      if (form.length >= MIN_REMEMBERED_LENGTH && form !== "***" && !remembered.has(form)) {
        remembered.add(form);
        added = true;
      }
    }
  }
  if (added) ordered = [...remembered].sort((a, b) => b.length - a.length);
}

/**
 * `text` with the userinfo of every URL in it written `***`, the value of every query parameter that holds a
 * credential (SECRET_QUERY_NAME) too, and every remembered credential.
 */
export function redactSecrets(text: string): string {
  let result = text.includes("://") ? text.replace(USERINFO, (userinfo, scheme: string) => (userinfo === `${scheme}${EXAMPLE_USERINFO}@` ? userinfo : `${scheme}***@`)) : text;
  result = redactQuery(result);
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
