// CPython as the oracle for `repr`: one python3 process per batch, cases in as JSON on stdin, answers out
// as ASCII-only JSON (so lone surrogates and any character survive the trip). Absent python3 → undefined.

import { spawnSync } from "node:child_process";

export const PYTHON = findPython();

function findPython(): string | undefined {
  const probe = spawnSync("python3", ["-c", "import sys; print(sys.version_info[0])"], { encoding: "utf8" });
  return probe.status === 0 && probe.stdout.trim() === "3" ? "python3" : undefined;
}

export type OracleCase = { kind: "str"; value: string } | { kind: "bytes"; value: Uint8Array } | { kind: "module"; resources: Array<{ key: string; data: Uint8Array }> };

const SCRIPT = String.raw`
import base64, json, sys
cases = json.load(sys.stdin)
out = []
printable = []
for case in cases:
    if case["kind"] == "str":
        out.append(repr(case["value"]))
        printable.append("".join("1" if c.isprintable() else "0" for c in case["value"]))
    elif case["kind"] == "bytes":
        out.append(repr(base64.b64decode(case["value"])))
    else:
        # sdist_upip's make_resource_module, with the file contents given instead of read
        text = "R = {\n"
        for key, data in case["resources"]:
            text += "%r: %r,\n" % (key, base64.b64decode(data))
        out.append(text + "}\n")
import unicodedata
json.dump({"reprs": out, "printable": printable, "unicode": unicodedata.unidata_version, "version": sys.version.split()[0]}, sys.stdout, ensure_ascii=True)
`;

export interface OracleAnswer {
  reprs: string[];
  /** For each str case in order, CPython's `isprintable()` of each code point as "1"/"0". */
  printable: string[];
  unicode: string;
  version: string;
}

export function askPython(cases: OracleCase[]): OracleAnswer {
  if (PYTHON === undefined) throw new Error("python3 is not available");
  const b64 = (data: Uint8Array) => Buffer.from(data).toString("base64");
  const input = JSON.stringify(
    cases.map((c) =>
      c.kind === "str" ? c : c.kind === "bytes" ? { kind: "bytes", value: b64(c.value) } : { kind: "module", resources: c.resources.map((r) => [r.key, b64(r.data)]) },
    ),
  );
  const run = spawnSync(PYTHON, ["-c", SCRIPT], { input, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PYTHONIOENCODING: "utf-8" } });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as OracleAnswer;
}

export { prng } from "../helpers/prng.js";
