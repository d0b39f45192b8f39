// Drills one after another on one deployment, again and again: what a soak
// runs (`meridian lab --scenario kong,evacuate,split-brain --repeat-for S`).
import { check, type Drill, type LabControls } from '../chaos/drills/types.js';

/** The lab as a drill sees it in its slot: its clock starts at `offsetS`, and it lasts `slotS`. */
export function inSlot(lab: LabControls, offsetS: number, slotS: number): LabControls {
  return {
    regions: lab.regions,
    target: lab.target,
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
 * `drills` in turn, each in a slot of `slotS` seconds, for as many whole slots as fit in `totalS`:
 * the processes started once live the whole run (a drill that kills a region restarts it).
 * Its one check: every slot ran; what the drills' own checks judge needs a run of its own.
 */
export function repeating(drills: readonly Drill[], slotS: number, totalS: number): Drill {
  const slots = Math.floor(totalS / slotS);
  let ran = 0;
  return {
    name: 'repeat',
    description: `${drills.map((d) => d.name).join(', ')} in turn, ${slotS} s each, ${slots} slots (${slots * slotS} s) on one deployment`,
    cohorts: drills.some((d) => d.cohorts),
    async run(lab) {
      for (let i = 0; i < slots; i++) {
        const drill = drills[i % drills.length];
        lab.mark(`${drill.name} #${Math.floor(i / drills.length) + 1}`);
        await drill.run(inSlot(lab, i * slotS, slotS));
        ran++;
      }
    },
    checks: () => [check('every slot ran', ran === slots, `${ran} of ${slots} slots`)],
  };
}
