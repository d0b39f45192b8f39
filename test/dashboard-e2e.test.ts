// The dashboard end to end in headless Chromium: control and both edges run
// as processes with real traffic; an operator evacuates us-east-1 and restores
// it from the page (plan first), a viewer sees no actions. Screenshots are
// saved in test-artifacts/dashboard/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { startDeployment, TOKENS } from './dashboard-deployment.js';
import { launchChromium } from './helpers/browser.js';
import { requireProgram } from './helpers/programs.js';
import { ensureWebBuilt } from './helpers/web.js';

const ARTIFACTS = join('test-artifacts', 'dashboard');
// Full page, except with a dialog open: then the viewport, where the dialog is.
const shot = (page: Page, name: string, fullPage = true) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
const row = (region: string) => `#regions tr[data-region="${region}"]`;

/** Share of traffic in the regions table, 0-100. */
function shareOf(page: Page, region: string) {
  return page.$eval(`${row(region)} td[data-col="share"]`, (td) => Number.parseFloat(td.textContent ?? ''));
}

async function signIn(page: Page, url: string, token: string) {
  await page.goto(url);
  await page.fill('#token', token);
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () =>
      document.querySelectorAll('#map path.place').length >= 50 &&
      document.querySelectorAll('#map .marker').length === 2 &&
      Number((document.querySelector('#charts') as HTMLElement).dataset.points) >= 3,
    undefined,
    { timeout: 60_000 },
  );
}

/** Opens an action with the keyboard, asks for the plan, checks it and confirms. */
async function planAndConfirm(page: Page, action: string, region: string, steps: string, name: string) {
  await page.focus(`${row(region)} button[data-action="${action}"]`);
  // The table updates every second; focus must stay on the button through the updates.
  await page.waitForTimeout(2500);
  assert.equal(
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action),
    action,
    'keyboard focus survives live updates',
  );
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog[open]');
  await page.fill('dialog input[name="steps"]', steps);
  await page.fill('dialog input[name="interval"]', '2');
  assert.ok(
    await page.isDisabled('dialog button[data-action="confirm"]'),
    'no confirming before the plan is shown',
  );
  await page.click('dialog button[data-action="plan"]');
  await page.waitForSelector('dialog .plan');
  const heads = await page.$$eval('dialog .plan thead th', (ths) => ths.map((th) => th.textContent));
  const last = steps.split(',').at(-1);
  assert.ok(heads.includes(`${region} at ${last} %`), `plan has a column per step: ${heads.join(' | ')}`);
  assert.equal(
    await page.$$eval('dialog .plan tbody tr', (trs) => trs.length),
    2,
    'plan projects both regions',
  );
  assert.equal(await page.getAttribute('dialog .plan', 'data-ok'), 'true', 'headroom check passes');
  await shot(page, name, false);
  await page.click('dialog button[data-action="confirm"]');
  await page.waitForSelector('dialog', { state: 'detached' });
}

test('dashboard: map and charts live; operator evacuates and restores with the plan shown; viewer has no actions', {
  timeout: 420_000,
}, async (t) => {
  const chromium = requireProgram(t, 'chromium');
  if (!chromium) return;
  ensureWebBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  const deployment = await startDeployment(ARTIFACTS, 300);
  t.after(() => deployment.close());
  const browser = await launchChromium(chromium);
  t.after(() => browser.close());
  const errors: string[] = [];

  const operator = await browser.context.newPage();
  operator.on('pageerror', (e) => errors.push(e.message));
  await signIn(operator, deployment.controlUrl, TOKENS.operator);
  assert.match((await operator.textContent('#who')) ?? '', /olivia \(operator\)/);
  // Both regions serve their own users before anything moves.
  await operator.waitForFunction(
    () =>
      [...document.querySelectorAll('#regions td[data-col="share"]')].every(
        (td) => Number.parseFloat(td.textContent ?? '') >= 25,
      ),
    undefined,
    { timeout: 60_000 },
  );
  await shot(operator, '01-operator-steady');

  await planAndConfirm(operator, 'evacuate', 'us-east-1', '50,0', '02-evacuate-plan');
  await operator.waitForFunction(
    () =>
      document
        .querySelector('#regions tr[data-region="us-east-1"] td[data-col="dial"]')
        ?.textContent?.startsWith('0 %') &&
      Number.parseFloat(
        document.querySelector('#regions tr[data-region="us-west-2"] td[data-col="share"]')?.textContent ??
          '',
      ) >= 85,
    undefined,
    { timeout: 90_000 },
  );
  await operator.waitForFunction(
    () => /evacuate us-east-1 · done/.test(document.querySelector('#operation')?.textContent ?? ''),
    undefined,
    { timeout: 30_000 },
  );
  await shot(operator, '03-evacuated');

  await planAndConfirm(operator, 'restore', 'us-east-1', '50,100', '04-restore-plan');
  await operator.waitForFunction(
    () =>
      document
        .querySelector('#regions tr[data-region="us-east-1"] td[data-col="dial"]')
        ?.textContent?.startsWith('100 %') &&
      Number.parseFloat(
        document.querySelector('#regions tr[data-region="us-east-1"] td[data-col="share"]')?.textContent ??
          '',
      ) >= 25,
    undefined,
    { timeout: 90_000 },
  );
  assert.ok((await shareOf(operator, 'us-west-2')) <= 75, 'us-west-2 gives the New York users back');
  await operator.waitForFunction(
    () => /restore us-east-1 · done/.test(document.querySelector('#operation')?.textContent ?? ''),
    undefined,
    { timeout: 30_000 },
  );
  await operator.waitForSelector('#audit td:text-is("restore-done")', { timeout: 10_000 });
  const audit = (await operator.textContent('#audit')) ?? '';
  for (const action of ['evacuate', 'evacuate-done', 'restore', 'restore-done'])
    assert.ok(audit.includes(action), `audit shows ${action}`);
  await shot(operator, '05-restored');

  // A dial set directly, plan first: the west's states turn striped on the map.
  await operator.click(`${row('us-west-2')} button[data-action="dial"]`);
  await operator.fill('dialog input[name="dial"]', '50');
  await operator.click('dialog button[data-action="plan"]');
  await operator.waitForSelector('dialog .plan');
  assert.ok(
    (await operator.$$eval('dialog .plan thead th', (ths) => ths.map((th) => th.textContent))).includes(
      'us-west-2 at 50 %',
    ),
  );
  await operator.click('dialog button[data-action="confirm"]');
  await operator.waitForFunction(
    () =>
      document
        .querySelector('#regions tr[data-region="us-west-2"] td[data-col="dial"]')
        ?.textContent?.startsWith('50 %') &&
      [...document.querySelectorAll('#map path.place title')].some((t) =>
        /California: home us-west-2 \(territory\); us-west-2 50 %, us-east-1 50 %/.test(t.textContent ?? ''),
      ),
    undefined,
    { timeout: 30_000 },
  );
  assert.ok((await operator.locator('#map pattern').count()) > 0, 'split states are striped');
  await shot(operator, '05b-dial-50-striped');

  // The token lives in this tab's session storage: a reload keeps it, another tab has to ask.
  await operator.reload();
  await operator.waitForSelector('#dashboard:not([hidden])');

  const viewer = await browser.context.newPage();
  viewer.on('pageerror', (e) => errors.push(e.message));
  await viewer.goto(deployment.controlUrl);
  await viewer.waitForSelector('#login-section:not([hidden])');
  await signIn(viewer, deployment.controlUrl, TOKENS.viewer);
  assert.equal(await viewer.locator('button[data-action]').count(), 0, 'a viewer sees no action buttons');
  assert.ok(await viewer.isHidden('#actions-h'));
  await shot(viewer, '06-viewer');

  await viewer.setViewportSize({ width: 400, height: 900 });
  await viewer.waitForTimeout(500);
  const overflow = await viewer.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 1, `no sideways scrolling of the page at 400 px (overflow ${overflow} px)`);
  await shot(viewer, '07-viewer-narrow');

  assert.deepEqual(errors, [], 'no script errors on the page');
});
