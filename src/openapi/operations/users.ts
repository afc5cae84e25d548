// The tenant-facing users API (src/routes/users.ts).
import { createUserSchema } from '../../users/create-input.js';
import { listUsersQuerySchema } from '../../users/list-params.js';
import { userPageSchema, userSchema } from '../../users/response.js';
import type { Operation } from '../operation.js';

const ada = {
  id: '5f0c3a52-8d7e-4b8e-9a51-2f4d6c1e7b90',
  first_name: 'Ada',
  last_name: 'Lovelace',
  confirmed: false,
  created_at: '2026-11-24T17:22:53.182100Z',
  updated_at: '2026-11-24T17:22:53.182100Z',
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
    body: { schema: { name: 'CreateUser', schema: createUserSchema }, example: { first_name: 'Ada', last_name: 'Lovelace' } },
    replies: { 201: { description: 'the user created', body: { name: 'User', schema: userSchema }, example: ada } },
    errors: ['write_unconfirmed'],
  },
];
