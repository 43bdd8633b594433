// What a server action hands back: the original app's `{ error: true, message }` on failure, the
// API's data on success. The API's error bodies map onto the messages the original app's pages
// already understand (its errorToast shows an upgrade button for PLAN_LIMIT and "Woah! Slow down."
// for RATE_LIMIT).
import { SignedOut, type Schemas } from "./client";

export type ActionFailure = {
  error: true;
  message: string;
  /** The API's HTTP status (0 when it could not be reached), e.g. to call notFound() on 404. */
  status: number;
};
export type ActionResult<T> = { error: false; data: T } | ActionFailure;

export const PLAN_LIMIT_MESSAGE = "PLAN_LIMIT";
export const RATE_LIMIT_MESSAGE = "RATE_LIMIT";
export const NO_PERMISSION_MESSAGE = "You don't have permission to do this";
export const INVALID_DATA_MESSAGE = "Invalid data";
export const UNAVAILABLE_MESSAGE = "The service is unavailable, please try again shortly";
export const UNEXPECTED_MESSAGE = "Something went wrong, please try again";

function isErrorBody(body: unknown): body is Schemas["ErrorBody"] {
  const candidate = body as Partial<Schemas["ErrorBody"]> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.statusCode === "number" &&
    typeof candidate.code === "string" &&
    typeof candidate.message === "string"
  );
}

/** The failure for an error response; `body` is whatever the API (or API Gateway) sent. */
export function toFailure(status: number, body: unknown, invalidMessage = INVALID_DATA_MESSAGE): ActionFailure {
  const ours = isErrorBody(body) ? body : undefined;
  const fail = (message: string): ActionFailure => ({ error: true, message, status });
  // No token, an expired one, a missing row, another user's row and a path no route matches:
  // the API gives one answer for "not yours" and "not there", and so does the original app.
  if (status === 401 || status === 404) return fail(NO_PERMISSION_MESSAGE);
  if (ours?.code === "PLAN_LIMIT") return fail(PLAN_LIMIT_MESSAGE);
  // Our RATE_LIMIT (with Retry-After) or API Gateway's own throttling: "slow down" either way.
  if (status === 429) return fail(RATE_LIMIT_MESSAGE);
  if (status === 422) return fail(invalidMessage);
  if (status === 503) return fail(UNAVAILABLE_MESSAGE);
  // 409, 412 and codes added later: the API's own words ("Interview has not been completed yet").
  if (status < 500 && ours !== undefined) return fail(ours.message);
  return fail(UNEXPECTED_MESSAGE); // a 5xx or an undeclared answer: nothing of it reaches the user
}

/** What every openapi-fetch call resolves to. */
interface Outcome<T, E> {
  data?: T;
  error?: E;
  response: Response;
}

/**
 * One API call as an action result. A route added later is `call(api.VERB("/path", init))`: its
 * types come from the regenerated schema, its failures from the mapping above.
 */
export async function call<T, E>(request: Promise<Outcome<T, E>>, invalidMessage?: string): Promise<ActionResult<T>> {
  let outcome: Outcome<T, E>;
  try {
    outcome = await request;
  } catch (error) {
    if (error instanceof SignedOut) return { error: true, message: NO_PERMISSION_MESSAGE, status: 401 };
    if (error instanceof TypeError) return { error: true, message: UNAVAILABLE_MESSAGE, status: 0 }; // fetch failed
    throw error;
  }
  const { data, error, response } = outcome;
  if (!response.ok) return toFailure(response.status, error, invalidMessage);
  return { error: false, data: data as T };
}
