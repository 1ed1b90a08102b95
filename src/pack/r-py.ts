// Python `repr` of str and bytes, byte for byte as CPython 3 prints them, and the `R.py` resource module
// that sdist_upip and micropython-lib's mpy_bin2res.py write with `"%r: %r," % (key, data)`.
// Pure logic: `R.py` must equal what those tools produce, so a package packed by mpip and one packed by
// sdist_upip carry the same bytes (sdist_upip.py's `make_resource_module`).
//
// Printability of non-ASCII characters follows CPython's `str.isprintable()`: everything but the Unicode
// categories Cc, Cf, Cs, Co, Cn (other) and Zs, Zl, Zp (separators), space excepted. The categories come
// from the Unicode tables of the running Node; a character assigned in a newer Unicode version than a given
// CPython knows (an unassigned, so non-printable, one there) is the only place the two can differ.

const NON_PRINTABLE = /^[\p{C}\p{Z}]$/u;

function hex(code: number, digits: number): string {
  return code.toString(16).padStart(digits, "0");
}

/** The quote CPython picks: `'` unless the text holds `'` and no `"`. */
function quoteFor(hasSingle: boolean, hasDouble: boolean): "'" | '"' {
  return hasSingle && !hasDouble ? '"' : "'";
}

/** `repr(text)` for a Python str. Lone surrogates (possible in a JS string) print as `\udXXX`, as in CPython. */
export function pyReprStr(text: string): string {
  const quote = quoteFor(text.includes("'"), text.includes('"'));
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === quote || char === "\\") out += `\\${char}`;
    else if (char === "\t") out += "\\t";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (code < 0x7f) out += char;
    else if (!NON_PRINTABLE.test(char)) out += char;
    else if (code <= 0xff) out += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return out + quote;
}

/** `repr(data)` for Python bytes: `b'...'`, printable ASCII as itself, `\t \n \r`, `\xNN` for the rest. */
export function pyReprBytes(data: Uint8Array): string {
  const quote = quoteFor(data.includes(0x27), data.includes(0x22));
  const quoteByte = quote.charCodeAt(0);
  const parts: string[] = ["b", quote];
  let run = "";
  for (const byte of data) {
    if (byte === quoteByte || byte === 0x5c) run += `\\${String.fromCharCode(byte)}`;
    else if (byte === 0x09) run += "\\t";
    else if (byte === 0x0a) run += "\\n";
    else if (byte === 0x0d) run += "\\r";
    else if (byte < 0x20 || byte >= 0x7f) run += `\\x${hex(byte, 2)}`;
    else run += String.fromCharCode(byte);
    if (run.length >= 8192) {
      parts.push(run);
      run = "";
    }
  }
  parts.push(run, quote);
  return parts.join("");
}

export interface Resource {
  key: string;
  data: Uint8Array;
}

/** One `R.py` line, exactly `"%r: %r,\n" % (key, data)`. */
export function renderResourceLine(resource: Resource): string {
  return `${pyReprStr(resource.key)}: ${pyReprBytes(resource.data)},\n`;
}

/**
 * The `R.py` module text: `R = {`, one line per resource in the order given, `}`. Callers sort when the
 * format asks for it (sdist_upip sorts by path; mpy_bin2res.py keeps the command line's order).
 */
export function renderResourceModule(resources: Resource[]): string {
  return `R = {\n${resources.map(renderResourceLine).join("")}}\n`;
}
