"use server";
// The web app's server actions: lib/actions.ts wired to Clerk (the signed-in user's token) and
// Next.js (redirect). The original app's features/*/actions.ts import these names from here.
// Environment: JOB_PREP_API_URL (the stack's ApiUrl output; http://127.0.0.1:3001 with `make dev`)
// and CLERK_JWT_TEMPLATE, the Clerk JWT template that puts the API's audience in the token.
import { auth } from "@clerk/nextjs/server";
import { redirect } from "next/navigation";

import { createApiClient } from "../lib/api/client";
import {
  createActions,
  type InterviewUpdate,
  type JobInfoCreate,
  type JobInfoUpdate,
  type PageQuery,
  type QuestionCreate,
} from "../lib/actions";

function apiBaseUrl(): string {
  const url = process.env.JOB_PREP_API_URL;
  if (!url) throw new Error("JOB_PREP_API_URL is not set: the job-prep API's base URL");
  return url;
}

async function actions() {
  const { getToken } = await auth();
  const template = process.env.CLERK_JWT_TEMPLATE ?? "job-prep-api";
  const api = createApiClient({ baseUrl: apiBaseUrl(), getToken: () => getToken({ template }) });
  return createActions({ api, redirect });
}

export async function createJobInfo(unsafeData: JobInfoCreate) {
  return (await actions()).createJobInfo(unsafeData);
}

export async function updateJobInfo(id: string, unsafeData: JobInfoUpdate) {
  return (await actions()).updateJobInfo(id, unsafeData);
}

export async function createInterview({ jobInfoId }: { jobInfoId: string }) {
  return (await actions()).createInterview({ jobInfoId });
}

export async function updateInterview(id: string, data: InterviewUpdate) {
  return (await actions()).updateInterview(id, data);
}

export async function getJobInfo(id: string) {
  return (await actions()).getJobInfo(id);
}

export async function listJobInfos(query?: PageQuery) {
  return (await actions()).listJobInfos(query);
}

export async function getInterview(id: string) {
  return (await actions()).getInterview(id);
}

export async function listInterviews(jobInfoId: string, query?: PageQuery) {
  return (await actions()).listInterviews(jobInfoId, query);
}

export async function getMe() {
  return (await actions()).getMe();
}

export async function canCreateInterview() {
  return (await actions()).canCreateInterview();
}

export async function createQuestion(data: { jobInfoId: string } & QuestionCreate) {
  return (await actions()).createQuestion(data);
}

export async function getQuestion(id: string) {
  return (await actions()).getQuestion(id);
}

export async function listQuestions(jobInfoId: string, query?: PageQuery) {
  return (await actions()).listQuestions(jobInfoId, query);
}

export async function canCreateQuestion() {
  return (await actions()).canCreateQuestion();
}
