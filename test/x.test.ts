import { test, describe } from "node:test";
describe("suite", () => {
  test("fast", async () => {});
  test("slow one", async () => { await new Promise(r => setTimeout(r, 3000)); });
  test("after", async () => {});
});
