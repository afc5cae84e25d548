// The change listener's position in tenant_events: events applied once each, ids that commit out of
// order still applied, missing ids given up on after a grace period or a margin of later ids.
import { describe, expect, it } from 'vitest';
import { createEventCursor } from '../../src/tenants/event-cursor.js';

function cursorAt(start: bigint, options: { margin?: number; gapGraceMs?: number } = {}) {
  let t = 0;
  const cursor = createEventCursor({ margin: options.margin ?? 100, gapGraceMs: options.gapGraceMs ?? 1000, now: () => t });
  cursor.start(start);
  return { cursor, advance: (ms: number) => (t += ms) };
}

const ids = (...n: number[]): bigint[] => n.map(BigInt);

describe('event cursor', () => {
  it('applies consecutive ids once and moves its floor over them', () => {
    const { cursor } = cursorAt(10n);
    expect(cursor.accept(ids(11, 12, 13))).toEqual(ids(11, 12, 13));
    expect(cursor.floor()).toBe(13n);
    expect(cursor.accept(ids(12, 13, 14))).toEqual(ids(14));
    expect(cursor.floor()).toBe(14n);
  });

  it('ignores ids at or below where it started', () => {
    const { cursor } = cursorAt(10n);
    expect(cursor.accept(ids(9, 10, 11))).toEqual(ids(11));
  });

  it('waits at a missing id, so an event committed late with a lower id is still applied, once', () => {
    const { cursor, advance } = cursorAt(10n);
    expect(cursor.accept(ids(11, 13, 14))).toEqual(ids(11, 13, 14));
    expect(cursor.floor()).toBe(11n);
    expect(cursor.pendingGaps()).toBe(1);
    advance(500);
    // The next read starts at the floor: 13 and 14 come again and are not applied again.
    expect(cursor.accept(ids(12, 13, 14))).toEqual(ids(12));
    expect(cursor.floor()).toBe(14n);
    expect(cursor.pendingGaps()).toBe(0);
  });

  it('gives up on a missing id after the grace period (its transaction rolled back)', () => {
    const { cursor, advance } = cursorAt(10n, { gapGraceMs: 1000 });
    cursor.accept(ids(11, 13));
    advance(999);
    expect(cursor.accept(ids(13))).toEqual([]);
    expect(cursor.floor()).toBe(11n);
    advance(1);
    expect(cursor.accept(ids(13))).toEqual([]);
    expect(cursor.floor()).toBe(13n);
    // Too late now: an id below the floor is not applied.
    expect(cursor.accept(ids(12, 14))).toEqual(ids(14));
  });

  it('gives up on missing ids more than the margin below the highest applied one', () => {
    const { cursor } = cursorAt(0n, { margin: 10, gapGraceMs: 60_000 });
    cursor.accept(ids(2, 30));
    expect(cursor.floor()).toBe(20n);
    expect(cursor.pendingGaps()).toBe(9);
    // A huge jump (an id taken far ahead) never makes it track more than the margin.
    cursor.accept([1_000_000_000n]);
    expect(cursor.floor()).toBe(999_999_990n);
    expect(cursor.pendingGaps()).toBe(9);
  });

  it('never moves past the highest id it has read', () => {
    const { cursor, advance } = cursorAt(5n, { gapGraceMs: 0 });
    cursor.accept(ids(6, 9));
    advance(10_000);
    cursor.accept([]);
    expect(cursor.floor()).toBe(9n);
  });

  it('with no grace at all, a missing id is given up on at once', () => {
    const { cursor } = cursorAt(5n, { gapGraceMs: 0 });
    expect(cursor.accept(ids(7))).toEqual(ids(7));
    expect(cursor.floor()).toBe(7n);
  });
});
