// The actions without a server: what they send, and how they answer the responses the dev server
// cannot produce on demand (API Gateway's throttling and 503, a database outage, a crash, no
// network). e2e/ drives the same actions against `make dev` (tests/e2e/test_web_app_client.py).
// Run: npm test (compiles to build/ first: Node 20 cannot strip TypeScript types).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createActions, INVALID_QUESTION_DATA_MESSAGE, jobInfoPath } from "../lib/actions";
import { createApiClient, type TokenGetter } from "../lib/api/client";
import {
  NO_PERMISSION_MESSAGE,
  PLAN_LIMIT_MESSAGE,
  RATE_LIMIT_MESSAGE,
  UNAVAILABLE_MESSAGE,
  UNEXPECTED_MESSAGE,
} from "../lib/api/result";

const BASE = "https://api.example.test/";
const JOB = {
  id: "6c0f1f7e-7a35-4c8e-9a57-0d6d1f1c2b3a",
  name: "Acme",
  title: null,
  experienceLevel: "senior",
  description: "Python",
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
};

class Redirected extends Error {
  constructor(readonly path: string) {
    super(`NEXT_REDIRECT ${path}`);
  }
}

// next/navigation's redirect throws; so does this one.
function redirect(path: string): never {
  throw new Redirected(path);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function setup(answer: (request: Request) => Response | Promise<Response>, getToken: TokenGetter = async () => "t0ken") {
  const sent: Request[] = [];
  const api = createApiClient({
    baseUrl: BASE,
    getToken,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      sent.push(request);
      return answer(request);
    },
  });
  return { actions: createActions({ api, redirect }), sent };
}

describe("requests", () => {
  it("carry the signed-in user's token, the typed path and the JSON body", async () => {
    const { actions, sent } = setup(() => json(201, { ...JOB, id: "i-1", jobInfoId: JOB.id }));
    const result = await actions.createInterview({ jobInfoId: JOB.id });
    assert.deepEqual(result, { error: false, id: "i-1" });
    const [request] = sent;
    assert.equal(request?.method, "POST");
    assert.equal(request?.url, `https://api.example.test/job-infos/${JOB.id}/interviews`);
    assert.equal(request?.headers.get("authorization"), "Bearer t0ken");
    assert.equal(request?.headers.get("content-type"), "application/json");
    assert.deepEqual(await request?.json(), {});
  });

  it("ask for a fresh token on every call (Clerk's expire after a minute)", async () => {
    let n = 0;
    const { actions, sent } = setup(() => json(200, JOB), async () => `token-${++n}`);
    await actions.getJobInfo(JOB.id);
    await actions.getJobInfo(JOB.id);
    assert.deepEqual(
      sent.map((r) => r.headers.get("authorization")),
      ["Bearer token-1", "Bearer token-2"],
    );
  });

  it("are not sent when nobody is signed in", async () => {
    const { actions, sent } = setup(() => json(200, JOB), async () => null);
    assert.deepEqual(await actions.getJobInfo(JOB.id), { error: true, message: NO_PERMISSION_MESSAGE, status: 401 });
    assert.deepEqual(await actions.createJobInfo({ name: "n", experienceLevel: "junior", description: "d" }), {
      error: true,
      message: NO_PERMISSION_MESSAGE,
      status: 401,
    });
    assert.equal(sent.length, 0);
  });

  it("encode an id so it stays one path segment", async () => {
    const { actions, sent } = setup(() => json(404, { message: "Not Found" }));
    await actions.getInterview("a/b?c");
    assert.equal(sent[0]?.url, "https://api.example.test/interviews/a%2Fb%3Fc");
  });
});

describe("createJobInfo / updateJobInfo", () => {
  it("redirect to the job info's page once saved, as the original does", async () => {
    const { actions } = setup(() => json(200, JOB));
    await assert.rejects(actions.updateJobInfo(JOB.id, { title: "Lead" }), (error: unknown) => {
      assert.ok(error instanceof Redirected);
      assert.equal(error.path, jobInfoPath(JOB.id));
      return true;
    });
  });
});

describe("failures, as the original app's pages expect them", () => {
  for (const [name, response, message] of [
    ["our plan limit", json(403, { statusCode: 403, code: "PLAN_LIMIT", message: "m" }), PLAN_LIMIT_MESSAGE],
    [
      "our rate limit",
      json(429, { statusCode: 429, code: "RATE_LIMIT", message: "m" }, { "retry-after": "3600" }),
      RATE_LIMIT_MESSAGE,
    ],
    ["API Gateway's throttling", json(429, { message: "Too Many Requests" }), RATE_LIMIT_MESSAGE],
    ["API Gateway's authorizer", json(401, { message: "Unauthorized" }), NO_PERMISSION_MESSAGE],
    ["API Gateway's no-route 404", json(404, { message: "Not Found" }), NO_PERMISSION_MESSAGE],
    [
      "the database unreachable",
      json(503, { statusCode: 503, code: "SERVICE_UNAVAILABLE", message: "m" }, { "retry-after": "5" }),
      UNAVAILABLE_MESSAGE,
    ],
    ["API Gateway's 503", json(503, { message: "Service Unavailable" }), UNAVAILABLE_MESSAGE],
    [
      "a conflict, in the API's own words",
      json(409, { statusCode: 409, code: "INTERVIEW_NOT_COMPLETED", message: "Interview has not been completed yet" }),
      "Interview has not been completed yet",
    ],
    ["a crash (no detail reaches the user)", new Response("Traceback: SELECT ...", { status: 500 }), UNEXPECTED_MESSAGE],
    ["an undeclared body", json(400, { detail: "?" }), UNEXPECTED_MESSAGE],
  ] as const) {
    it(`${name} -> ${message}`, async () => {
      const { actions } = setup(() => response.clone());
      const result = await actions.createInterview({ jobInfoId: JOB.id });
      assert.deepEqual(result, { error: true, message, status: response.status });
    });
  }

  it("the API unreachable -> status 0", async () => {
    const { actions } = setup(() => {
      throw new TypeError("fetch failed");
    });
    assert.deepEqual(await actions.listJobInfos(), { error: true, message: UNAVAILABLE_MESSAGE, status: 0 });
  });

  it("a bug in the app is not turned into a message", async () => {
    const { actions } = setup(() => {
      throw new RangeError("a bug");
    });
    await assert.rejects(actions.listJobInfos(), RangeError);
  });
});

describe("getMe / canCreateInterview", () => {
  const ME = {
    profile: null,
    plan: {
      interviews: { used: 1, limit: 1, unlimited: false },
      questions: { used: 0, limit: 5, unlimited: false },
    },
    canStartInterview: false,
    interviewTokens: { available: 12, capacity: 12, nextAt: null },
  };

  it("getMe asks GET /me and answers the body", async () => {
    const { actions, sent } = setup(() => json(200, ME, { etag: '"0123456789abcdef0123456789abcdef"' }));
    assert.deepEqual(await actions.getMe(), { error: false, data: ME });
    assert.equal(sent[0]?.method, "GET");
    assert.equal(sent[0]?.url, "https://api.example.test/me");
  });

  it("canCreateInterview is the API's canStartInterview, and false when the API cannot say", async () => {
    for (const [answer, expected] of [
      [json(200, ME), false],
      [json(200, { ...ME, canStartInterview: true }), true],
      [json(503, { statusCode: 503, code: "SERVICE_UNAVAILABLE", message: "retry" }), false],
    ] as const) {
      const { actions } = setup(() => answer.clone());
      assert.equal(await actions.canCreateInterview(), expected);
    }
  });
});

describe("questions", () => {
  const QUESTION = {
    id: "0b8f6d1e-3c2a-4e5f-8a9b-1c2d3e4f5a6b",
    jobInfoId: JOB.id,
    text: "What is a closure?",
    difficulty: "easy",
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
  } as const;

  it("createQuestion posts the text and difficulty to the job info's questions and answers the id", async () => {
    const { actions, sent } = setup(() => json(201, QUESTION, { location: `/questions/${QUESTION.id}`, etag: '"1"' }));
    const result = await actions.createQuestion({ jobInfoId: JOB.id, text: QUESTION.text, difficulty: "easy" });
    assert.deepEqual(result, { error: false, id: QUESTION.id });
    const [request] = sent;
    assert.equal(request?.method, "POST");
    assert.equal(request?.url, `https://api.example.test/job-infos/${JOB.id}/questions`);
    assert.deepEqual(await request?.json(), { text: QUESTION.text, difficulty: "easy" });
  });

  it("createQuestion: the plan's limit, invalid data, another user's job info", async () => {
    for (const [response, message] of [
      [json(403, { statusCode: 403, code: "PLAN_LIMIT", message: "m" }), PLAN_LIMIT_MESSAGE],
      [json(422, { statusCode: 422, code: "VALIDATION_ERROR", message: "m", detail: [] }), INVALID_QUESTION_DATA_MESSAGE],
      [json(404, { statusCode: 404, code: "NOT_FOUND", message: "m" }), NO_PERMISSION_MESSAGE],
    ] as const) {
      const { actions } = setup(() => response.clone());
      const result = await actions.createQuestion({ jobInfoId: JOB.id, text: "q", difficulty: "hard" });
      assert.deepEqual(result, { error: true, message, status: response.status });
    }
  });

  it("getQuestion and listQuestions ask their routes (the page's limit and cursor as query)", async () => {
    const page = { items: [QUESTION], nextCursor: "abc" };
    const { actions, sent } = setup((request) => json(200, request.url.includes("/questions?") ? page : QUESTION));
    assert.deepEqual(await actions.getQuestion(QUESTION.id), { error: false, data: QUESTION });
    assert.deepEqual(await actions.listQuestions(JOB.id, { limit: 1, cursor: "xyz" }), { error: false, data: page });
    assert.deepEqual(
      sent.map((r) => r.url),
      [
        `https://api.example.test/questions/${QUESTION.id}`,
        `https://api.example.test/job-infos/${JOB.id}/questions?limit=1&cursor=xyz`,
      ],
    );
  });

  it("canCreateQuestion: unlimited, or fewer used than the limit; false when the API cannot say", async () => {
    const me = (questions: object) => ({
      profile: null,
      plan: { interviews: { used: 0, limit: 1, unlimited: false }, questions },
      canStartInterview: true,
      interviewTokens: { available: 12, capacity: 12, nextAt: null },
    });
    for (const [answer, expected] of [
      [json(200, me({ used: 4, limit: 5, unlimited: false })), true],
      [json(200, me({ used: 5, limit: 5, unlimited: false })), false],
      [json(200, me({ used: 0, limit: 0, unlimited: false })), false],
      [json(200, me({ used: 99, limit: null, unlimited: true })), true],
      [json(503, { statusCode: 503, code: "SERVICE_UNAVAILABLE", message: "retry" }), false],
    ] as const) {
      const { actions } = setup(() => answer.clone());
      assert.equal(await actions.canCreateQuestion(), expected);
    }
  });
});
