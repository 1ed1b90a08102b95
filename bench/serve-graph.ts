// Serves the 21-package graph of bench/cpu-path.ts (PyPI JSON, no delay) until killed, and prints its URL
// and roots, so that one can run mpip by hand against it (under strace, --cpu-prof, ...).
//
//   node --import tsx bench/serve-graph.ts [--big N]
import { startIndexServer } from "../test/helpers/index-server.js";
import { publishGraph } from "./cpu-path-graph.js";

const at = process.argv.indexOf("--big");
const server = await startIndexServer();
const roots = at === -1 ? await publishGraph(server, "small", [1, 4, 8, 8]) : await publishGraph(server, "big", Array.from({ length: Math.ceil(Number(process.argv[at + 1]) / 25) }, () => 25));
console.log(`${server.url} ${roots.join(" ")}`);
