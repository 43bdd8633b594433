// POST /api/revalidate: job-prep invalidation events, from EventBridge's API destination in AWS
// or from `make dev`'s webhook locally (same request). Logic and answers: lib/revalidate.ts.
import { revalidateTag } from "next/cache";
import type { NextRequest } from "next/server";

import { createRevalidateHandler } from "../../../lib/revalidate";

const handle = createRevalidateHandler({
  // The value of the stack's RevalidateApiKeySecret (or DEV_WEBHOOK_API_KEY with `make dev`);
  // REVALIDATE_API_KEY_PREVIOUS keeps the old key valid while rotating.
  apiKeys: [process.env.REVALIDATE_API_KEY, process.env.REVALIDATE_API_KEY_PREVIOUS],
  // The data changed in the database: expire it now, so the next read (often the user who just
  // wrote it) waits for fresh data instead of being served the stale copy ("max" would).
  revalidateTag: (tag) => revalidateTag(tag, { expire: 0 }),
});

export async function POST(request: NextRequest): Promise<Response> {
  return handle(request);
}
