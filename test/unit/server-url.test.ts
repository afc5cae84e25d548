// A data server's URL is split into what is stored and shown (no password) and the password, which is
// sealed; joined again, it connects as given. Malformed URLs are a 400 naming `url`, never a crash.
import { describe, expect, it } from 'vitest';
import { BadRequest } from '../../src/errors.js';
import { joinServerUrl, redactUrl, splitServerUrl } from '../../src/servers/server-url.js';

function refusal(raw: string): BadRequest {
  try {
    splitServerUrl(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequest);
    return err as BadRequest;
  }
  throw new Error(`expected ${raw} to be refused`);
}

describe('splitServerUrl', () => {
  it('keeps everything but the password, and returns the password decoded', () => {
    expect(splitServerUrl('postgres://owner:s%40c%3Ar%2Fet@db.internal:5433/tenantgate?sslmode=require')).toEqual({
      publicUrl: 'postgres://owner@db.internal:5433/tenantgate?sslmode=require',
      password: 's@c:r/et',
    });
    expect(splitServerUrl('postgresql://owner@db/tenantgate')).toEqual({ publicUrl: 'postgresql://owner@db/tenantgate', password: '' });
  });

  it('joins back to a URL that carries the same password', () => {
    for (const password of ['s@c:r/et', 'p%zz', 'sp ace', 'é€😀', '#?&=']) {
      const { publicUrl } = splitServerUrl('postgres://owner@db:5432/tenantgate');
      const joined = joinServerUrl(publicUrl, password);
      expect(splitServerUrl(joined)).toEqual({ publicUrl, password });
      expect(decodeURIComponent(new URL(joined).password)).toBe(password);
    }
  });

  it.each([
    ['not a url', 'postgres://'],
    ['http://owner:pw@db/tenantgate', 'postgres://'],
    ['postgres://db/tenantgate', 'user'],
    ['postgres://owner:pw@db', 'database'],
    ['postgres://owner:pw@db/a/b', 'database'],
    ['postgres://owner:pw@db/tenantgate#x', 'fragment'],
    ['postgres://owner:%zz@db/tenantgate', 'percent-escape'],
    ['postgres://owner:pw@db/%zz', 'percent-escape'],
  ])('refuses %s, naming url', (raw, words) => {
    const err = refusal(raw);
    expect(err.field).toBe('url');
    expect(err.message).toContain(words);
    expect(err.message).not.toContain('pw');
  });
});

describe('redactUrl', () => {
  it('removes the password and nothing else', () => {
    expect(redactUrl('postgres://owner:secret@db:5432/tenantgate')).toBe('postgres://owner@db:5432/tenantgate');
    expect(redactUrl('::')).toBe('(not a URL)');
  });
});
