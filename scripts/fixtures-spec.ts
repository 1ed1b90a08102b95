// Example MicroPython packages shipped in fixtures/ as reproducible sdists (for an offline demo).
// Dependency graph (a diamond): mpip-demo-app -> mpip-demo-ansi, mpip-demo-fmt>=1.0; mpip-demo-fmt -> mpip-demo-ansi.
// The Python code avoids what MicroPython lacks (e.g. str.ljust/rjust): only str.format and plain f-strings.
import path from "node:path";
import { checkoutRoot } from "../test/helpers/checkout.js";
import { buildSdist, sdistFilename, type SdistOptions, type SdistSpec } from "../test/helpers/sdist.js";

export const FIXTURES_DIR = path.join(checkoutRoot(import.meta.url), "fixtures");

const ANSI_PY = `"""Minimal ANSI colours for terminals (MicroPython and CPython)."""

CODES = {
    "black": 30, "red": 31, "green": 32, "yellow": 33,
    "blue": 34, "magenta": 35, "cyan": 36, "white": 37,
}
RESET = "\\x1b[0m"
ENABLED = True


def colour(text, name, bold=False):
    """Wrap text in the escape codes for colour \`name\` (unchanged when ENABLED is False)."""
    if not ENABLED:
        return text
    code = CODES[name]
    prefix = "\\x1b[1;%dm" % code if bold else "\\x1b[%dm" % code
    return prefix + str(text) + RESET


def strip(text):
    """Remove ANSI escape sequences, so widths can be measured."""
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\x1b":
            j = text.find("m", i)
            if j < 0:
                break
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
`;

const FMT_PY = (version: string, withAnsi: boolean) => `"""Plain-text tables for small screens."""
${withAnsi ? "import ansi\n" : ""}
VERSION = "${version}"


def _pad(text, width, right):
    gap = " " * (width - len(${withAnsi ? "ansi.strip(text)" : "text"}))
    return gap + text if right else text + gap


def _numeric(text):
    return text.replace(".", "", 1).lstrip("-").isdigit()


def table(rows, header=None):
    """Format rows (sequences of values) as aligned columns; numeric columns are right-aligned."""
    rows = [[str(c) for c in row] for row in rows]
    right = [all(_numeric(c) for c in col) for col in zip(*rows)]
    if header is not None:
        rows = [[str(c) for c in header]] + rows
    if not rows:
        return ""
    right = right or [False] * len(rows[0])
    widths = [max(len(${withAnsi ? "ansi.strip(r[i])" : "r[i]"}) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        lines.append(" | ".join(_pad(c, widths[i], right[i]) for i, c in enumerate(row)))
        if header is not None and len(lines) == 1:
            lines.append("-+-".join("-" * w for w in widths))
    return "\\n".join(lines)
${withAnsi ? `

def heading(text):
    return ansi.colour(text, "cyan", bold=True)
` : ""}`;

const APP_INIT_PY = `"""mpip demo application: prints a coloured greeting and a table."""
from .greeting import greet

__version__ = "1.0.0"


def main(name="MicroPython"):
    print(greet(name))
`;

const APP_GREETING_PY = `import ansi
import fmt

BOARDS = [("ESP32", 520, 240), ("RP2040", 264, 133), ("STM32F405", 192, 168)]


def greet(name):
    lines = [fmt.heading("Hello, {}!".format(name))]
    lines.append(fmt.table([(ansi.colour(b, "green"), ram, mhz) for b, ram, mhz in BOARDS], header=("board", "KiB", "MHz")))
    lines.append("fmt {}".format(fmt.VERSION))
    return "\\n".join(lines)
`;

export interface Fixture {
  spec: SdistSpec;
  options?: SdistOptions;
}

export const FIXTURES: Fixture[] = [
  { spec: { name: "mpip-demo-ansi", version: "1.2.0", files: { "ansi.py": ANSI_PY } } },
  { spec: { name: "mpip-demo-fmt", version: "0.9", files: { "fmt.py": FMT_PY("0.9", false) } } },
  { spec: { name: "mpip-demo-fmt", version: "1.0", files: { "fmt.py": FMT_PY("1.0", true) }, requires: ["mpip-demo-ansi"] } },
  {
    spec: {
      name: "mpip-demo-app",
      version: "1.0.0",
      files: { "demo_app/__init__.py": APP_INIT_PY, "demo_app/greeting.py": APP_GREETING_PY },
      requires: ["mpip-demo-ansi", "mpip-demo-fmt>=1.0"],
    },
  },
];

/** Builds every fixture: file name (relative to fixtures/) => sdist bytes. */
export async function buildFixtures(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of FIXTURES) out.set(sdistFilename(f.spec), await buildSdist(f.spec, f.options));
  return out;
}
