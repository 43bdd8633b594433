// The revalidate route's logic, free of Next.js so that `node --test` can drive it:
// app/api/revalidate/route.ts wires it to next/cache and the environment.
//
// The request is the one EventBridge's API destination sends (template.yaml, RevalidateRule):
//   POST, content-type application/json; charset=utf-8, x-revalidate-key: <secret>,
//   body {"eventId": "...", "detailType": "JobInfoUpdated", "tags": ["global:jobInfos", ...]}
// Answers, chosen for EventBridge's retry rules (429 and 5xx are retried, other 4xx are not):
//   204 revalidated, or a duplicate eventId (already done);
//   401 wrong or missing key; 400/413/415 a request that retrying cannot fix;
//   503 no key configured on this side (retried, so fixing the config in time loses nothing);
//   500 revalidateTag threw (retried; the eventId is not remembered).
import { createHash, timingSafeEqual } from "node:crypto";

export const API_KEY_HEADER = "x-revalidate-key";
// EventBridge events are at most 256 KB, so a transformed body is smaller still.
export const MAX_BODY_BYTES = 256 * 1024;
// Next.js ignores tags longer than 256 characters.
export const MAX_TAG_LENGTH = 256;

export interface InvalidationEvent {
  eventId: string;
  detailType: string;
  tags: string[];
}

export interface RevalidateOptions {
  /** Accepted keys: the current one, plus the previous one while rotating. Empty entries are ignored. */
  apiKeys: readonly (string | undefined)[];
  /** Called once per tag of each new event. */
  revalidateTag: (tag: string) => void;
  /** Milliseconds clock, for tests. */
  now?: () => number;
  /** How long an eventId is remembered. EventBridge retries for up to 24 hours. */
  dedupeTtlMs?: number;
  /** Most eventIds remembered at once; the oldest are forgotten first. */
  dedupeMaxEntries?: number;
  /** Where rejected requests are reported. */
  log?: (message: string) => void;
}

/**
 * eventIds seen recently, bounded in time and size. Insertion order is expiry order (one TTL for
 * all), so expired entries are always at the front of the Map.
 *
 * This lives in one server instance's memory. With several instances (serverless functions,
 * replicas) a duplicate can reach another instance: use a shared store there, e.g. Redis
 * `SET eventId 1 NX EX 86400`. A missed duplicate only costs a second revalidation, never
 * correctness, because revalidating a tag is idempotent.
 */
export class SeenEvents {
  private readonly expiresAt = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  has(eventId: string, now: number): boolean {
    this.evictExpired(now);
    return this.expiresAt.has(eventId);
  }

  add(eventId: string, now: number): void {
    this.evictExpired(now);
    this.expiresAt.delete(eventId);
    this.expiresAt.set(eventId, now + this.ttlMs);
    while (this.expiresAt.size > this.maxEntries) {
      const oldest = this.expiresAt.keys().next().value as string;
      this.expiresAt.delete(oldest);
    }
  }

  get size(): number {
    return this.expiresAt.size;
  }

  private evictExpired(now: number): void {
    for (const [eventId, expiry] of this.expiresAt) {
      if (expiry > now) {
        return;
      }
      this.expiresAt.delete(eventId);
    }
  }
}

// Hashing first makes both sides the same length, so the comparison time says nothing about
// the key, not even its length.
function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

export function keyMatches(presented: string, accepted: readonly string[]): boolean {
  const presentedDigest = digest(presented);
  let matched = false;
  for (const key of accepted) {
    // no short-circuit: every accepted key is compared
    matched = timingSafeEqual(presentedDigest, digest(key)) || matched;
  }
  return matched;
}

/** The body as an InvalidationEvent, or a reason it is not one. */
export function parseEvent(body: unknown): InvalidationEvent | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return "body must be a JSON object";
  }
  const { eventId, detailType, tags } = body as Record<string, unknown>;
  if (typeof eventId !== "string" || eventId.length === 0 || eventId.length > 128) {
    return "eventId must be a non-empty string";
  }
  if (typeof detailType !== "string" || detailType.length === 0 || detailType.length > 128) {
    return "detailType must be a non-empty string";
  }
  if (!Array.isArray(tags)) {
    return "tags must be an array";
  }
  for (const tag of tags) {
    if (typeof tag !== "string" || tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
      return `each tag must be a string of 1 to ${MAX_TAG_LENGTH} characters`;
    }
  }
  return { eventId, detailType, tags: tags as string[] };
}

function problem(status: number, message: string): Response {
  return Response.json({ message }, { status });
}

function isJson(contentType: string | null): boolean {
  return contentType?.split(";", 1)[0]?.trim().toLowerCase() === "application/json";
}

export function createRevalidateHandler(options: RevalidateOptions): (request: Request) => Promise<Response> {
  const apiKeys = options.apiKeys.filter((key): key is string => typeof key === "string" && key.length > 0);
  const now = options.now ?? Date.now;
  const log = options.log ?? ((message: string) => console.warn(`[revalidate] ${message}`));
  const seen = new SeenEvents(options.dedupeTtlMs ?? 24 * 60 * 60 * 1000, options.dedupeMaxEntries ?? 10_000);

  return async function handle(request: Request): Promise<Response> {
    if (apiKeys.length === 0) {
      log("no API key configured (REVALIDATE_API_KEY): refusing every request");
      return problem(503, "revalidation is not configured");
    }
    if (!keyMatches(request.headers.get(API_KEY_HEADER) ?? "", apiKeys)) {
      log("wrong or missing API key");
      return problem(401, "unauthorized");
    }
    if (!isJson(request.headers.get("content-type"))) {
      return problem(415, "content-type must be application/json");
    }
    const declaredLength = Number(request.headers.get("content-length") ?? "0");
    if (declaredLength > MAX_BODY_BYTES) {
      return problem(413, "body too large");
    }
    const text = await request.text();
    if (Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES) {
      return problem(413, "body too large");
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return problem(400, "body is not JSON");
    }
    const event = parseEvent(body);
    if (typeof event === "string") {
      log(`rejected body: ${event}`);
      return problem(400, event);
    }
    // No await between this check and seen.add: a concurrent duplicate cannot slip in between.
    if (seen.has(event.eventId, now())) {
      return new Response(null, { status: 204 });
    }
    try {
      for (const tag of new Set(event.tags)) {
        options.revalidateTag(tag);
      }
    } catch (error) {
      log(`revalidateTag failed for ${event.eventId}: ${String(error)}`);
      return problem(500, "revalidation failed");
    }
    seen.add(event.eventId, now());
    return new Response(null, { status: 204 });
  };
}
