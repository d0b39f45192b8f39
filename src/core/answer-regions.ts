import type { Decision, Snapshot } from './model.js';
import { isDown } from './spill-plan.js';

/**
 * What an A/AAAA answer lists: `home` is one region's addresses; `home+fallback`
 * is that region's addresses first, then the next usable candidate's, so a
 * client whose cached answer points at a dead front door has somewhere else to go.
 */
export type AnswerPolicy = 'home' | 'home+fallback';

export interface AnswerRegions {
  /** The region answered with: the first candidate that has addresses of the family. */
  region: string;
  /** With `home+fallback`: the region whose addresses follow; null when none qualifies or the policy is `home`. */
  fallback: string | null;
}

/**
 * The regions an answer lists, in order, from a decision. `hasAddresses` says
 * whether a region has addresses of the family asked for. The fallback is the
 * next candidate after the answered region that can take traffic: never DOWN,
 * never dialled to 0 (an evacuated region), and with addresses. Null when no
 * candidate has addresses.
 */
export function answerRegions(
  decision: Decision,
  snapshot: Snapshot,
  policy: AnswerPolicy,
  hasAddresses: (region: string) => boolean,
): AnswerRegions | null {
  const { candidates } = decision;
  let i = 0;
  while (i < candidates.length && !hasAddresses(candidates[i].region)) i++;
  if (i === candidates.length) return null;
  const region = candidates[i].region;
  if (policy === 'home') return { region, fallback: null };
  for (let j = i + 1; j < candidates.length; j++) {
    const id = candidates[j].region;
    const state = snapshot.regions.get(id);
    if (id === region || !state || isDown(state) || state.dial <= 0) continue;
    if (hasAddresses(id)) return { region, fallback: id };
  }
  return { region, fallback: null };
}
