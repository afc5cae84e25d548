// Validates the body of POST /v1/admin/tenants: {"name": "...", "model": "rls" | "schema" | "database",
// "server": "<name>"} (model and server optional) and nothing else. Whether the server exists is the
// catalog's to say (422 unknown_server).
import { BadRequest } from '../errors.js';
import { SERVER_NAME } from '../servers/create-input.js';
import { measureText, TEXT_PROBLEM_MESSAGES } from '../http/text.js';
import { ISOLATION_MODEL_NAMES, isIsolationModelName, type IsolationModelName } from './placement.js';

export const MAX_TENANT_NAME_LENGTH = 100;

export interface CreateTenantInput {
  readonly name: string;
  readonly model?: IsolationModelName;
  readonly server?: string;
}

export function parseCreateTenant(body: unknown): CreateTenantInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('invalid_body', 'the body must be a JSON object like {"name": "acme"}', 'body');
  }
  for (const key of Object.keys(body)) {
    if (key !== 'name' && key !== 'model' && key !== 'server') {
      throw new BadRequest('unknown_field', `unknown field ${JSON.stringify(key)}; only name, model and server are accepted`, key);
    }
  }
  const server: unknown = (body as { server?: unknown }).server;
  if (server !== undefined && (typeof server !== 'string' || !SERVER_NAME.test(server))) {
    throw new BadRequest('invalid_field', 'server must be a server name: a lower-case letter, then up to 39 lower-case letters, digits or _', 'server');
  }
  const model: unknown = (body as { model?: unknown }).model;
  if (model !== undefined && (typeof model !== 'string' || !isIsolationModelName(model))) {
    throw new BadRequest('invalid_field', `model must be one of ${ISOLATION_MODEL_NAMES.join(', ')}`, 'model');
  }
  const name: unknown = (body as { name?: unknown }).name;
  if (name === undefined || name === null) throw invalidName('name is required');
  if (typeof name !== 'string') throw invalidName('name must be a string');
  const length = measureText(name);
  if (typeof length !== 'number') throw invalidName(`name ${TEXT_PROBLEM_MESSAGES[length]}`);
  if (length < 1 || length > MAX_TENANT_NAME_LENGTH || name.trim() === '') {
    throw invalidName(`name must be 1 to ${MAX_TENANT_NAME_LENGTH} characters and not blank`);
  }
  return { name, ...(model === undefined ? {} : { model }), ...(server === undefined ? {} : { server: server as string }) };
}

function invalidName(message: string): BadRequest {
  return new BadRequest('invalid_field', message, 'name');
}
