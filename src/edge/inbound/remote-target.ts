import type { Decision, Snapshot } from '../../core/model.js';
import type { Peers } from '../peers.js';

/** What the rule reads (the runtime has it; the tunnel registry gets it without importing the runtime). */
export interface RemoteTargetNeeds {
  readonly region: string;
  readonly peers: Pick<Peers, 'usable'>;
}

/**
 * The other region whose edge serves this decision, or null to serve here
 * (decide()'s first answer is this region, or that region's edge is not
 * usable). The route stage's rule; open tunnels are held to it too (src/edge/tunnel).
 */
export function remoteTarget(decision: Decision, rt: RemoteTargetNeeds, snapshot: Snapshot): string | null {
  const first = decision.candidates[0]?.region;
  if (first === undefined || first === rt.region || rt.peers.usable(first, snapshot) === null) return null;
  return first;
}
