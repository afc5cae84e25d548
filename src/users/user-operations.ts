// One user by id, from parsed input to the JSON body: read, update, delete. A user the tenant does not
// have, including another tenant's, is 404 user_not_found: the statement cannot tell them apart, so
// neither can the caller.
import { NotFound } from '../errors.js';
import { rowsOf, type RunStatement } from './list-page.js';
import type { TenantScope } from './queries.js';
import { userBody } from './response.js';
import type { UpdateUserInput } from './update-input.js';
import { deleteUserStatement, getUserStatement, updateUserStatement } from './user-statements.js';

const notFound = (userId: string): NotFound => new NotFound('user_not_found', `no user with id ${userId}`);

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
