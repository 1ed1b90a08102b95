// `mpip manifest`: a MicroPython `manifest.py` (the format of MicroPython's tools/manifestfile.py)
// that freezes an image as it is installed, so a firmware build takes it as `FROZEN_MANIFEST` without
// anything being copied into the port's tree. Every importable file of the image is named:
//   a top-level folder   `package("pkg", files=[...], base_path=IMAGE)`: its `.py` and `.mpy` files listed
//                        one by one (manifestfile freezes a listed `.mpy` as it is, and would otherwise
//                        pick up only `.py`), so exactly what is installed is frozen;
//   a top-level `.py`    `module("name.py", base_path=IMAGE)`;
//   a top-level `.mpy`   `freeze(IMAGE, "name.mpy")`: `module()` takes only `.py`.
// Where a `.py` and an `.mpy` of one module both exist, the `.py` is what MicroPython imports from a
// filesystem, so it is what is frozen. Other files (data, `.dist-info` records) cannot be frozen.
// Pure logic apart from the inventory it is given.

import { pyReprStr } from "../pack/r-py.js";
import { escapeControls } from "../text.js";
import type { Inventory } from "./inventory.js";

export interface ManifestPlan {
  /** `package()` calls: a top-level folder and its files relative to it. */
  packages: Array<{ name: string; files: string[] }>;
  /** `module()` calls: top-level `.py` files. */
  modules: string[];
  /** `freeze()` calls: top-level `.mpy` files. */
  frozenMpy: string[];
  /** Files left out: not `.py`/`.mpy` (data), links and special files, records, bytecode caches. */
  left: Array<{ path: string; reason: string }>;
}

const MODULE = /\.(py|mpy)$/i;

/** What to freeze of an inventory's files, and what not (with why). */
export function planManifest(inventory: Inventory): ManifestPlan {
  const plan: ManifestPlan = { packages: [], modules: [], frozenMpy: [], left: [] };
  const packages = new Map<string, string[]>();
  const present = new Set(inventory.files.keys());
  for (const file of [...inventory.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const segments = file.path.split("/");
    const top = segments[0]!;
    if (/\.(dist|egg)-info$/i.test(top)) continue; // the record: never frozen, never imported
    if (segments.includes("__pycache__")) {
      plan.left.push({ path: file.path, reason: "a bytecode cache of CPython" });
      continue;
    }
    // What a path is comes first: a link to a folder is no data file, whatever its name.
    if (file.kind !== "file") {
      plan.left.push({ path: file.path, reason: file.kind === "link" ? "a symbolic link" : "not a regular file" });
      continue;
    }
    if (!MODULE.test(file.path)) {
      plan.left.push({ path: file.path, reason: "not a .py or .mpy file: only modules are frozen (data files need R.py)" });
      continue;
    }
    if (/\.mpy$/i.test(file.path) && present.has(file.path.replace(/\.mpy$/i, ".py"))) {
      plan.left.push({ path: file.path, reason: "the .py beside it is what MicroPython imports, and is frozen instead" });
      continue;
    }
    if (segments.length === 1) {
      if (/\.py$/i.test(top)) plan.modules.push(top);
      else plan.frozenMpy.push(top);
      continue;
    }
    const files = packages.get(top) ?? [];
    files.push(segments.slice(1).join("/"));
    packages.set(top, files);
  }
  plan.packages = [...packages].map(([name, files]) => ({ name, files }));
  return plan;
}

export interface ManifestOptions {
  /** The image, absolute: every `base_path`. */
  basePath: string;
  /** Manifests to `include()` first (a board's own, usually `$(PORT_DIR)/boards/manifest.py`), as given. */
  includes: readonly string[];
  /** A comment line or two naming what made the file. */
  header: readonly string[];
}

/** The text of manifest.py for a plan. Every string is a Python literal (pyReprStr), whatever a file is named. */
export function renderManifest(plan: ManifestPlan, options: ManifestOptions): string {
  const base = pyReprStr(options.basePath);
  const lines = options.header.map((line) => `# ${escapeControls(line)}`);
  for (const include of options.includes) lines.push(`include(${pyReprStr(include)})`);
  for (const { name, files } of plan.packages) {
    lines.push(`package(${pyReprStr(name)}, files=[`, ...files.map((file) => `    ${pyReprStr(file)},`), `], base_path=${base})`);
  }
  for (const module of plan.modules) lines.push(`module(${pyReprStr(module)}, base_path=${base})`);
  for (const mpy of plan.frozenMpy) lines.push(`freeze(${base}, ${pyReprStr(mpy)})`);
  return `${lines.join("\n")}\n`;
}
