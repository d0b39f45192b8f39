// The dashboard on a running `meridian lab --scenario evacuate`: the lab prints
// the dashboard's URL; the page shows the map and the charts with data and the
// shares moving as the lab evacuates us-east-1; an operator then takes over
// from the page (aborts the lab's operation if it still runs) and restores the
// region, plan first. Screenshots in test-artifacts/dashboard-lab/.
// meridian-test: run alone
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium } from './helpers/browser.js';
import { requireProgram } from './helpers/programs.js';
import { ensureWebBuilt } from './helpers/web.js';

const ARTIFACTS = join('test-artifacts', 'dashboard-lab');
// Full page, except with a dialog open: then the viewport, where the dialog is.
const shot = (page: Page, name: string, fullPage = true) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
const cell = (region: string, col: string) => `#regions tr[data-region="${region}"] td[data-col="${col}"]`;
const number = async (page: Page, selector: string) =>
  Number.parseFloat((await page.textContent(selector)) ?? '');

test('dashboard on meridian lab --scenario evacuate', { timeout: 600_000 }, async (t) => {
  const chromium = requireProgram(t, 'chromium');
  if (!chromium) return;
  ensureWebBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  const report = mkdtempSync(join(tmpdir(), 'meridian-lab-dashboard-'));
  const lab = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'lab',
      '--scenario',
      'evacuate',
      '--duration',
      '60',
      '--rate',
      '30',
      '--report',
      report,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  lab.stderr!.pipe(createWriteStream(join(ARTIFACTS, 'lab.stderr.log')));
  const output: string[] = [];
  t.after(async () => {
    if (lab.exitCode === null && lab.signalCode === null) {
      const exited = new Promise((r) => lab.once('exit', r));
      lab.kill('SIGTERM');
      await exited;
    }
    rmSync(report, { recursive: true, force: true });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the lab printed no dashboard URL in 180 s:\n${output.join('\n')}`)),
      180_000,
    );
    lab.once('exit', (code) =>
      reject(new Error(`the lab exited (${code}) before printing the dashboard URL:\n${output.join('\n')}`)),
    );
    createInterface({ input: lab.stdout! }).on('line', (line) => {
      output.push(line);
      const m = /^dashboard: (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const endpoints = JSON.parse(readFileSync(join(report, 'endpoints.json'), 'utf8'));
  assert.equal(new URL(url).origin, new URL(endpoints.control).origin, 'the printed URL is control');

  const browser = await launchChromium(chromium);
  t.after(() => browser.close());
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  await page.goto(url);
  await page.fill('#token', readFileSync(endpoints.tokenFile, 'utf8').trim());
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () =>
      document.querySelectorAll('#map path.place').length >= 50 &&
      document.querySelectorAll('#map .marker').length >= 2 &&
      Number((document.querySelector('#charts') as HTMLElement).dataset.points) >= 3 &&
      [...document.querySelectorAll('#regions td[data-col="share"]')].some(
        (td) => Number.parseFloat(td.textContent ?? '') > 0,
      ),
    undefined,
    { timeout: 180_000 },
  );
  await shot(page, '01-lab-running');

  // The lab evacuates us-east-1 through control: its share falls while the dial steps down.
  const moved = await page
    .waitForFunction(
      ([dial, share]) =>
        /evacuate us-east-1/.test(document.querySelector('#operation')?.textContent ?? '') &&
        Number.parseFloat(document.querySelector(dial)?.textContent ?? '100') < 100 &&
        Number.parseFloat(document.querySelector(share)?.textContent ?? '100') <= 30,
      [cell('us-east-1', 'dial'), cell('us-east-1', 'share')],
      { timeout: 150_000 },
    )
    .then(() => true)
    .catch(() => false);
  await shot(page, '02-lab-evacuating');
  const seen = async (selector: string) =>
    ((await page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();
  assert.ok(
    moved,
    `no evacuation of us-east-1 seen on the dashboard; it showed: operation "${await seen('#operation')}"; ` +
      `regions "${await seen('#regions tbody')}"; lab output: ${output.slice(-3).join(' | ')}`,
  );

  // Take over: stop the lab's operation if it still runs, then restore from the page.
  if (await page.isVisible('#operation button[data-action="abort"]')) {
    await page.click('#operation button[data-action="abort"]');
    const stopped = await page
      .waitForFunction(
        () => /· aborted/.test(document.querySelector('#operation')?.textContent ?? ''),
        undefined,
        {
          timeout: 90_000,
        },
      )
      .then(() => true)
      .catch(() => false);
    await shot(page, '02b-lab-aborted');
    assert.ok(stopped, `the lab's operation was not aborted: ${await page.textContent('#toast')}`);
  }
  await page.click('#regions tr[data-region="us-east-1"] button[data-action="restore"]');
  await page.fill('dialog input[name="steps"]', '100');
  await page.fill('dialog input[name="interval"]', '1');
  await page.fill('dialog input[name="reason"]', 'restored from the dashboard test');
  await page.click('dialog button[data-action="plan"]');
  await page.waitForSelector('dialog .plan, dialog .error', { timeout: 60_000 });
  const refused = await page.$('dialog .error');
  assert.equal(refused && (await refused.textContent()), null, 'control plans the restore');
  assert.equal(
    await page.$$eval('dialog .plan tbody tr', (trs) => trs.length),
    2,
    'the plan projects both regions',
  );
  await shot(page, '03-lab-restore-plan', false);
  await page.click('dialog button[data-action="confirm"]');
  await page.waitForFunction(
    ([dial, share]) =>
      Number.parseFloat(document.querySelector(dial)?.textContent ?? '0') === 100 &&
      Number.parseFloat(document.querySelector(share)?.textContent ?? '0') >= 25,
    [cell('us-east-1', 'dial'), cell('us-east-1', 'share')],
    { timeout: 120_000 },
  );
  assert.ok((await number(page, cell('us-east-1', 'share'))) >= 25);
  await page.waitForSelector('#audit td:text-is("restore")', { timeout: 30_000 });
  await shot(page, '04-lab-restored');
  assert.deepEqual(errors, [], 'no script errors on the page');
});
