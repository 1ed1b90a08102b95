// The look-ups of one resolution (src/resolve/lookups.ts), without a network: which look-ups made ahead
// a level takes, and which are ended (their signal aborted) because no level will take them.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Lookups } from "../../src/resolve/lookups.ts";
import type { ProjectListing } from "../../src/sources/types.ts";
import { parseRequirement } from "../../src/spec/requirement.ts";

/** Lookups whose look-ups are recorded: what was asked, with the signal each was given. */
function recorded() {
  const started: Array<{ words: string; signal: AbortSignal | undefined }> = [];
  const lookups = new Lookups(async (requirement, signal) => {
    started.push({ words: requirement.text, signal });
    return { name: requirement.name, source: "test", releases: new Map() } satisfies ProjectListing;
  });
  const aborted = () => started.filter((entry) => entry.signal?.aborted === true).map((entry) => entry.words);
  return { lookups, started, aborted };
}

const req = (text: string) => parseRequirement(text);

describe("look-ups made ahead", () => {
  test("a level takes those for its names in the same words; the others are ended when it begins, when it asks in other words, and when it ends", async () => {
    const { lookups, started, aborted } = recorded();
    lookups.beginLevel(new Set(["root"]));
    // During level 1, for level 2: three names.
    lookups.lookAhead("kept", req("kept"));
    lookups.lookAhead("folder", req("folder"));
    lookups.lookAhead("reworded", req("reworded"));
    lookups.lookAhead("installed", req("installed"));
    // Level 2 asks for kept, reworded and installed, not folder (a project folder answered it).
    lookups.beginLevel(new Set(["kept", "reworded", "installed"]));
    assert.deepEqual(aborted(), ["folder"]);
    await lookups.listing("kept", req("kept"));
    await lookups.listing("reworded", req("reworded>=2"));
    assert.deepEqual(aborted(), ["folder", "reworded"]);
    assert.deepEqual(started.map((entry) => entry.words), ["kept", "folder", "reworded", "installed", "reworded>=2"]);
    // During level 2, for level 3.
    lookups.lookAhead("next", req("next"));
    // installed was never asked for (the target holds it): ended with the level; next is kept for level 3.
    lookups.endLevel();
    assert.deepEqual(aborted(), ["folder", "reworded", "installed"]);
    // The resolution ends (or fails): whatever is left is ended.
    lookups.endAll();
    assert.deepEqual(aborted(), ["folder", "reworded", "installed", "next"]);
  });

  test("a look-up meant for a level further down outlives the levels before it: taken by a level that asks for it, ended by its own level's end or the resolution's", async () => {
    const { lookups, aborted } = recorded();
    lookups.beginLevel(new Set(["root"]));
    // During level 1: `next` for level 2; `deep` and `deeper` for level 3 (named by a document fetched
    // ahead), and `early` for level 3 too, though level 2 will ask for it.
    lookups.lookAhead("next", req("next"));
    lookups.lookAhead("deep", req("deep"), 2);
    lookups.lookAhead("unasked", req("unasked"), 2);
    lookups.lookAhead("early", req("early"), 2);
    lookups.lookAhead("far", req("far"), 3);
    // Level 2 asks for next and early only: the look-ups meant for later levels are kept.
    lookups.beginLevel(new Set(["next", "early"]));
    assert.deepEqual(aborted(), []);
    await lookups.listing("next", req("next"));
    await lookups.listing("early", req("early"));
    lookups.endLevel();
    assert.deepEqual(aborted(), []);
    // Level 3 asks for deep, not unasked: unasked is ended as the level begins, far (level 4) is kept.
    lookups.beginLevel(new Set(["deep"]));
    assert.deepEqual(aborted(), ["unasked"]);
    await lookups.listing("deep", req("deep"));
    lookups.endLevel();
    assert.deepEqual(aborted(), ["unasked"]);
    lookups.endAll();
    assert.deepEqual(aborted(), ["unasked", "far"]);
  });
});
