// The output boundary as a unit: the Reporter and the renderers escape every string they are given,
// keep each line one line, and write no escape sequence but mpip's own styles and progress controls.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { colorWanted, Reporter } from "../../src/log.js";
import { jsonDocument, jsonFailure, renderError } from "../../src/render.js";
import { escapeControls, plainText, renderText, styled } from "../../src/text.js";

/** Every kind of character that can act on a terminal, one per member of the class. */
const CONTROLS: Array<[string, string]> = [
  ["erase display (CSI)", "\x1b[2J"],
  ["window title (OSC, BEL)", "\x1b]0;title\x07"],
  ["window title (OSC, ST)", "\x1b]2;title\x1b\\"],
  ["carriage return", "ok\rforged"],
  ["C1 CSI", "\x9b31m"],
  ["C1 OSC", "\x9d0;t\x9c"],
  ["DEL", "a\x7fb"],
  ["right-to-left override", "abc\u202edef"],
  ["isolate", "\u2066x\u2069"],
  ["line separator", "a\u2028b"],
  ["lone high surrogate", "a\ud800b"],
  ["lone low surrogate", "a\udc00b"],
  ["newline forging a line", "name\nerror: forged"],
];

const OWN_SGR = /\x1b\[(?:1|2|22|31|32|33|36|39)m/g;
const RAW = /[\0-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A stream that records what is written, as a terminal (isTTY) or not. */
function captureStream(isTTY: boolean): NodeJS.WriteStream & { text(): string } {
  let written = "";
  const stream = {
    isTTY,
    columns: 60,
    write(chunk: string) {
      written += chunk;
      return true;
    },
    text: () => written,
  };
  return stream as unknown as NodeJS.WriteStream & { text(): string };
}

function assertOnlyOwnControls(text: string, label: string): void {
  const found = RAW.exec(text.replace(OWN_SGR, "").replace(/\r\x1b\[2K/g, "").replace(/\n/g, ""));
  assert.equal(found, null, `${label}: raw ${JSON.stringify(found?.[0])} in ${JSON.stringify(text)}`);
}

describe("escapeControls and renderText", () => {
  for (const [kind, text] of CONTROLS) {
    test(`escapes ${kind}, leaving the text visible`, () => {
      const escaped = escapeControls(text);
      assert.equal(RAW.exec(escaped), null, JSON.stringify(escaped));
      assert.match(escaped, /\\(x[0-9a-f]{2}|u\{[0-9a-f]+\})/);
      assert.equal(escapeControls(escaped), escaped, "escaping twice changes nothing");
      for (const color of [true, false]) assertOnlyOwnControls(renderText(["before ", styled("bold", text), " after"], color), kind);
    });
  }

  test("keeps printable text as it is: accents, CJK, emoji (surrogate pairs), quotes and backslashes", () => {
    const text = "é 中文 😀 `x` \\ \"q\"";
    assert.equal(escapeControls(text), text);
  });

  test("styles only with colour, and only around the styled piece", () => {
    assert.equal(renderText(["a ", styled("bold", "b"), " c"], true), "a \x1b[1mb\x1b[22m c");
    assert.equal(renderText(["a ", styled("bold", "b"), " c"], false), "a b c");
    assert.equal(plainText(["v", styled("red", ["1", styled("bold", "\x1b")])]), "v1\x1b");
  });

  test("a styled piece pasted into a template string throws instead of losing its escaping", () => {
    assert.throws(() => `${styled("bold", "x") as unknown as string}`, /pass it to the Reporter as Text/);
  });
});

describe("Reporter", () => {
  for (const color of [false, true]) {
    test(`every way of writing escapes its text (colour ${color})`, () => {
      const stream = captureStream(false);
      const reporter = new Reporter({ stream, color, verbosity: "verbose" });
      for (const [, text] of CONTROLS) {
        reporter.info(text, ["x", styled("green", text)]);
        reporter.detail(text);
        reporter.warn(text);
        reporter.write(text);
      }
      assertOnlyOwnControls(stream.text(), "reporter");
      // Each call's lines are the only lines: no text added one.
      assert.equal(stream.text().split("\n").length - 1, CONTROLS.length * 5);
      assert.doesNotMatch(stream.text(), /^error: forged/m);
      assert.deepEqual(reporter.warnings, CONTROLS.map(([, text]) => text), "warnings keep the exact text for --json");
    });
  }

  test("the progress line escapes its text, cuts it to the terminal width after escaping, and clears it before a line", () => {
    const stream = captureStream(true);
    const reporter = new Reporter({ stream, color: true, verbosity: "normal" });
    reporter.progress(`Compiling with ${"\x1b[2J".repeat(20)}`);
    reporter.info("done");
    const text = stream.text();
    assert.ok(text.startsWith("\r\x1b[2K\x1b[36mCompiling with \\x1b[2J"), JSON.stringify(text));
    const shown = /\x1b\[36m(.*?)\x1b\[39m/.exec(text)![1]!;
    assert.equal(shown.length, 59);
    assert.ok(text.endsWith("\r\x1b[2Kdone\n"), JSON.stringify(text));
    assertOnlyOwnControls(text, "progress");
  });

  test("no progress is drawn when the stream is not a terminal", () => {
    const stream = captureStream(false);
    new Reporter({ stream, color: true }).progress("Resolving");
    assert.equal(stream.text(), "");
  });
});

describe("colorWanted", () => {
  test("FORCE_COLOR as Node reads it: empty, 1, true, 2, 3 force colour on; 0, false or anything else force it off, on a terminal too; NO_COLOR wins", () => {
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    for (const value of ["", "1", "true", "2", "3"]) {
      assert.equal(colorWanted(pipe, { FORCE_COLOR: value }), true, value);
      assert.equal(colorWanted(tty, { FORCE_COLOR: value, NO_COLOR: "1" }), false, value);
    }
    for (const value of ["0", "false", "no", "off"]) assert.equal(colorWanted(tty, { FORCE_COLOR: value }), false, value);
    assert.equal(colorWanted(tty, {}), true);
    assert.equal(colorWanted(tty, { TERM: "dumb" }), false);
    assert.equal(colorWanted(pipe, {}), false);
    assert.equal(colorWanted(tty, { NO_COLOR: "" }), true);
  });
});

describe("renderError", () => {
  const reporterText = (error: unknown, debug = false) => {
    const stream = captureStream(false);
    new Reporter({ stream, color: true }).write(...renderError(error, debug));
    return stream.text();
  };

  for (const [kind, text] of CONTROLS) {
    test(`escapes ${kind} in the message, each cause and the hint`, () => {
      const library = new Error(`library says ${text}`, { cause: new Error(`deeper ${text}`) });
      const error = new MpipError("network", `failed on \`${text}\``, { cause: library, hint: `try \`${text}\`` });
      for (const debug of [false, true]) {
        const output = reporterText(error, debug);
        assertOnlyOwnControls(output, kind);
        assert.doesNotMatch(output, /^error: forged/m);
        assert.equal(output.match(/caused by/g)?.length, 2);
      }
      const bug = reporterText(new TypeError(`boom ${text}`));
      assertOnlyOwnControls(bug, `${kind} (a bug)`);
      assert.doesNotMatch(bug, /^error: forged/m);
    });
  }

  test("a library's cause that quotes megabytes of its input is cut, saying how long it was", () => {
    const library = new Error(`Invalid TOML document\n\n2: x = "${"A".repeat(5_000_000)}\n   ^`);
    const output = reporterText(new MpipError("bad-lock", "`pylock.toml` is not valid TOML", { cause: library })).replace(OWN_SGR, "");
    assert.ok(output.length < 2000, `${output.length} characters`);
    assert.match(output, /caused by: Invalid TOML document\\x0a\\x0a2: x = "A+… \(cut: 5000\d{3} characters in all\)$/m);
  });

  test("a hint given as lines keeps them as lines, each escaped", () => {
    const error = new MpipError("bad-project", "no metadata", { hint: ["a minimal one:", "", "[project]", "name = \"x\x1b[2J\""] });
    const output = reporterText(error).replace(OWN_SGR, "");
    assert.match(output, /^hint: a minimal one:\n\n\[project\]\nname = "x\\x1b\[2J"\n$/m);
    assert.equal(error.hint, "a minimal one:\n\n[project]\nname = \"x\x1b[2J\"");
  });
});

describe("JSON documents", () => {
  test("escape DEL, C1, direction overrides and lone surrogates, and parse back to the same values", () => {
    const value = { texts: CONTROLS.map(([, text]) => text) };
    const json = jsonDocument(value);
    assert.equal(RAW.exec(json.replace(/\n/g, "")), null, json);
    assert.deepEqual(JSON.parse(json), value);
    const failure = jsonFailure(new MpipError("usage", "\x9b2J", { hint: "\u202e" }));
    assert.equal(RAW.exec(failure.replace(/\n/g, "")), null);
    assert.deepEqual(JSON.parse(failure), { ok: false, error: { code: "usage", message: "\x9b2J", hint: "\u202e" } });
  });
});
