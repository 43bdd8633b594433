// The actions against a running API (`make dev`), as the web app calls them: run by
// tests/e2e/test_web_app_client.py, which starts the dev server, mints a dev JWT per user and sets
//   JOBPREP_API_URL     the API's base URL
//   JOBPREP_TOKENS      {"owner", "other", "freePlan", "rateLimited", "pager", "synced", "fiveQuestions"}:
//                       a token each, for users of their own (freePlan has only the 1_interview feature,
//                       fiveQuestions only 5_questions; the others every feature)
//   JOBPREP_PROFILES    {"synced": {id, name, email}}: the profile Clerk's user.created (signed with
//                       the dev secret) gave the dev server before this run
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  createActions,
  jobInfoPath,
  INVALID_INTERVIEW_DATA_MESSAGE,
  INVALID_JOB_DATA_MESSAGE,
  INVALID_QUESTION_DATA_MESSAGE,
  type QuestionCreate,
} from "../lib/actions";
import { createApiClient } from "../lib/api/client";
import { NO_PERMISSION_MESSAGE, PLAN_LIMIT_MESSAGE, RATE_LIMIT_MESSAGE } from "../lib/api/result";

const BASE_URL = process.env.JOBPREP_API_URL;
if (!BASE_URL || !process.env.JOBPREP_TOKENS || !process.env.JOBPREP_PROFILES) {
  throw new Error(
    "JOBPREP_API_URL, JOBPREP_TOKENS and JOBPREP_PROFILES must be set (tests/e2e/test_web_app_client.py sets them)",
  );
}
const TOKENS = JSON.parse(process.env.JOBPREP_TOKENS) as Record<
  "owner" | "other" | "freePlan" | "rateLimited" | "pager" | "synced" | "fiveQuestions",
  string
>;
const PROFILES = JSON.parse(process.env.JOBPREP_PROFILES) as Record<
  "synced",
  { id: string; name: string; email: string }
>;

class Redirected extends Error {
  constructor(readonly path: string) {
    super(`NEXT_REDIRECT ${path}`);
  }
}

function redirect(path: string): never {
  throw new Redirected(path);
}

function client(token: string) {
  return createApiClient({ baseUrl: BASE_URL as string, getToken: async () => token });
}

function actionsFor(token: string) {
  return createActions({ api: client(token), redirect });
}

const owner = actionsFor(TOKENS.owner);
const other = actionsFor(TOKENS.other);

const JOB = { name: "Acme", title: "Backend engineer", experienceLevel: "senior", description: "Python, AWS" } as const;

/** Runs an action that redirects on success; returns the id in the path it redirected to. */
async function savedJobInfoId(action: Promise<unknown>): Promise<string> {
  try {
    const answer = await action;
    assert.fail(`expected a redirect, got ${JSON.stringify(answer)}`);
  } catch (error) {
    if (!(error instanceof Redirected)) throw error;
    const id = error.path.replace(/^\/app\/job-infos\//, "");
    assert.equal(error.path, jobInfoPath(id));
    return id;
  }
}

function ok<T>(result: { error: false; data: T } | { error: true; message: string }): T {
  if (result.error) assert.fail(`unexpected failure: ${result.message}`);
  return result.data;
}

describe("job infos", () => {
  it("createJobInfo saves and goes to the job info's page; the reads return it", async () => {
    const id = await savedJobInfoId(owner.createJobInfo(JOB));
    const saved = ok(await owner.getJobInfo(id));
    assert.deepEqual({ ...saved, id: undefined, createdAt: undefined, updatedAt: undefined }, {
      ...JOB,
      id: undefined,
      createdAt: undefined,
      updatedAt: undefined,
    });
    assert.ok(ok(await owner.listJobInfos({ limit: 100 })).items.some((item) => item.id === id));
  });

  it("createJobInfo refuses invalid data with the original's message and saves nothing", async () => {
    const before = ok(await owner.listJobInfos({ limit: 100 })).items.length;
    for (const unsafeData of [
      { ...JOB, name: "x".repeat(201) },
      { ...JOB, description: "   " },
      { ...JOB, experienceLevel: "principal" } as unknown as typeof JOB, // what a form can post
      { name: "Acme" } as unknown as typeof JOB,
    ]) {
      assert.deepEqual(await owner.createJobInfo(unsafeData), {
        error: true,
        message: INVALID_JOB_DATA_MESSAGE,
        status: 422,
      });
    }
    assert.equal(ok(await owner.listJobInfos({ limit: 100 })).items.length, before);
  });

  it("updateJobInfo changes the job info and goes to its page", async () => {
    const id = await savedJobInfoId(owner.createJobInfo(JOB));
    assert.equal(await savedJobInfoId(owner.updateJobInfo(id, { title: null, experienceLevel: "junior" })), id);
    const updated = ok(await owner.getJobInfo(id));
    assert.equal(updated.title, null);
    assert.equal(updated.experienceLevel, "junior");
    assert.equal(updated.name, JOB.name);
  });

  it("another user's job info: no permission, for every action, and nothing changes", async () => {
    const id = await savedJobInfoId(owner.createJobInfo(JOB));
    const refused = { error: true, message: NO_PERMISSION_MESSAGE, status: 404 };
    assert.deepEqual(await other.getJobInfo(id), refused);
    assert.deepEqual(await other.updateJobInfo(id, { name: "mine now" }), refused);
    assert.deepEqual(await other.createInterview({ jobInfoId: id }), refused);
    assert.deepEqual(await other.listInterviews(id), refused);
    assert.deepEqual(await other.deleteJobInfo(id), refused);
    assert.equal(ok(await owner.getJobInfo(id)).name, JOB.name);
    assert.deepEqual(ok(await owner.listInterviews(id)).items, []);
    assert.ok(!ok(await other.listJobInfos({ limit: 100 })).items.some((item) => item.id === id));
  });

  it("listJobInfos pages with limit and nextCursor through all of the user's job infos", async () => {
    const pager = actionsFor(TOKENS.pager);
    const created = new Set<string>();
    for (let i = 0; i < 3; i++) created.add(await savedJobInfoId(pager.createJobInfo({ ...JOB, name: `Job ${i}` })));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const { items, nextCursor } = ok(await pager.listJobInfos({ limit: 2, ...(cursor ? { cursor } : {}) }));
      assert.ok(items.length <= 2);
      seen.push(...items.map((item) => item.id));
      if (nextCursor === null) break;
      cursor = nextCursor;
    }
    assert.deepEqual(new Set(seen), created);
    assert.equal(seen.length, created.size);
  });

  it("deleteJobInfo removes it and its interviews", async () => {
    const id = await savedJobInfoId(owner.createJobInfo(JOB));
    const interview = await owner.createInterview({ jobInfoId: id });
    assert.equal(interview.error, false);
    assert.deepEqual(await owner.deleteJobInfo(id), { error: false, data: undefined });
    assert.equal((await owner.getJobInfo(id)).error, true);
    if (!interview.error) assert.deepEqual(await owner.getInterview(interview.id), {
      error: true,
      message: NO_PERMISSION_MESSAGE,
      status: 404,
    });
  });
});

describe("interviews", () => {
  it("createInterview answers its id; updateInterview saves; the reads return it", async () => {
    const jobInfoId = await savedJobInfoId(owner.createJobInfo(JOB));
    const created = await owner.createInterview({ jobInfoId });
    if (created.error) assert.fail(created.message);
    assert.deepEqual(Object.keys(created).sort(), ["error", "id"]);

    assert.deepEqual(await owner.updateInterview(created.id, { humeChatId: "chat-1", duration: "00:12:34" }), {
      error: false,
    });
    const interview = ok(await owner.getInterview(created.id));
    assert.equal(interview.jobInfoId, jobInfoId);
    assert.equal(interview.humeChatId, "chat-1");
    assert.equal(interview.duration, "00:12:34");
    assert.deepEqual(
      ok(await owner.listInterviews(jobInfoId)).items.map((item) => item.id),
      [created.id],
    );
  });

  it("updateInterview refuses invalid data, and another user's interview", async () => {
    const jobInfoId = await savedJobInfoId(owner.createJobInfo(JOB));
    const created = await owner.createInterview({ jobInfoId });
    if (created.error) assert.fail(created.message);
    assert.deepEqual(await owner.updateInterview(created.id, { duration: "99:99:99" }), {
      error: true,
      message: INVALID_INTERVIEW_DATA_MESSAGE,
      status: 422,
    });
    assert.deepEqual(await other.updateInterview(created.id, { duration: "00:00:01" }), {
      error: true,
      message: NO_PERMISSION_MESSAGE,
      status: 404,
    });
    assert.equal(ok(await owner.getInterview(created.id)).duration, "00:00:00");
  });

  it("the free plan's one interview: the next createInterview answers PLAN_LIMIT", async () => {
    const free = actionsFor(TOKENS.freePlan);
    const jobInfoId = await savedJobInfoId(free.createJobInfo(JOB));
    const first = await free.createInterview({ jobInfoId });
    if (first.error) assert.fail(first.message);
    assert.deepEqual(await free.updateInterview(first.id, { humeChatId: "chat-free" }), { error: false });

    assert.deepEqual(await free.createInterview({ jobInfoId }), { error: true, message: PLAN_LIMIT_MESSAGE, status: 403 });
  });

  it("creating interviews too fast answers RATE_LIMIT, as the original's rate limit", async () => {
    const fast = actionsFor(TOKENS.rateLimited);
    const jobInfoId = await savedJobInfoId(fast.createJobInfo(JOB));
    let created = 0;
    let last: Awaited<ReturnType<typeof fast.createInterview>> | undefined;
    for (let i = 0; i < 100; i++) {
      last = await fast.createInterview({ jobInfoId });
      if (last.error) break;
      created++;
    }
    assert.ok(created > 0, "no interview could be created at all");
    assert.deepEqual(last, { error: true, message: RATE_LIMIT_MESSAGE, status: 429 });
    assert.equal(ok(await fast.listInterviews(jobInfoId, { limit: 100 })).items.length, created);

    // what the new-interview page now sees before offering another one
    const me = ok(await fast.getMe());
    assert.equal(me.canStartInterview, false);
    assert.equal(me.interviewTokens.available, 0);
    assert.ok(me.interviewTokens.nextAt !== null && Date.parse(me.interviewTokens.nextAt) > Date.now());
    assert.equal(await fast.canCreateInterview(), false);
  });
});

describe("questions", () => {
  it("createQuestion answers its id; getQuestion returns it; listQuestions oldest first, page by page", async () => {
    const jobInfoId = await savedJobInfoId(owner.createJobInfo(JOB));
    const ids: string[] = [];
    for (const [n, difficulty] of (["easy", "medium", "hard"] as const).entries()) {
      const created = await owner.createQuestion({ jobInfoId, text: `Question ${n}?`, difficulty });
      if (created.error) assert.fail(created.message);
      assert.deepEqual(Object.keys(created).sort(), ["error", "id"]);
      ids.push(created.id);
    }
    const question = ok(await owner.getQuestion(ids[1] as string));
    assert.deepEqual(
      { jobInfoId: question.jobInfoId, text: question.text, difficulty: question.difficulty },
      { jobInfoId, text: "Question 1?", difficulty: "medium" },
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = ok(await owner.listQuestions(jobInfoId, { limit: 2, ...(cursor ? { cursor } : {}) }));
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(seen, ids, "every question once, oldest first");
  });

  it("createQuestion refuses invalid data, and another user's job info; the reads refuse another user", async () => {
    const jobInfoId = await savedJobInfoId(owner.createJobInfo(JOB));
    const invalid = { jobInfoId, text: "Why?", difficulty: "impossible" } as unknown as { jobInfoId: string } & QuestionCreate;
    assert.deepEqual(await owner.createQuestion(invalid), {
      error: true,
      message: INVALID_QUESTION_DATA_MESSAGE,
      status: 422,
    });
    const refused = { error: true, message: NO_PERMISSION_MESSAGE, status: 404 };
    assert.deepEqual(await other.createQuestion({ jobInfoId, text: "Mine?", difficulty: "easy" }), refused);
    const created = await owner.createQuestion({ jobInfoId, text: "Why?", difficulty: "easy" });
    if (created.error) assert.fail(created.message);
    assert.deepEqual(await other.getQuestion(created.id), refused);
    assert.deepEqual(await other.listQuestions(jobInfoId), refused);
    assert.deepEqual(ok(await owner.listQuestions(jobInfoId)).items.map((item) => item.id), [created.id]);
  });

  it("5_questions: five, then PLAN_LIMIT, and deleting the job info gives none back", async () => {
    const five = actionsFor(TOKENS.fiveQuestions);
    const jobInfoId = await savedJobInfoId(five.createJobInfo(JOB));
    for (let n = 0; n < 5; n++) {
      assert.equal(await five.canCreateQuestion(), true);
      assert.equal((await five.createQuestion({ jobInfoId, text: `Q${n}?`, difficulty: "easy" })).error, false);
    }
    assert.equal(await five.canCreateQuestion(), false);
    const limited = { error: true, message: PLAN_LIMIT_MESSAGE, status: 403 };
    assert.deepEqual(await five.createQuestion({ jobInfoId, text: "Q5?", difficulty: "easy" }), limited);
    assert.deepEqual(ok(await five.getMe()).plan.questions, { used: 5, limit: 5, unlimited: false });

    assert.deepEqual(await five.deleteJobInfo(jobInfoId), { error: false, data: undefined });
    const fresh = await savedJobInfoId(five.createJobInfo(JOB));
    assert.deepEqual(await five.createQuestion({ jobInfoId: fresh, text: "Again?", difficulty: "easy" }), limited);
    assert.equal(await five.canCreateQuestion(), false);
  });

  it("the free plan has no questions: PLAN_LIMIT, and canCreateQuestion says so first", async () => {
    const free = actionsFor(TOKENS.freePlan);
    const jobInfoId = await savedJobInfoId(free.createJobInfo(JOB));
    assert.equal(await free.canCreateQuestion(), false);
    assert.deepEqual(await free.createQuestion({ jobInfoId, text: "Q?", difficulty: "easy" }), {
      error: true,
      message: PLAN_LIMIT_MESSAGE,
      status: 403,
    });
  });
});

describe("the signed-in user", () => {
  it("getMe: no profile until Clerk's webhook has arrived; a fresh user may start an interview", async () => {
    const me = ok(await owner.getMe());
    assert.equal(me.profile, null);
    assert.equal(me.canStartInterview, true);
    assert.equal(me.interviewTokens.nextAt === null, me.interviewTokens.available === me.interviewTokens.capacity);
    assert.equal(await owner.canCreateInterview(), true);
  });

  it("getMe: the profile Clerk's webhook stored, and the plan's limits", async () => {
    const synced = ok(await actionsFor(TOKENS.synced).getMe());
    assert.deepEqual(
      { id: synced.profile?.id, name: synced.profile?.name, email: synced.profile?.email },
      PROFILES.synced,
    );
    const free = ok(await actionsFor(TOKENS.freePlan).getMe());
    assert.deepEqual(free.plan.interviews.limit, 1);
    assert.deepEqual(free.plan.questions, { used: 0, limit: 0, unlimited: false });
  });
});

describe("API Gateway's own answers", () => {
  it("a token the authorizer refuses: no permission", async () => {
    const forged = actionsFor("not-a-jwt");
    assert.deepEqual(await forged.listJobInfos(), { error: true, message: NO_PERMISSION_MESSAGE, status: 401 });
  });

  it("a path no route matches: the declared {message} 404, accepted by the typed client", async () => {
    const id = await savedJobInfoId(owner.createJobInfo(JOB));
    // openapi-fetch encodes the slash (%2F); the dev gateway decodes it before routing, as most
    // routers do, and no route has that shape: the gateway answers, not a function
    const { data, error, response } = await client(TOKENS.owner).GET("/job-infos/{jobInfoId}", {
      params: { path: { jobInfoId: `${id}/x` } },
    });
    assert.equal(response.status, 404);
    assert.equal(data, undefined);
    assert.deepEqual(error, { message: "Not Found" });
    assert.deepEqual(await owner.getJobInfo(`${id}/x`), { error: true, message: NO_PERMISSION_MESSAGE, status: 404 });
  });
});
