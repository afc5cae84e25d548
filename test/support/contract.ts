// Holds HTTP exchanges to the OpenAPI document the gateway serves: the answer's status must be one the
// operation documents, its content type one of the documented media types, its JSON body valid against
// the documented schema; a path no operation documents may only answer 404 route_not_found. A request
// that succeeded must itself fit the document (its query parameters and JSON body), so the document
// cannot describe a stricter or looser API than the one the suite drives. Counts what it checked, so a
// suite cannot pass by checking nothing.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

// ajv-formats is CommonJS: under NodeNext its function is the module's `default` property.
const addFormats = addFormatsModule.default;

type Json = Record<string, unknown>;

export interface Exchange {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** The JSON body sent, if any. */
  readonly requestJson?: unknown;
  readonly status: number;
  readonly contentType: string | null;
  readonly retryAfter: string | null;
  readonly body: string;
}

export interface Contract {
  /** Throws an Error saying how the exchange departs from the document. */
  check(exchange: Exchange): void;
  /** Exchanges checked, and which `METHOD path status` answers they covered. */
  readonly checked: { count: number; readonly answers: Set<string> };
}

interface Route {
  readonly path: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly operation: Json;
}

export function createContract(document: Json): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi.json');
  const compiled = new Map<string, ValidateFunction>();
  const validator = (pointer: string): ValidateFunction => {
    let v = compiled.get(pointer);
    if (v === undefined) compiled.set(pointer, (v = ajv.compile({ $ref: `openapi.json#${pointer}` })));
    return v;
  };
  const routes = routesOf(document);
  const checked = { count: 0, answers: new Set<string>() };

  const fail = (exchange: Exchange, problem: string): never => {
    throw new Error(`OpenAPI contract: ${exchange.method} ${exchange.url} answered ${exchange.status}: ${problem}\n${exchange.body.slice(0, 500)}`);
  };

  return {
    checked,
    check(exchange) {
      const url = new URL(exchange.url, 'http://gateway');
      const method = exchange.method.toLowerCase();
      const route = routes.find((r) => r.method === method && r.pattern.test(url.pathname));
      if (route === undefined) {
        const body = parseJson(exchange.body);
        const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
        if (exchange.status !== 404 || code !== 'route_not_found') fail(exchange, 'no operation documents this method and path');
        checked.count++;
        checked.answers.add('unmatched 404');
        return;
      }
      const base = `/paths/${escape(route.path)}/${route.method}`;
      const responses = route.operation.responses as Record<string, Json>;
      const response = responses[String(exchange.status)];
      if (response === undefined) fail(exchange, `status ${exchange.status} is not documented (documented: ${Object.keys(responses).join(', ')})`);
      const content = (response as Json).content as Record<string, Json> | undefined;
      if (content === undefined) {
        if (exchange.body !== '') fail(exchange, 'the document says this answer has no body');
      } else {
        const essence = (exchange.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        const media = Object.keys(content).find((m) => m === essence || m === '*/*');
        if (media === undefined) fail(exchange, `content type ${exchange.contentType} is not documented (${Object.keys(content).join(', ')})`);
        if (media === 'application/json') {
          const validate = validator(`${base}/responses/${exchange.status}/content/${escape(media)}/schema`);
          if (!validate(parseJson(exchange.body) ?? fail(exchange, 'the body is not JSON'))) fail(exchange, ajv.errorsText(validate.errors));
        }
      }
      if ((exchange.status === 503 || exchange.status === 429) && exchange.retryAfter === null) fail(exchange, 'Retry-After is documented but missing');
      if (exchange.status >= 200 && exchange.status < 300) checkRequest(exchange, url, route, base, validator, fail);
      checked.count++;
      checked.answers.add(`${method.toUpperCase()} ${route.path} ${exchange.status}`);
    },
  };
}

/** A successful request's query parameters and JSON body must fit what the document says it takes. */
function checkRequest(
  exchange: Exchange,
  url: URL,
  route: Route,
  base: string,
  validator: (pointer: string) => ValidateFunction,
  fail: (exchange: Exchange, problem: string) => never,
): void {
  const parameters = ((route.operation.parameters ?? []) as Json[]).filter((p) => p.in === 'query');
  for (const [name, text] of url.searchParams) {
    const index = parameters.findIndex((p) => p.name === name);
    if (index < 0) fail(exchange, `the request's query parameter ${name} is not documented, yet it was accepted`);
    const all = (route.operation.parameters as Json[]).indexOf(parameters[index] as Json);
    const validate = validator(`${base}/parameters/${all}/schema`);
    if (!validate(coerce(text, (parameters[index] as Json).schema as Json))) {
      fail(exchange, `the request's ${name}=${text} was accepted, but the document refuses it: ${JSON.stringify(validate.errors)}`);
    }
  }
  if (exchange.requestJson !== undefined && route.operation.requestBody !== undefined) {
    const validate = validator(`${base}/requestBody/content/application~1json/schema`);
    if (!validate(exchange.requestJson)) {
      fail(exchange, `the request body was accepted, but the document refuses it: ${JSON.stringify(validate.errors)}`);
    }
  }
}

/** A query value as the type its schema declares (query strings carry text only). */
function coerce(text: string, schema: Json): unknown {
  if (schema.type === 'integer' && /^\d+$/.test(text)) return Number(text);
  if (schema.type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function routesOf(document: Json): Route[] {
  const routes: Route[] = [];
  for (const [path, item] of Object.entries(document.paths as Record<string, Json>)) {
    const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`);
    for (const [method, operation] of Object.entries(item)) routes.push({ path, method, pattern, operation: operation as Json });
  }
  return routes;
}

function escape(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
