// When a move stops catching up and fences the tenant's writes (src/move/fence-policy.ts).
import { describe, expect, it } from 'vitest';
import { readyToFence } from '../../src/move/fence-policy.js';

const policy = { smallRound: 200, maxRounds: 30 };

describe('readyToFence', () => {
  it('fences after a round that applied few changes: the final drain (inside the pause) stays small', () => {
    expect(readyToFence(0, 1, policy)).toBe(true);
    expect(readyToFence(200, 3, policy)).toBe(true);
  });

  it('keeps catching up while rounds are large', () => {
    expect(readyToFence(201, 1, policy)).toBe(false);
    expect(readyToFence(50_000, 29, policy)).toBe(false);
  });

  it('fences after the last allowed round even if the tenant writes faster than rounds drain', () => {
    expect(readyToFence(50_000, 30, policy)).toBe(true);
  });
});
