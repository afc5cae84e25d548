// Holds HTTP exchanges to the OpenAPI document the gateway serves: the answer's status must be one the
// operation documents, its content type one of the documented media types, its JSON body valid against
// the documented schema, its headers those the document names for it (valid, and present where
// required); a path no operation documents may only answer 404 route_not_found, and a documented path
// asked with a method it does not list may only answer 405 method_not_allowed with an Allow header
// naming exactly the methods the document lists for it. A request that succeeded must itself fit the
// document (its query parameters, header parameters and JSON body), so the document cannot describe a
// stricter or looser API than the one the suite drives. Counts what it checked, so a suite cannot pass
// by checking nothing.
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
  /** The answer's headers, names in lower case (as fetch's Headers gives them). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The request's headers, names in lower case. */
  readonly requestHeaders?: Readonly<Record<string, string>>;
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
  const policed = policedHeaders(document);
  const checked = { count: 0, answers: new Set<string>() };

  const fail = (exchange: Exchange, problem: string): never => {
    throw new Error(`OpenAPI contract: ${exchange.method} ${exchange.url} answered ${exchange.status}: ${problem}\n${exchange.body.slice(0, 500)}`);
  };

  return {
    checked,
    check(exchange) {
      const url = new URL(exchange.url, 'http://gateway');
      const method = exchange.method.toLowerCase();
      // HEAD is served by GET's route, without the body (src/http/methods.ts).
      const head = method === 'head';
      const route = routes.find((r) => r.method === (head ? 'get' : method) && r.pattern.test(url.pathname));
      if (route === undefined) {
        const code = (parseJson(exchange.body) as { error?: { code?: unknown } } | undefined)?.error?.code;
        const methods = [...new Set(routes.filter((r) => r.pattern.test(url.pathname)).map((r) => r.method.toUpperCase()))];
        if (methods.length === 0) {
          if (exchange.status !== 404 || code !== 'route_not_found') fail(exchange, 'no operation documents this method and path');
          checked.count++;
          checked.answers.add('unmatched 404');
          return;
        }
        checkMethodNotAllowed(exchange, methods, validator, fail);
        checked.count++;
        checked.answers.add(`${method.toUpperCase()} ${routes.find((r) => r.pattern.test(url.pathname))?.path ?? ''} 405`);
        return;
      }
      const base = `/paths/${escape(route.path)}/${route.method}`;
      const responses = route.operation.responses as Record<string, Json>;
      const response = responses[String(exchange.status)];
      if (response === undefined) fail(exchange, `status ${exchange.status} is not documented (documented: ${Object.keys(responses).join(', ')})`);
      const content = (response as Json).content as Record<string, Json> | undefined;
      if (head) {
        if (exchange.body !== '') fail(exchange, 'a HEAD answer has no body');
      } else if (content === undefined) {
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
      checkResponseHeaders(
        exchange,
        (response as Json).headers as Record<string, Json> | undefined,
        `${base}/responses/${exchange.status}/headers`,
        policed,
        validator,
        fail,
      );
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
  const declared = (route.operation.parameters ?? []) as Json[];
  for (const [index, parameter] of declared.entries()) {
    if (parameter.in !== 'header') continue;
    const value = exchange.requestHeaders?.[String(parameter.name).toLowerCase()];
    if (value === undefined) {
      if (parameter.required === true) fail(exchange, `the request lacked the required header ${String(parameter.name)}, yet it was accepted`);
      continue;
    }
    const validate = validator(`${base}/parameters/${index}/schema`);
    if (!validate(value))
      fail(exchange, `the request's ${String(parameter.name)}: ${value} was accepted, but the document refuses it: ${JSON.stringify(validate.errors)}`);
  }
  if (exchange.requestJson !== undefined && route.operation.requestBody !== undefined) {
    const validate = validator(`${base}/requestBody/content/application~1json/schema`);
    if (!validate(exchange.requestJson)) {
      fail(exchange, `the request body was accepted, but the document refuses it: ${JSON.stringify(validate.errors)}`);
    }
  }
}

/**
 * A documented path asked with a method it does not list: 405 method_not_allowed as
 * #/components/responses/MethodNotAllowed describes it, Allow naming exactly the documented methods
 * (and HEAD wherever GET is).
 */
function checkMethodNotAllowed(
  exchange: Exchange,
  methods: readonly string[],
  validator: (pointer: string) => ValidateFunction,
  fail: (exchange: Exchange, problem: string) => never,
): void {
  const documented = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
  if (exchange.status !== 405) {
    fail(exchange, `${exchange.method} is not documented for this path (documented: ${methods.join(', ')}); it may only answer 405 method_not_allowed`);
  }
  const validate = validator('/components/responses/MethodNotAllowed/content/application~1json/schema');
  if (exchange.method.toUpperCase() === 'HEAD') {
    if (exchange.body !== '') fail(exchange, 'a HEAD answer has no body');
  } else if (!validate(parseJson(exchange.body) ?? fail(exchange, 'the body is not JSON')))
    fail(exchange, `not a method_not_allowed error: ${JSON.stringify(validate.errors)}`);
  const allow = exchange.headers?.allow;
  if (allow === undefined) fail(exchange, 'Allow is documented for 405 but missing');
  const allowed = (allow as string).split(',').map((m) => m.trim().toUpperCase());
  if ([...allowed].sort().join(', ') !== [...documented].sort().join(', ')) {
    fail(exchange, `Allow: ${allow as string} differs from the methods the document lists for this path (${documented.join(', ')})`);
  }
}

/**
 * The answer's headers against the response's `headers`: a documented header must be present when
 * required and fit its schema when present; a header the document names somewhere (an API header, such
 * as Idempotency-Replayed) must not appear on an answer that does not document it.
 */
function checkResponseHeaders(
  exchange: Exchange,
  documented: Record<string, Json> | undefined,
  pointer: string,
  policed: ReadonlySet<string>,
  validator: (pointer: string) => ValidateFunction,
  fail: (exchange: Exchange, problem: string) => never,
): void {
  const headers = exchange.headers ?? {};
  const own = new Map(Object.entries(documented ?? {}).map(([name, header]) => [name.toLowerCase(), [name, header] as const]));
  for (const [lower, [name, header]] of own) {
    if (header.$ref !== undefined) continue; // x-request-id and Retry-After: checked apart.
    const value = headers[lower];
    if (value === undefined) {
      if (header.required === true) fail(exchange, `the header ${name} is documented as required but missing`);
      continue;
    }
    const validate = validator(`${pointer}/${escape(name)}/schema`);
    if (!validate(value)) fail(exchange, `${name}: ${value} does not fit the document: ${JSON.stringify(validate.errors)}`);
  }
  for (const name of Object.keys(headers)) {
    if (policed.has(name) && !own.has(name)) fail(exchange, `the answer carries ${name}, which the document does not name for it`);
  }
}

/** Headers the document gives a schema of its own on some answer (and Allow): they may appear only where documented. */
function policedHeaders(document: Json): Set<string> {
  const names = new Set<string>(['allow']);
  for (const item of Object.values(document.paths as Record<string, Record<string, Json>>)) {
    for (const operation of Object.values(item)) {
      for (const response of Object.values(operation.responses as Record<string, Json>)) {
        for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
          if (header.$ref === undefined) names.add(name.toLowerCase());
        }
      }
    }
  }
  return names;
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
