// The dashboard's rollout panel and outlier lines in headless Chromium, fed by
// test/cli-rollout-fixture.ts (a FIXTURE of control's API as SPEC14.md specifies it, serving web/dist):
// hidden without a rollout, then a rollback in progress, a rolled-back result with the judgement that
// stopped it, a `global` banner, a done rollout. Screenshots in test-artifacts/dashboard-rollout/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  badRollout,
  FIXTURE_TOKEN,
  GLOBAL_OUTLIER,
  goodRollout,
  OUTLIER,
  rollbackAudit,
  startControlFixture,
} from './cli-rollout-fixture.js';
import { launchChromium } from './helpers/browser.js';
import { requireProgram } from './helpers/programs.js';
import { ensureWebBuilt } from './helpers/web.js';

const ARTIFACTS = join('test-artifacts', 'dashboard-rollout');
// biome-ignore lint/performance/useDomNodeTextContent: the text as shown, with the breaks between table cells
const text = (page: Page, selector: string) => page.$eval(selector, (el) => (el as HTMLElement).innerText);
const visible = (page: Page, selector: string) => page.isVisible(selector);
// The page polls /v1/status every 3 s.
const until = (page: Page, fn: () => boolean) => page.waitForFunction(fn, undefined, { timeout: 15_000 });

test('dashboard: rollout panel and outlier lines follow /v1/status, hidden when absent', {
  timeout: 180_000,
}, async (t) => {
  const chromium = requireProgram(t, 'chromium');
  if (!chromium) return;
  ensureWebBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  const fixture = await startControlFixture({ webDist: 'web/dist' });
  t.after(() => fixture.close());
  const browser = await launchChromium(chromium);
  t.after(() => browser.close());
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

  await page.goto(`${fixture.url}/#token=${FIXTURE_TOKEN}`);
  // The regions' "why" comes from /v1/status: once shown, the status has been rendered.
  await until(page, () => document.querySelector('#regions .why')?.textContent === 'edge reports healthy');
  assert.equal(await visible(page, '#rollout-section'), false, 'no rollout: no panel');
  assert.equal(await visible(page, '#global-banner'), false);
  assert.equal(await visible(page, '#outlier'), false);

  // A rollout of v3 rolling back after its canary failed; us-east-1 evacuated as an outlier.
  fixture.rollout = badRollout()[3];
  fixture.outlier = OUTLIER;
  fixture.audit = rollbackAudit();
  await until(page, () => !(document.querySelector('#rollout-section') as HTMLElement).hidden);
  assert.match(
    await text(page, '#rollout p'),
    /^v3 \(from v1\) · r-fixture-1 · phase rolling-back · wave 1\/2 · by olivia/,
  );
  assert.equal(await text(page, '#rollout .result'), 'running');
  assert.equal(await page.getAttribute('.waves > li[data-wave="1"]', 'class'), 'current');
  assert.match(await text(page, '.waves li[data-region="us-east-1"]'), /us-east-1 v3 · rolling-back/);
  assert.match(await text(page, '.waves li[data-region="us-west-2"]'), /us-west-2 v1 · waiting/);
  const row = await text(page, '.judgements tbody tr.fail');
  assert.match(row, /us-east-1\s+10 %\s+✗ fail/);
  assert.match(row, /error-rate: canary 0\.31 vs baseline 0\.002, p 0\.0001/);
  assert.match(row, /p99: canary 268 vs baseline 118, p < 0\.0001/);
  assert.match(
    await text(page, '#outlier'),
    /^Evacuated as outliers: us-east-1 \(from dial 100 % at .+\): error rate 31 % vs 0\.2 % elsewhere$/,
  );
  const rolloutBox = await page.locator('#rollout-section').boundingBox();
  const mapBox = await page.locator('#map-section').boundingBox();
  assert.ok(rolloutBox && mapBox && rolloutBox.y < mapBox.y, 'a rollout shows above the map');
  await until(page, () => document.querySelectorAll('#audit tbody tr').length === 4);
  const audit = await text(page, '#audit tbody');
  assert.match(audit, /rollout-step\s+v3\s+canary at dial 10: baking 10000 ms/);
  assert.match(audit, /rollout-rollback\s+v3\s+rolled back us-east-1: error-rate/);
  assert.doesNotMatch(
    `${audit}${await text(page, '#charts')}`,
    /undefined/,
    'rollout entries are not read as dial steps',
  );
  await page.screenshot({ path: join(ARTIFACTS, 'rolling-back.png'), fullPage: true });

  // Rolled back; and then every region erring alike: the global banner, nothing evacuated.
  fixture.rollout = badRollout().at(-1)!;
  fixture.outlier = GLOBAL_OUTLIER;
  await until(
    page,
    () => document.querySelector('#rollout .result')?.getAttribute('data-status') === 'rolled-back',
  );
  assert.equal(await text(page, '#rollout .result'), 'rolled back');
  assert.deepEqual(await page.$$eval('.waves > li', (lis) => lis.map((li) => li.className)), [
    'rolled-back',
    'pending',
  ]);
  assert.match(await text(page, '.waves li[data-region="us-east-1"]'), /us-east-1 v1 · done/);
  assert.match(
    await text(page, '#rollout .stopped'),
    /^Why: stopped by the judgement of us-east-1 at dial 10 %: error-rate: canary 0\.31 > baseline 0\.002/,
  );
  await until(page, () => !(document.querySelector('#global-banner') as HTMLElement).hidden);
  assert.match(
    await text(page, '#global-banner'),
    /^Global condition: every region errs alike \(31 %, 30 %\): moving traffic contains nothing \(dials held since .+\)$/,
  );
  assert.equal(await visible(page, '#outlier'), false, 'nothing evacuated: no outlier line');
  await page.screenshot({ path: join(ARTIFACTS, 'rolled-back-global.png'), fullPage: true });

  // A good rollout, done.
  fixture.rollout = goodRollout().at(-1)!;
  fixture.outlier = undefined;
  await until(page, () => document.querySelector('#rollout .result')?.getAttribute('data-status') === 'done');
  assert.equal(await text(page, '#rollout .result'), 'done: every region runs the new version');
  assert.deepEqual(await page.$$eval('.waves > li', (lis) => lis.map((li) => li.className)), [
    'done',
    'done',
  ]);
  assert.equal(await page.$$eval('.judgements tbody tr.pass', (trs) => trs.length), 4);
  assert.equal(await visible(page, '#global-banner'), false);
  await page.screenshot({ path: join(ARTIFACTS, 'done.png'), fullPage: true });

  // Fields gone again (a control without rollouts): the panel hides.
  fixture.rollout = null;
  await until(page, () => (document.querySelector('#rollout-section') as HTMLElement).hidden);
  assert.deepEqual(errors, [], 'no script errors');
});
