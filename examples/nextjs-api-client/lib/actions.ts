// The original app's job-info and interview actions, on the API instead of the database. Same
// names, arguments and answers (`{ error: true, message }`; a redirect after saving a job info);
// free of Next.js and Clerk, which app/actions.ts injects, so `node --test` drives them as they are.
//
// A route added later is `npm run generate` and one entry here (the questions were added so):
// `call(api.VERB("/path", { params, body }))`, checked by tsc against openapi.json.
import type { ApiClient, Schemas } from "./api/client";
import { call, type ActionFailure, type ActionResult } from "./api/result";

export type JobInfo = Schemas["JobInfoOut"];
export type JobInfoPage = Schemas["JobInfoPage"];
export type JobInfoCreate = Schemas["JobInfoCreate"];
export type JobInfoUpdate = Schemas["JobInfoUpdate"];
export type Interview = Schemas["InterviewOut"];
export type InterviewPage = Schemas["InterviewPage"];
export type InterviewUpdate = Schemas["InterviewUpdate"];
export type Me = Schemas["MeOut"];
export type Question = Schemas["QuestionOut"];
export type QuestionPage = Schemas["QuestionPage"];
export type QuestionCreate = Schemas["QuestionCreate"];
export type QuestionDifficulty = Question["difficulty"];
export interface PageQuery {
  limit?: number;
  /** The previous page's nextCursor. */
  cursor?: string;
}

export const INVALID_JOB_DATA_MESSAGE = "Invalid job data";
export const INVALID_INTERVIEW_DATA_MESSAGE = "Invalid interview data";
export const INVALID_QUESTION_DATA_MESSAGE = "Invalid question data";

export function jobInfoPath(id: string): string {
  return `/app/job-infos/${id}`;
}

export interface ActionDeps {
  /** A client that sends the signed-in user's token (createApiClient). */
  api: ApiClient;
  /** next/navigation's redirect: it throws, so it never returns. */
  redirect: (path: string) => never;
}

export function createActions({ api, redirect }: ActionDeps) {
  const jobInfo = (jobInfoId: string) => ({ params: { path: { jobInfoId } } });
  const interview = (interviewId: string) => ({ params: { path: { interviewId } } });
  const question = (questionId: string) => ({ params: { path: { questionId } } });

  return {
    /** Saves a job info and goes to its page; answers only when it could not be saved. */
    async createJobInfo(unsafeData: JobInfoCreate): Promise<ActionFailure> {
      const result = await call(api.POST("/job-infos", { body: unsafeData }), INVALID_JOB_DATA_MESSAGE);
      if (result.error) return result;
      return redirect(jobInfoPath(result.data.id));
    },

    async updateJobInfo(id: string, unsafeData: JobInfoUpdate): Promise<ActionFailure> {
      const result = await call(
        api.PATCH("/job-infos/{jobInfoId}", { ...jobInfo(id), body: unsafeData }),
        INVALID_JOB_DATA_MESSAGE,
      );
      if (result.error) return result;
      return redirect(jobInfoPath(result.data.id));
    },

    /** The API checks ownership, the plan (403 PLAN_LIMIT) and the rate limit (429 RATE_LIMIT). */
    async createInterview({ jobInfoId }: { jobInfoId: string }): Promise<ActionFailure | { error: false; id: string }> {
      const result = await call(api.POST("/job-infos/{jobInfoId}/interviews", { ...jobInfo(jobInfoId), body: {} }));
      return result.error ? result : { error: false, id: result.data.id };
    },

    async updateInterview(id: string, data: InterviewUpdate): Promise<ActionFailure | { error: false }> {
      const result = await call(
        api.PATCH("/interviews/{interviewId}", { ...interview(id), body: data }),
        INVALID_INTERVIEW_DATA_MESSAGE,
      );
      return result.error ? result : { error: false };
    },

    getJobInfo(id: string): Promise<ActionResult<JobInfo>> {
      return call(api.GET("/job-infos/{jobInfoId}", jobInfo(id)));
    },

    listJobInfos(query: PageQuery = {}): Promise<ActionResult<JobInfoPage>> {
      return call(api.GET("/job-infos", { params: { query } }));
    },

    deleteJobInfo(id: string): Promise<ActionResult<unknown>> {
      return call(api.DELETE("/job-infos/{jobInfoId}", jobInfo(id)));
    },

    getInterview(id: string): Promise<ActionResult<Interview>> {
      return call(api.GET("/interviews/{interviewId}", interview(id)));
    },

    listInterviews(jobInfoId: string, query: PageQuery = {}): Promise<ActionResult<InterviewPage>> {
      return call(api.GET("/job-infos/{jobInfoId}/interviews", { params: { path: { jobInfoId }, query } }));
    },

    /**
     * The original's insertQuestion, once its AI has written the question: the API checks the job
     * info is the user's and spends one question of the plan (403 PLAN_LIMIT past 5_questions'
     * five; deleting questions or their job info gives none back).
     */
    async createQuestion({
      jobInfoId,
      text,
      difficulty,
    }: { jobInfoId: string } & QuestionCreate): Promise<ActionFailure | { error: false; id: string }> {
      const result = await call(
        api.POST("/job-infos/{jobInfoId}/questions", { ...jobInfo(jobInfoId), body: { text, difficulty } }),
        INVALID_QUESTION_DATA_MESSAGE,
      );
      return result.error ? result : { error: false, id: result.data.id };
    },

    getQuestion(id: string): Promise<ActionResult<Question>> {
      return call(api.GET("/questions/{questionId}", question(id)));
    },

    /** Oldest first, as the original's question list shows them. */
    listQuestions(jobInfoId: string, query: PageQuery = {}): Promise<ActionResult<QuestionPage>> {
      return call(api.GET("/job-infos/{jobInfoId}/questions", { params: { path: { jobInfoId }, query } }));
    },

    /**
     * The original's canCreateQuestion: unlimited, or fewer questions created than the plan allows
     * (GET /me counts them as POST .../questions does). False also when the API cannot say.
     */
    async canCreateQuestion(): Promise<boolean> {
      const me = await call(api.GET("/me"));
      if (me.error) return false;
      const { used, limit, unlimited } = me.data.plan.questions;
      return unlimited || (limit !== null && used < limit);
    },

    /**
     * The signed-in user: their profile (null until Clerk's user.created webhook has reached the
     * API: onboarding waits for it), plan usage and limits, interview tokens and when the next comes.
     */
    getMe(): Promise<ActionResult<Me>> {
      return call(api.GET("/me"));
    },

    /**
     * The original new-interview page's question, asked before it offers one: the plan allows
     * another interview and the rate limit has a token (what createInterview would answer).
     * False also when the API cannot say.
     */
    async canCreateInterview(): Promise<boolean> {
      const me = await call(api.GET("/me"));
      return !me.error && me.data.canStartInterview;
    },
  };
}

export type Actions = ReturnType<typeof createActions>;
