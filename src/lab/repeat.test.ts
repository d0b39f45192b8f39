import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Drill, LabControls } from '../chaos/drills/types.js';
import { runLab } from './index.js';
import { repeating, targetOfCycle } from './repeat.js';

/** A lab whose clock jumps to whatever `at` waits for, recording what the drills did and when. */
function fakeLab() {
  let now = 0;
  const log: string[] = [];
  const lab = {
    regions: ['east', 'west'],
    target: 'east',
    durationS: 999,
    phase: (n: string) => log.push(`${now} phase ${n}`),
    mark: (l: string) => log.push(`${now} mark ${l}`),
    at: async (s: number) => {
      now = Math.max(now, s);
    },
    killRegion: async (r: string) => {
      log.push(`${now} kill ${r}`);
    },
    waitRollout: async (untilS?: number) => {
      log.push(`${now} waitRollout until ${untilS}`);
      return null;
    },
  } as unknown as LabControls;
  return { lab, log };
}

const drill = (name: string): Drill => ({
  name,
  description: name,
  async run(lab) {
    lab.phase(`${name} ${lab.durationS}`);
    await lab.at(lab.durationS / 2);
    await lab.killRegion(lab.target);
    await lab.waitRollout();
    await lab.at(lab.durationS);
  },
  checks: () => [],
});

test('repeating: drills in turn, each in its slot, as many whole slots as fit', async () => {
  const { lab, log } = fakeLab();
  const soak = repeating([drill('a'), drill('b')], 10, 35);
  assert.equal(soak.checks({} as never)[0].pass, false, 'nothing ran yet');
  await soak.run(lab);
  assert.deepEqual(log, [
    '0 mark a #1 (east)',
    '0 phase a 10',
    '5 kill east',
    '5 waitRollout until 10',
    '10 mark b #1 (east)',
    '10 phase b 10',
    '15 kill east',
    '15 waitRollout until 20',
    '20 mark a #2 (west)',
    '20 phase a 10',
    '25 kill west',
    '25 waitRollout until 30',
  ]);
  assert.deepEqual(soak.checks({} as never), [
    { name: 'every slot ran', pass: true, detail: '3 of 3 slots' },
  ]);
});

test('targetOfCycle: each region in turn from the first, for an equal block of cycles', () => {
  const regions = ['east', 'west'];
  const of = (first: string, cycles: number) =>
    Array.from({ length: cycles }, (_, c) => targetOfCycle(regions, first, c, cycles)).join(' ');
  assert.equal(of('east', 10), 'east east east east east west west west west west');
  assert.equal(of('west', 3), 'west west east');
  assert.equal(of('east', 1), 'east', 'one cycle: the configured target');
  assert.equal(targetOfCycle(['a', 'b', 'c'], 'b', 5, 6), 'a', 'three regions: blocks of two, from b');
});

test('repeating: users are split into cohorts when any drill wants them', () => {
  assert.equal(repeating([drill('a'), { ...drill('b'), cohorts: true }], 10, 20).cohorts, true);
  assert.equal(repeating([drill('a')], 10, 20).cohorts, false);
});

test('runLab: a list of scenarios is checked name by name; --repeat-for shorter than a drill is refused', async () => {
  const base = { config: 'examples/two-regions.yaml', report: 'unused', progress: () => {} };
  await assert.rejects(runLab({ ...base, scenario: 'kong,nope' }), /unknown scenario "nope"/);
  await assert.rejects(
    runLab({ ...base, scenario: 'kong,evacuate', durationS: 60, repeatForS: 30 }),
    /--repeat-for must be at least --duration \(60 s\), got 30/,
  );
});

test('repeating with a fixed target: every cycle on the lab target; rotating: blocks of cycles', async () => {
  const targets = async (mode?: 'fixed') => {
    const { lab, log } = fakeLab();
    await repeating([drill('x')], 10, 40, mode).run(lab);
    return log.filter((l) => l.includes(' kill ')).map((l) => l.split(' ').at(-1));
  };
  assert.deepEqual(await targets('fixed'), ['east', 'east', 'east', 'east']);
  assert.deepEqual(await targets(), ['east', 'east', 'west', 'west']);
});
