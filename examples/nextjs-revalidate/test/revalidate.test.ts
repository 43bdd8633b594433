// The route's logic, driven with real Request objects as Next.js passes them.
// Run: npm test (compiles to build/ first: Node 20 cannot strip TypeScript types).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  API_KEY_HEADER,
  MAX_BODY_BYTES,
  SeenEvents,
  createRevalidateHandler,
  keyMatches,
  type RevalidateOptions,
} from "../lib/revalidate";

const KEY = "k".repeat(64);
const URL_ = "http://localhost:3001/api/revalidate";

// What EventBridge sends (template.yaml, RevalidateRule): minified JSON and these headers.
function delivery(body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(URL_, {
    method: "POST",
    headers: {
      "content-type": "application/json; charset=utf-8",
      "user-agent": "Amazon/EventBridge/ApiDestinations",
      [API_KEY_HEADER]: KEY,
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function setup(overrides: Partial<RevalidateOptions> = {}) {
  const revalidated: string[] = [];
  const logs: string[] = [];
  let clock = 1_000_000;
  const handle = createRevalidateHandler({
    apiKeys: [KEY],
    revalidateTag: (tag) => revalidated.push(tag),
    now: () => clock,
    log: (message) => logs.push(message),
    ...overrides,
  });
  return {
    handle,
    revalidated,
    logs,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const updated = {
  eventId: "0b7a5c1e-7d51-4f7e-9a43-2f1f8d2c9b10",
  detailType: "JobInfoUpdated",
  tags: ["global:jobInfos", "user:alice:jobInfos", "id:42:jobInfos"],
};

describe("revalidate route", () => {
  it("revalidates every tag of a valid event and answers 204 with no body", async () => {
    const { handle, revalidated } = setup();
    const response = await handle(delivery(updated));
    assert.equal(response.status, 204);
    assert.equal(await response.text(), "");
    assert.deepEqual(revalidated, updated.tags);
  });

  it("revalidates a tag listed twice once", async () => {
    const { handle, revalidated } = setup();
    const response = await handle(delivery({ ...updated, tags: ["a", "b", "a"] }));
    assert.equal(response.status, 204);
    assert.deepEqual(revalidated, ["a", "b"]);
  });

  it("accepts an event with no tags", async () => {
    const { handle, revalidated } = setup();
    assert.equal((await handle(delivery({ ...updated, tags: [] }))).status, 204);
    assert.deepEqual(revalidated, []);
  });

  it("rejects a wrong or missing key with 401 and revalidates nothing", async () => {
    const { handle, revalidated, logs } = setup();
    for (const headers of [{ [API_KEY_HEADER]: "wrong" }, { [API_KEY_HEADER]: KEY.slice(1) }, { [API_KEY_HEADER]: "" }]) {
      const response = await handle(delivery(updated, headers));
      assert.equal(response.status, 401);
      assert.deepEqual(await response.json(), { message: "unauthorized" });
    }
    const noHeader = new Request(URL_, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(updated),
    });
    assert.equal((await handle(noHeader)).status, 401);
    assert.deepEqual(revalidated, []);
    assert.equal(logs.length, 4);
  });

  it("accepts the previous key during a rotation", async () => {
    const { handle, revalidated } = setup({ apiKeys: ["new-key", undefined, KEY] });
    assert.equal((await handle(delivery(updated))).status, 204);
    assert.equal((await handle(delivery({ ...updated, eventId: "e2" }, { [API_KEY_HEADER]: "new-key" }))).status, 204);
    assert.equal(revalidated.length, 6);
  });

  it("answers 503 (retried by EventBridge) while no key is configured", async () => {
    const { handle, revalidated } = setup({ apiKeys: [undefined, ""] });
    const response = await handle(delivery(updated, { [API_KEY_HEADER]: "" }));
    assert.equal(response.status, 503);
    assert.deepEqual(revalidated, []);
  });

  it("de-duplicates on eventId until the entry expires", async () => {
    const { handle, revalidated, advance } = setup({ dedupeTtlMs: 60_000 });
    assert.equal((await handle(delivery(updated))).status, 204);
    // a redelivery (EventBridge retry or outbox re-publish) keeps its eventId
    const again = await handle(delivery({ ...updated, tags: ["something:else"] }));
    assert.equal(again.status, 204);
    assert.deepEqual(revalidated, updated.tags);
    advance(60_000);
    assert.equal((await handle(delivery(updated))).status, 204);
    assert.deepEqual(revalidated, [...updated.tags, ...updated.tags]);
  });

  it("revalidates distinct events with the same tags", async () => {
    const { handle, revalidated } = setup();
    await handle(delivery(updated));
    await handle(delivery({ ...updated, eventId: "another" }));
    assert.deepEqual(revalidated, [...updated.tags, ...updated.tags]);
  });

  for (const [name, body, status] of [
    ["not JSON", "{nope", 400],
    ["a JSON array", [updated], 400],
    ["JSON null", "null", 400],
    ["no eventId", { detailType: "JobInfoCreated", tags: ["a"] }, 400],
    ["an empty eventId", { ...updated, eventId: "" }, 400],
    ["a numeric eventId", { ...updated, eventId: 7 }, 400],
    ["no detailType", { eventId: "e", tags: ["a"] }, 400],
    ["tags not an array", { ...updated, tags: "global:jobInfos" }, 400],
    ["a tag that is not a string", { ...updated, tags: ["a", 1] }, 400],
    ["an empty tag", { ...updated, tags: [""] }, 400],
    ["a tag longer than Next.js accepts", { ...updated, tags: ["t".repeat(257)] }, 400],
    ["the whole EventBridge event instead of the transformed body", { "detail-type": "X", detail: updated }, 400],
  ] as const) {
    it(`rejects ${name} with ${status} and revalidates nothing`, async () => {
      const { handle, revalidated } = setup();
      const response = await handle(delivery(body));
      assert.equal(response.status, status);
      assert.equal(typeof (await response.json()).message, "string");
      assert.deepEqual(revalidated, []);
    });
  }

  it("rejects a body that is not application/json with 415", async () => {
    const { handle, revalidated } = setup();
    const response = await handle(delivery(updated, { "content-type": "text/plain" }));
    assert.equal(response.status, 415);
    assert.deepEqual(revalidated, []);
  });

  it("rejects a body over the size limit with 413", async () => {
    const { handle, revalidated } = setup();
    const huge = { ...updated, tags: Array.from({ length: MAX_BODY_BYTES / 64 }, (_, i) => `tag:${i}:${"x".repeat(60)}`) };
    const response = await handle(delivery(huge));
    assert.equal(response.status, 413);
    assert.deepEqual(revalidated, []);
  });

  it("answers 500 when revalidateTag throws and does not remember the eventId", async () => {
    let fail = true;
    const revalidated: string[] = [];
    const { handle } = setup({
      revalidateTag: (tag) => {
        if (fail) throw new Error("cache handler down");
        revalidated.push(tag);
      },
    });
    assert.equal((await handle(delivery(updated))).status, 500);
    fail = false;
    // EventBridge retries the 500: the retry revalidates
    assert.equal((await handle(delivery(updated))).status, 204);
    assert.deepEqual(revalidated, updated.tags);
  });
});

describe("SeenEvents", () => {
  it("forgets the oldest entries beyond its size bound", () => {
    const seen = new SeenEvents(60_000, 3);
    for (const id of ["a", "b", "c", "d"]) seen.add(id, 0);
    assert.equal(seen.size, 3);
    assert.equal(seen.has("a", 0), false);
    assert.equal(seen.has("d", 0), true);
  });

  it("drops expired entries", () => {
    const seen = new SeenEvents(10, 100);
    seen.add("a", 0);
    seen.add("b", 5);
    assert.equal(seen.has("a", 10), false);
    assert.equal(seen.has("b", 10), true);
    assert.equal(seen.size, 1);
  });
});

describe("keyMatches", () => {
  it("matches only an exact accepted key", () => {
    assert.equal(keyMatches("secret", ["other", "secret"]), true);
    assert.equal(keyMatches("secret ", ["secret"]), false);
    assert.equal(keyMatches("", ["secret"]), false);
    assert.equal(keyMatches("secret", []), false);
  });
});
