// Words written for a shell to read back (the commands mpip's hints offer): bash itself reads each one, and
// must get the word that was written, control characters and quotes included; the text shown holds no
// control character (output escapes those into text that would name another word).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import { shellWord, splitWords } from "../src/shell-words.js";

const WORDS = ["plain", "with space", "it's", "z\nx", "\u001b[31mred", "tab\there", "back\\slash", "dollar $HOME", "ünïcode ✓", "'", "a'\nb\\", "\u007f", "é\u200bz", "\u202eevil", "line\u2028sep", "\u0001\u200bq", ""];

describe("shellWord", () => {
  test("bash reads every word back as it was written", () => {
    for (const word of WORDS) {
      const written = shellWord(word);
      const read = execFileSync("bash", ["-c", `printf %s ${written}`], { encoding: "utf8" });
      assert.equal(read, word, `${JSON.stringify(word)} written as ${written}`);
    }
  });

  test("what it writes holds no control character, and plain words stay as they are", () => {
    for (const word of WORDS) {
      assert.doesNotMatch(shellWord(word), /[\u0000-\u001f\u007f]/, JSON.stringify(word));
    }
    assert.equal(shellWord("-p"), "-p");
    assert.equal(shellWord("https://host/x?a=1"), "'https://host/x?a=1'");
    assert.equal(shellWord("z\nx"), "$'z\\nx'");
  });

  test("splitWords (POSIX words, no $'...') reads back what shellWord writes in single quotes", () => {
    for (const word of WORDS.filter((w) => w !== "" && !shellWord(w).startsWith("$'"))) {
      assert.deepEqual(splitWords(shellWord(word)), [word], JSON.stringify(word));
    }
  });
});
