// `npm run demo`: mpip's main job, offline, on the example packages in fixtures/: install an app with
// its dependencies into a folder, show what was installed, and run it in real MicroPython.

import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { listFiles } from "../test/helpers/cli.js";
import { runMicroPython } from "../test/helpers/micropython.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const image = path.join(root, "demo-image");
const args = ["install", "--no-index", "--find-links", "fixtures", "--target", "demo-image", "mpip-demo-app"];

await rm(image, { recursive: true, force: true });
console.log(`$ mpip ${args.join(" ")}`);
execFileSync(process.execPath, [path.join(root, "bin", "mpip.js"), ...args], { cwd: root, stdio: "inherit" });

console.log("\nInstalled files (copy this folder to a device's /lib):");
for (const file of await listFiles(image)) console.log(`  demo-image/${file}`);

console.log("\nRunning `import demo_app; demo_app.main()` in MicroPython 1.27 (WebAssembly):\n");
const run = await runMicroPython("import demo_app\ndemo_app.main()", { libDir: image });
process.stdout.write(run.stdout);
if (run.error !== undefined) {
  console.error(run.error);
  process.exitCode = 1;
}
