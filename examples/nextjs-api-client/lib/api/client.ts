// The job-prep API as a typed client: openapi-fetch over the types openapi-typescript generates
// from the repository's openapi.json (lib/api/schema.d.ts, `npm run generate`). Every path,
// parameter, body and response is checked by tsc, so a breaking change to the API fails the build.
import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema";

export type ApiClient = Client<paths>;
export type Schemas = components["schemas"];

/**
 * The signed-in user's token for the API, or null when nobody is signed in. In the web app this is
 * Clerk's `(await auth()).getToken({ template })`: the JWT template puts the audience the API's
 * authorizer expects into the token.
 */
export type TokenGetter = () => Promise<string | null>;

/** Thrown before any request is sent when there is no signed-in user. */
export class SignedOut extends Error {
  constructor() {
    super("no signed-in user: no token for the job-prep API");
    this.name = "SignedOut";
  }
}

export interface ApiClientOptions {
  /** The API's base URL: the stack's ApiUrl output, or http://127.0.0.1:3001 with `make dev`. */
  baseUrl: string;
  getToken: TokenGetter;
  /** For tests: the fetch every request goes through. */
  fetch?: typeof globalThis.fetch;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    // Per-user data behind a short-lived token: never served from Next's data cache.
    cache: "no-store",
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  // One place for the token, so a route added later needs nothing but its types.
  client.use({
    async onRequest({ request }) {
      const token = await options.getToken();
      if (!token) {
        throw new SignedOut();
      }
      request.headers.set("authorization", `Bearer ${token}`);
      return request;
    },
  });
  return client;
}
