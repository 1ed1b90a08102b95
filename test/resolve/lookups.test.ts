// The look-ups of one resolution (src/resolve/lookups.ts), without a network: which look-ups made ahead
// a level takes, and which are ended (their signal aborted) because no level will take them.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LookAheadEnded, Lookups } from "../../src/resolve/lookups.js";
import type { ProjectListing } from "../../src/sources/types.js";
import { parseRequirement } from "../../src/spec/requirement.js";

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
    // Why each was ended: asked for in other words (what it warmed may still be the level's choice), or not at all.
    const reason = (words: string) => started.find((entry) => entry.words === words)!.signal!.reason as LookAheadEnded;
    assert.ok(reason("reworded") instanceof LookAheadEnded && reason("reworded").reworded);
    assert.ok(reason("folder") instanceof LookAheadEnded && !reason("folder").reworded);
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
    // During level 1: `next` for level 2; what next's document names for level 3 (`deep`, `unasked`, and
    // `early`, which level 2 asks for too), and what deep's names for level 4 (`far`).
    const next = lookups.lookAhead("next", req("next"))!;
    const deep = lookups.lookAhead("deep", req("deep"), next)!;
    lookups.lookAhead("unasked", req("unasked"), next);
    lookups.lookAhead("early", req("early"), next);
    lookups.lookAhead("far", req("far"), deep);
    assert.deepEqual([next.forLevel, deep.forLevel], [2, 3]);
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

  test("what a document fetched ahead names is ended with its look-up when no level takes that, down the chain; what a level already took stays", async () => {
    const { lookups, aborted } = recorded();
    lookups.beginLevel(new Set(["root"]));
    // Level 1 looks `a` up ahead (any version); a's document names b and c; b's names d. c is asked
    // for by level 2 too, and taken there.
    const a = lookups.lookAhead("a", req("a"))!;
    const b = lookups.lookAhead("b", req("b"), a)!;
    lookups.lookAhead("c", req("c"), a);
    lookups.lookAhead("d", req("d"), b);
    lookups.beginLevel(new Set(["a", "c"]));
    await lookups.listing("c", req("c"));
    // Level 2 asks for `a==1.0`: other words than the look-up ahead, which is ended, and with it what
    // its document named that no level has taken (b, and d below it), not c.
    await lookups.listing("a", req("a==1.0"));
    assert.deepEqual(aborted(), ["a", "b", "d"]);
    // Nothing more is started below an ended look-up.
    assert.equal(lookups.lookAhead("e", req("e"), b), undefined);
    lookups.endAll();
    assert.deepEqual(aborted(), ["a", "b", "d"]);
  });
});
