// Drills one after another on one deployment, again and again: what a soak
// runs (`meridian lab --scenario kong,evacuate,split-brain --repeat-for S`).
import { check, type Drill, type LabControls } from '../chaos/drills/types.js';

/** The lab as a drill sees it in its slot: its clock starts at `offsetS`, and it lasts `slotS`. */
export function inSlot(lab: LabControls, offsetS: number, slotS: number, target = lab.target): LabControls {
  return {
    regions: lab.regions,
    target,
    durationS: slotS,
    phase: (name) => lab.phase(name),
    mark: (label) => lab.mark(label),
    at: (seconds) => lab.at(offsetS + seconds),
    killRegion: (r) => lab.killRegion(r),
    restartRegion: (r) => lab.restartRegion(r),
    killOrigins: (r) => lab.killOrigins(r),
    restartOrigins: (r) => lab.restartOrigins(r),
    setOriginFault: (r, f) => lab.setOriginFault(r, f),
    cutLinks: (mode, r) => lab.cutLinks(mode, r),
    evacuate: (r) => lab.evacuate(r),
    restore: (r) => lab.restore(r),
    deploy: (r, v) => lab.deploy(r, v),
    startRollout: (v) => lab.startRollout(v),
    waitRollout: (untilS) => lab.waitRollout(offsetS + (untilS ?? slotS)),
  };
}

/**
 * The target of each cycle (one turn of every drill): the regions in turn from `first`, each for an
 * equal block of consecutive cycles. Blocks, not every other cycle: a region kong kills every other
 * cycle never lives long enough for the soak to judge its memory, while in blocks every region's
 * processes run one long life (the first region's after its block, the others' before theirs).
 */
export function targetOfCycle(
  regions: readonly string[],
  first: string,
  cycle: number,
  cycles: number,
): string {
  const start = Math.max(0, regions.indexOf(first));
  const blocks = Math.min(regions.length, cycles);
  return regions[(start + Math.floor((cycle * blocks) / Math.max(1, cycles))) % regions.length];
}

/**
 * `drills` in turn, each in a slot of `slotS` seconds, for as many whole slots as fit in `totalS`:
 * the processes started once live the whole run (a drill that kills a region restarts it). The
 * drills' target moves across the regions in blocks of cycles (targetOfCycle), so every region's
 * processes are both killed and left to live.
 * Its one check: every slot ran; what the drills' own checks judge needs a run of its own.
 */
export function repeating(
  drills: readonly Drill[],
  slotS: number,
  totalS: number,
  targets: 'rotate' | 'fixed' = 'rotate',
): Drill {
  const slots = Math.floor(totalS / slotS);
  let ran = 0;
  return {
    name: 'repeat',
    description: `${drills.map((d) => d.name).join(', ')} in turn, ${slotS} s each, ${slots} slots (${slots * slotS} s) on one deployment, ${targets === 'fixed' ? 'the target fixed' : 'the target moving across the regions in blocks of cycles'}`,
    cohorts: drills.some((d) => d.cohorts),
    async run(lab) {
      const cycles = Math.ceil(slots / drills.length);
      for (let i = 0; i < slots; i++) {
        const drill = drills[i % drills.length];
        const cycle = Math.floor(i / drills.length);
        const target =
          targets === 'fixed' ? lab.target : targetOfCycle(lab.regions, lab.target, cycle, cycles);
        lab.mark(`${drill.name} #${cycle + 1} (${target})`);
        await drill.run(inSlot(lab, i * slotS, slotS, target));
        ran++;
      }
    },
    checks: () => [check('every slot ran', ran === slots, `${ran} of ${slots} slots`)],
  };
}
