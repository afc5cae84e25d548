// Assertions on the gateway's HTTP error shape, shared by the API tests.
import { expect } from 'vitest';

export interface ErrorJson {
  error: { code: string; message: string };
}

/** Asserts a JSON `{"error":{"code","message"}}` with this status and code (and, if given, a message naming `mentions`). */
export async function expectError(res: Response, status: number, code: string, mentions?: string): Promise<ErrorJson> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorJson;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.message.length).toBeGreaterThan(0);
  if (mentions !== undefined) expect(body.error.message).toContain(mentions);
  return body;
}
