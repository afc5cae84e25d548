// Validates the body of POST /v1/admin/tenants: {"name": "...", "model": "rls" | "schema" | "database"}
// (model optional) and nothing else.
import { BadRequest } from '../errors.js';
import { measureText, TEXT_PROBLEM_MESSAGES } from '../http/text.js';
import { ISOLATION_MODEL_NAMES, isIsolationModelName, type IsolationModelName } from './placement.js';

export const MAX_TENANT_NAME_LENGTH = 100;

export function parseCreateTenant(body: unknown): { name: string; model?: IsolationModelName } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('invalid_body', 'the body must be a JSON object like {"name": "acme"}', 'body');
  }
  for (const key of Object.keys(body)) {
    if (key !== 'name' && key !== 'model') {
      throw new BadRequest('unknown_field', `unknown field ${JSON.stringify(key)}; only name and model are accepted`, key);
    }
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
  return model === undefined ? { name } : { name, model };
}

function invalidName(message: string): BadRequest {
  return new BadRequest('invalid_field', message, 'name');
}
