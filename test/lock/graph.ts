// The package graph the lock tests share, served by one real index server on 127.0.0.1: a PyPI JSON
// API with an sdist that requires another (published under a name spelled otherwise: `Helper_Lib`), and
// a micropython-lib v2 index (sources and .mpy 6) with a package of two files that requires another.

import { readdir } from "node:fs/promises";
import path from "node:path";
import { runMpip, snapshot } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";

export interface Graph {
  server: IndexServer;
  mip: MipIndex;
  /** `-i <v2 index> -i <PyPI JSON>`. */
  indexes: string[];
  /** What the tests ask for: an sdist with a dependency, and a v2 package with a dependency. */
  specs: string[];
}

export async function serveGraph(options: { mpy?: boolean } = {}): Promise<Graph> {
  const server = await startIndexServer();
  const mip = serveMipIndex(server);
  await server.addSdist({ name: "sensor-lib", version: "1.0", files: { "sensor_lib/__init__.py": "from helper_lib import scale\nREADING = scale(21)\n", "sensor_lib/data.txt": "calibration\n" }, requires: ["helper-lib>=1.0"] });
  await server.addSdist({ name: "Helper_Lib", version: "1.2", files: { "helper_lib/__init__.py": "def scale(x):\n    return 2 * x\n" } });
  await server.addSdist({ name: "unlisted-lib", version: "1.0", files: { "unlisted_lib.py": "U = 1\n" } });
  const mpy = options.mpy ?? false;
  await mip.publish({ name: "ticker", version: "1.0", files: { "ticker.py": "def tick():\n    return 1\n" }, mpy });
  await mip.publish({ name: "blinker", version: "0.3", files: { "blinker/__init__.py": "from ticker import tick\n", "blinker/led.py": "def on():\n    return True\n" }, deps: [["ticker", "latest"]], mpy });
  return { server, mip, indexes: ["-i", mip.base, "-i", server.url], specs: ["sensor-lib", "blinker"] };
}

/** The requests a locked install must never send: index metadata (JSON API pages, index.json, latest documents). */
export function metadataRequests(server: IndexServer): string[] {
  return server.requests.filter((request) => /\/json$|\/index\.json$|\/latest\.json$|\/simple\//.test(request));
}

/** Every file and folder below `dir` with a digest of each file, or {} when there is none. */
export function image(dir: string): Promise<Record<string, string>> {
  return snapshot(dir);
}

/** What mpip left beside the target (lock, staging, journal): nothing, after any run. */
export async function leftovers(parent: string): Promise<string[]> {
  return (await readdir(parent)).filter((name) => name.includes(".mpip-"));
}

export const lockAndInstall = {
  lock: (graph: Graph, lockFile: string, ...args: string[]) => runMpip(["lock", "-o", lockFile, ...graph.indexes, ...graph.specs, ...args]),
  install: (graph: Graph, target: string, ...args: string[]) => runMpip(["install", "-p", target, ...graph.indexes, ...graph.specs, ...args]),
  installLocked: (lockFile: string, target: string, ...args: string[]) => runMpip(["install", "--lock", lockFile, "-p", target, ...args]),
};

export const join = path.join;
