// The cache folder: MPIP_CACHE_DIR first, else each system's user cache folder.

import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { cacheDir } from "../src/cache-dir.js";

test("MPIP_CACHE_DIR wins (made absolute); else XDG_CACHE_HOME, ~/.cache, ~/Library/Caches or LOCALAPPDATA", () => {
  assert.equal(cacheDir({ MPIP_CACHE_DIR: "rel/cache", XDG_CACHE_HOME: "/xdg" }, "linux"), path.resolve("rel/cache"));
  assert.equal(cacheDir({ XDG_CACHE_HOME: "/xdg" }, "linux"), path.join("/xdg", "mpip"));
  assert.equal(cacheDir({ XDG_CACHE_HOME: "not/absolute" }, "linux"), path.join(os.homedir(), ".cache", "mpip"));
  assert.equal(cacheDir({}, "darwin"), path.join(os.homedir(), "Library", "Caches", "mpip"));
  assert.equal(cacheDir({ LOCALAPPDATA: "/appdata" }, "win32"), path.join("/appdata", "mpip", "Cache"));
});
