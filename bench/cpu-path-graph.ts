// The package graphs of bench/cpu-path.ts, published on a PyPI JSON index server of test/helpers.
import type { IndexServer } from "../test/helpers/index-server.js";

/** A few KiB of plain Python, as a small MicroPython library carries. */
const body = (name: string) => `# ${name}\n` + Array.from({ length: 80 }, (_, i) => `def f${i}(x):\n    return x * ${i} + ${name.length}\n`).join("");

/**
 * Publishes a layered graph: `widths[level]` packages per level, each package of a level requiring its
 * share of the next (so every package is reached); returns the roots.
 */
export async function publishGraph(server: IndexServer, prefix: string, widths: number[]): Promise<string[]> {
  const names = widths.map((width, level) => Array.from({ length: width }, (_, i) => `${prefix}-l${level}-p${i}`));
  for (let level = 0; level < widths.length; level++) {
    for (let i = 0; i < widths[level]!; i++) {
      const name = names[level]![i]!;
      const next = names[level + 1] ?? [];
      // Its share of the next level, and a neighbour's when the next level is no wider (a graph, not trees).
      const share = next.filter((_, j) => j % widths[level]! === i);
      if (next.length > 0 && next.length <= widths[level]!) share.push(next[(i + 1) % next.length]!);
      const requires = [...new Set(share)];
      await server.addSdist({ name, version: "1.0", files: { [`${name.replace(/-/g, "_")}/__init__.py`]: body(name), [`${name.replace(/-/g, "_")}/util.py`]: body(`${name}.util`) }, requires });
    }
  }
  return names[0]!;
}

