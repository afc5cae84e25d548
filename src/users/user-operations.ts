// One user by id, from parsed input to the JSON body: read, update, delete; and the writes under an
// Idempotency-Key (create, update). A user the tenant does not have, including another tenant's, is 404
// user_not_found: the statement cannot tell them apart, so neither can the caller.
import { NotFound, Unavailable } from '../errors.js';
import { requestFingerprint } from '../idempotency/key.js';
import { idempotentWrite } from '../idempotency/writes.js';
import { rowsOf, type RunStatement } from './list-page.js';
import type { TenantScope } from './queries.js';
import { userBody } from './response.js';
import type { UpdateUserInput } from './update-input.js';
import { createUserWrite, deleteUserStatement, getUserStatement, updateUserStatement, updateUserWrite } from './user-statements.js';

const notFound = (userId: string): NotFound => new NotFound('user_not_found', `no user with id ${userId}`);

/** An Idempotency-Key and how long its first answer is kept. */
export interface IdempotencyKey {
  readonly key: string;
  readonly ttlSeconds: number;
}

/** A write's answer: `replayed` when it is the stored first answer to the same key and request. */
export interface WriteAnswer {
  readonly status: number;
  readonly body: string;
  readonly replayed: boolean;
}

export async function getUserBody(run: RunStatement, scope: TenantScope, userId: string): Promise<string> {
  const [row] = await rowsOf(run, getUserStatement(scope, userId));
  if (row === undefined) throw notFound(userId);
  return userBody(row);
}

export async function updateUserBody(run: RunStatement, scope: TenantScope, userId: string, input: UpdateUserInput): Promise<string> {
  const [row] = await rowsOf(run, updateUserStatement(scope, userId, input));
  if (row === undefined) throw notFound(userId);
  return userBody(row);
}

export async function deleteUser(run: RunStatement, scope: TenantScope, userId: string): Promise<void> {
  const [row] = await rowsOf(run, deleteUserStatement(scope, userId));
  if (row === undefined) throw notFound(userId);
}

export async function createUserIdempotent(
  run: RunStatement,
  scope: TenantScope,
  input: { firstName: string; lastName: string },
  key: IdempotencyKey,
): Promise<WriteAnswer> {
  const fingerprint = requestFingerprint('create-user', { first_name: input.firstName, last_name: input.lastName });
  const outcome = await idempotentWrite(run, scope, { ...key, fingerprint, status: 201 }, createUserWrite(scope, input));
  // As for a plain create (src/users/list-page.ts): an INSERT without its row may still have committed.
  if (outcome === undefined) {
    throw new Unavailable('write_unconfirmed', 'the database accepted the write but did not return the user; retry with the same Idempotency-Key', 1);
  }
  return { status: outcome.status, body: userBody(outcome.row), replayed: outcome.replayed };
}

/** A PATCH that matches no user records nothing: a retry answers from the user's state then. */
export async function updateUserIdempotent(
  run: RunStatement,
  scope: TenantScope,
  userId: string,
  input: UpdateUserInput,
  key: IdempotencyKey,
): Promise<WriteAnswer> {
  const fingerprint = requestFingerprint(`update-user ${userId}`, {
    first_name: input.firstName ?? null,
    last_name: input.lastName ?? null,
    confirmed: input.confirmed ?? null,
  });
  const outcome = await idempotentWrite(run, scope, { ...key, fingerprint, status: 200 }, updateUserWrite(scope, userId, input));
  if (outcome === undefined) throw notFound(userId);
  return { status: outcome.status, body: userBody(outcome.row), replayed: outcome.replayed };
}
