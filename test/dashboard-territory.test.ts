// Where the dashboard's map says each place's users go: the same home and
// spill as decide() (src/core), split by the home region's dial.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { east, snapshot, west } from '../src/core/test-fixtures.js';
import { Steering, stateCode } from '../web/src/territory.js';

const TEXAS: [number, number] = [-99.3, 31.5];
const IDAHO: [number, number] = [-114.6, 44.4];

const cases = [
  {
    name: 'territory: California to us-west-2, all of it',
    input: { snap: snapshot([east(), west()]), codes: ['US-CA', 'US'], point: null },
    expect: { home: 'us-west-2', reason: 'territory', shares: [['us-west-2', 1]] },
  },
  {
    name: 'no territory: Texas to the nearest region',
    input: { snap: snapshot([east(), west()]), codes: ['US-TX', 'US'], point: TEXAS },
    expect: { home: 'us-east-1', reason: 'nearest', shares: [['us-east-1', 1]] },
  },
  {
    name: 'no territory: Idaho to the nearest region',
    input: { snap: snapshot([east(), west()]), codes: ['US-ID', 'US'], point: IDAHO },
    expect: { home: 'us-west-2', reason: 'nearest', shares: [['us-west-2', 1]] },
  },
  {
    name: 'dial 25 on the home region: three quarters spill to the other',
    input: { snap: snapshot([east({ dial: 25 }), west()]), codes: ['US-NY'], point: null },
    expect: {
      home: 'us-east-1',
      reason: 'territory',
      shares: [
        ['us-west-2', 0.75],
        ['us-east-1', 0.25],
      ],
    },
  },
  {
    name: 'home DOWN: everyone to the other region whatever the dial',
    input: { snap: snapshot([east({ health: 'DOWN' }), west()]), codes: ['US-VA'], point: null },
    expect: { home: 'us-east-1', reason: 'territory', shares: [['us-west-2', 1]] },
  },
  {
    name: 'no location and fallback default: the default region',
    input: { snap: snapshot([east(), west()], { fallback: 'default' }), codes: ['US-TX'], point: TEXAS },
    expect: { home: 'us-east-1', reason: 'default', shares: [['us-east-1', 1]] },
  },
] as const;

for (const c of cases) {
  test(`dashboard territory: ${c.name}`, () => {
    const split = new Steering(c.input.snap).split(
      [...c.input.codes],
      c.input.point ? [...c.input.point] : null,
    );
    assert.ok(split);
    assert.deepEqual(
      {
        home: split.home,
        reason: split.reason,
        shares: split.shares.map((s) => [s.region, Math.round(s.fraction * 100) / 100]),
      },
      c.expect,
    );
  });
}

test('dashboard territory: us-atlas FIPS ids to ISO 3166-2 codes', () => {
  assert.deepEqual(
    ['06', 6, '11', '36', '72', '99', undefined].map((id) => stateCode(id)),
    ['US-CA', 'US-CA', 'US-DC', 'US-NY', 'US-PR', undefined, undefined],
  );
});
