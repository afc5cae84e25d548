// Keyset cursors into the big tenant's pages, obtained through the public API only: the list endpoint
// returns `next_cursor` on every page, so asking once for page N (an OFFSET page, slow when deep, fine
// at set-up) yields the cursor of page N + 1, which the load then requests again and again.
const SETUP_TIMEOUT_MS = 120_000;

export interface CursorSet {
  /** `next_cursor` of each page asked for, in the order of `pages`. */
  readonly cursors: readonly string[];
  /** Milliseconds each OFFSET page took (for the record: how slow deep OFFSET pages are). */
  readonly offsetPageMs: readonly number[];
}

/** `listUrl`: the list endpoint's absolute URL, without a query. */
export async function collectCursors(listUrl: string, tenantId: string, pageSize: number, pages: readonly number[]): Promise<CursorSet> {
  const cursors: string[] = [];
  const offsetPageMs: number[] = [];
  for (const page of pages) {
    const started = Date.now();
    const res = await fetch(`${listUrl}?page_size=${pageSize}&page=${page}`, {
      headers: { 'x-tenant-id': tenantId },
      signal: AbortSignal.timeout(SETUP_TIMEOUT_MS),
    });
    const body = await res.text();
    offsetPageMs.push(Date.now() - started);
    if (res.status !== 200) throw new Error(`cursor set-up: page ${page} answered ${res.status}: ${body.slice(0, 300)}`);
    const next = (JSON.parse(body) as { next_cursor?: unknown }).next_cursor;
    if (typeof next !== 'string' || next === '') {
      throw new Error(`cursor set-up: page ${page} (page_size ${pageSize}) has no next_cursor: ${body.slice(0, 200)}`);
    }
    cursors.push(next);
  }
  return { cursors, offsetPageMs };
}
