// The tenant-facing users API (src/routes/users.ts).
import { z } from 'zod';
import { IDEMPOTENCY_HEADER, idempotencyKeySchema, REPLAYED_HEADER } from '../../idempotency/key.js';
import { createUserSchema } from '../../users/create-input.js';
import { listUsersQuerySchema } from '../../users/list-params.js';
import { userPageSchema, userSchema } from '../../users/response.js';
import { updateUserSchema } from '../../users/update-input.js';
import { ERRORS } from '../error-codes.js';
import type { NamedSchema, Operation, RequestHeader, ResponseHeader } from '../operation.js';

const ada = {
  id: '5f0c3a52-8d7e-4b8e-9a51-2f4d6c1e7b90',
  first_name: 'Ada',
  last_name: 'Lovelace',
  confirmed: false,
  created_at: '2026-11-24T17:22:53.182100Z',
  updated_at: '2026-11-24T17:22:53.182100Z',
};

const user: NamedSchema = { name: 'User', schema: userSchema };
const idParam = z.object({ id: z.guid().describe("the user's id") });

const idempotencyKey: RequestHeader = {
  name: IDEMPOTENCY_HEADER,
  description:
    'optional: makes a retry safe. The first answer to a key is recorded (IDEMPOTENCY_TTL_SECONDS) and replayed, ' +
    'without writing again, to a retry of the same request with the same key; the same key with another request is 422.',
  required: false,
  schema: idempotencyKeySchema.describe('1 to 255 visible ASCII characters (0x21–0x7E, no spaces); a UUID is typical'),
  example: '8e2b9c1e-4c1a-4f7e-9d3b-2a6f0e5c7d41',
};

const replayed: Readonly<Record<string, ResponseHeader>> = {
  [REPLAYED_HEADER]: {
    description: 'present (`true`) only when this is the recorded answer to an earlier request with the same Idempotency-Key',
    required: false,
    schema: z.literal('true'),
    example: 'true',
  },
};

export const usersOperations: readonly Operation[] = [
  {
    method: 'get',
    path: '/v1/internal/users',
    operationId: 'listUsers',
    tag: 'Users',
    summary: "List the tenant's users: filter, search, sort, page or follow a cursor",
    access: 'tenant',
    query: listUsersQuerySchema,
    replies: {
      200: {
        description: 'a page of users',
        body: { name: 'UserPage', schema: userPageSchema },
        example: { records: [ada], page: 1, page_size: 10, total: 1, total_pages: 1, total_exact: true, next_cursor: null },
      },
    },
  },
  {
    method: 'post',
    path: '/v1/internal/users',
    operationId: 'createUser',
    tag: 'Users',
    summary: 'Create a user of the tenant',
    access: 'tenant',
    headers: [idempotencyKey],
    body: { schema: { name: 'CreateUser', schema: createUserSchema }, example: { first_name: 'Ada', last_name: 'Lovelace' } },
    replies: { 201: { description: 'the user created (or, on a replay, the one created before)', body: user, example: ada, headers: replayed } },
    errors: ['write_unconfirmed', ...ERRORS.idempotencyKey],
  },
  {
    method: 'get',
    path: '/v1/internal/users/{id}',
    operationId: 'getUser',
    tag: 'Users',
    summary: 'Read a user of the tenant',
    access: 'tenant',
    pathParams: idParam,
    replies: { 200: { description: 'the user', body: user, example: ada } },
    errors: ERRORS.userPath,
  },
  {
    method: 'patch',
    path: '/v1/internal/users/{id}',
    operationId: 'updateUser',
    tag: 'Users',
    summary: "Change a user's names or confirmed flag",
    access: 'tenant',
    pathParams: idParam,
    headers: [idempotencyKey],
    body: { schema: { name: 'UpdateUser', schema: updateUserSchema }, example: { confirmed: true } },
    replies: {
      200: {
        description: 'the user as changed (or, on a replay, as the first request left it)',
        body: user,
        example: { ...ada, confirmed: true, updated_at: '2026-11-24T18:05:10.004200Z' },
        headers: replayed,
      },
    },
    errors: [...ERRORS.userPath, ...ERRORS.idempotencyKey],
  },
  {
    method: 'delete',
    path: '/v1/internal/users/{id}',
    operationId: 'deleteUser',
    tag: 'Users',
    summary: 'Delete a user of the tenant',
    access: 'tenant',
    pathParams: idParam,
    replies: { 204: { description: 'deleted' } },
    errors: ERRORS.userPath,
  },
];
