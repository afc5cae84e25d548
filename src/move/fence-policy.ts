// When catch-up has done enough to fence: the writes a tenant makes during the fence-to-switch window
// are held, and what that window must still apply is what the last round left behind. So fence once a
// round was small; a tenant writing faster than rounds drain is fenced after a bounded number of rounds
// anyway (the final drain is then larger: the pause grows, the move still ends).
export interface FencePolicy {
  /** A round that applied at most this many changes is small enough to fence after. */
  readonly smallRound: number;
  readonly maxRounds: number;
}

export const DEFAULT_FENCE_POLICY: FencePolicy = { smallRound: 200, maxRounds: 30 };

export function readyToFence(appliedInRound: number, rounds: number, policy: FencePolicy): boolean {
  return appliedInRound <= policy.smallRound || rounds >= policy.maxRounds;
}
