// Browser test of the first-run wizard and the home "do this now" list,
// run by e2e/wizard_test.go in two phases that share one browser profile
// (so the session survives between them):
//
//   PHASE=wizard: sign in on a fresh server, accept the dashboard's offer,
//     choose home, see the proposed networks (never scanned), tick the
//     TP-Link router (with its firmware version), the Wyze camera and the
//     Ring doorbell from the catalog, type two devices, add a webhook
//     reminder channel (after a refused one) and land on the home
//     dashboard, whose list must not yet say to update the router.
//   PHASE=home: after the test imported a KEV feed and an end-of-support
//     date for the typed D-Link camera, reload the dashboard until
//     matching is done and check that "Update the router …" leads the
//     list with the fixed version, followed by auto-update, guest Wi-Fi
//     and end-of-life items in that order; then open the router's link.
//
// Environment: BASE_URL, TOKEN (admin), OUT_DIR (screenshots), PROFILE (a
// directory for the browser profile), PHASE, CHROMIUM, HOOK_URL (webhook
// URL on loopback). Any failure exits non-zero after a failure screenshot.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const base = (process.env.BASE_URL || '').replace(/\/$/, '');
const token = process.env.TOKEN || '';
const outDir = process.env.OUT_DIR || 'test-results';
const profile = process.env.PROFILE || '';
const phase = process.env.PHASE || '';
const hookURL = process.env.HOOK_URL || 'http://127.0.0.1:9/firmward-hook';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!base || !token || !profile || !['wizard', 'home'].includes(phase)) {
  console.error('wizard.mjs: BASE_URL, TOKEN, PROFILE and PHASE (wizard|home) are required');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function shot(page, name) {
  const path = join(outDir, name + '.png');
  await page.screenshot({ path, fullPage: true });
  console.log('screenshot', path);
}

const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
  deviceScaleFactor: 1,
  colorScheme: 'light',
});
const page = context.pages()[0] || await context.newPage();
const problems = [];
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push('console: ' + m.text());
});
page.on('response', (r) => {
  if (r.status() >= 400 && r.request().resourceType() !== 'document') problems.push(`${r.status()} for ${r.url()}`);
});
page.on('pageerror', (e) => problems.push('page error: ' + e.message));

// todoTitles returns the titles of the "do this now" list, in order.
async function todoTitles() {
  return page.locator('#todo-list .todo-title').allInnerTexts();
}

async function wizard() {
  // Sign in; the empty dashboard offers the setup.
  await page.goto(base + '/');
  await page.waitForURL(/\/login/);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(base + '/');
  await page.getByRole('heading', { name: 'Set up firmward in three steps' }).waitFor();
  await shot(page, 'wizard-01-offer');
  await page.getByRole('link', { name: 'Start the setup' }).click();
  await page.waitForURL(base + '/setup');

  // Step 1: home.
  await page.getByRole('heading', { name: 'Where will you use firmward?' }).waitFor();
  await page.getByLabel(/At home/).check();
  await shot(page, 'wizard-02-mode');
  await page.getByRole('button', { name: 'Next: your devices' }).click();
  await page.waitForURL(base + '/setup?step=devices');

  // Step 2: networks are proposed, none scanned; nothing is submitted to
  // the scan form. Tick catalog devices.
  await page.getByRole('heading', { name: '1. Scan your network' }).waitFor();
  const scanButtons = await page.getByRole('button', { name: 'Scan this network' }).count();
  console.log('scan button shown:', scanButtons > 0);
  // A submit with nothing ticked is refused.
  await page.getByRole('button', { name: 'Add the ticked devices' }).click();
  await page.locator('#wizard-errors').waitFor();
  check((await page.locator('#wizard-errors').innerText()).includes('Tick at least one device'), 'empty catalog pick not refused');
  const pick = async (model, fw) => {
    const row = page.locator('table.wizard-catalog tbody tr', { hasText: model });
    check(await row.count() === 1, `catalog has no single row for ${model}`);
    await row.locator('input[type=checkbox]').check();
    if (fw) await row.locator('input[type=text]').fill(fw);
  };
  await pick('Archer AX21', '1.1.3 Build 20221201 rel.62108');
  await pick('Wyze Cam v3', '4.36.11.5859');
  await pick('Video Doorbell (2nd Gen)', '');
  await shot(page, 'wizard-03-catalog');
  await page.getByRole('button', { name: 'Add the ticked devices' }).click();
  await page.waitForURL(base + '/setup?step=devices');
  await page.getByText('Added 3 devices.').waitFor();
  const added = await page.locator('#added-devices li').allInnerTexts();
  check(added.length === 3, `want 3 devices added, list shows ${added.length}: ${added}`);
  check(added.some((t) => t.includes('Archer AX21') && t.includes('1.1.3 Build 20221201')), 'router not listed with its firmware');

  // Type one device.
  await page.getByLabel('Name').fill('Kitchen speaker');
  await page.getByLabel('Maker').fill('Sonos');
  await page.getByLabel('Model').fill('One SL');
  await page.getByLabel('Kind').selectOption('consumer-smart-home');
  await page.getByRole('button', { name: 'Add this device' }).click();
  await page.getByText('Added Kitchen speaker.').waitFor();
  await page.getByLabel('Name').fill('Garage camera');
  await page.getByLabel('Maker').fill('D-Link');
  await page.getByLabel('Model').fill('DCS-930L');
  await page.getByLabel('Firmware version', { exact: true }).fill('2.16.06');
  await page.getByLabel('Kind').selectOption('camera');
  await page.getByRole('button', { name: 'Add this device' }).click();
  await page.getByText('Added Garage camera.').waitFor();
  check(await page.locator('#added-devices li').count() === 5, 'typed devices not listed');
  await shot(page, 'wizard-04-devices');
  await page.getByRole('link', { name: 'Next: reminders' }).click();
  await page.waitForURL(base + '/setup?step=notify');

  // Step 3: a webhook without URL is refused, then added.
  await page.getByLabel('How').selectOption('webhook');
  await page.getByRole('button', { name: 'Save and finish' }).click();
  await page.locator('#wizard-errors').waitFor();
  await shot(page, 'wizard-05-channel-refused');
  check(await page.getByLabel('How').inputValue() === 'webhook', 'the refused form lost the channel type');
  await page.getByLabel('Name', { exact: true }).fill('Home reminders');
  await page.getByLabel('Webhook or ntfy URL').fill(hookURL);
  await page.getByLabel('Password, token or webhook key').fill('a-long-webhook-secret-for-hmac');
  await page.getByRole('button', { name: 'Save and finish' }).click();
  await page.waitForURL(base + '/');
  await page.getByText('Setup done.').waitFor();

  // The home dashboard: no offer any more, a list from the data.
  check(await page.getByRole('heading', { name: 'Set up firmward in three steps' }).count() === 0, 'setup still offered after finishing');
  await page.getByRole('heading', { name: 'Do this now' }).waitFor();
  const titles = await todoTitles();
  console.log('list before the feed import:\n  ' + titles.join('\n  '));
  check(titles.length > 0, 'empty "do this now" list');
  check(!titles.some((t) => t.startsWith('Update the router')), 'router update listed before any KEV was imported');
  check(titles.some((t) => t.startsWith('Turn on automatic updates') && t.includes('Wyze Cam v3')), 'no auto-update item for the Wyze camera');
  check(titles.some((t) => t.includes('guest Wi-Fi')), 'no guest Wi-Fi item');
  await shot(page, 'wizard-06-home-before-feeds');

  // The wizard is closed now.
  await page.goto(base + '/setup');
  await page.waitForURL(base + '/');
  await page.getByText('Setup is already done').waitFor();
}

async function home() {
  let titles = [];
  for (let i = 0; i < 60; i++) {
    await page.goto(base + '/');
    await page.getByRole('heading', { name: 'Do this now' }).waitFor();
    titles = await todoTitles();
    if (titles.length && titles[0].startsWith('Update the router')) break;
    await page.waitForTimeout(500);
  }
  console.log('list after the feed import:\n  ' + titles.join('\n  '));
  check(titles.length > 0 && titles[0].startsWith('Update the router'), `first item is not "Update the router…": ${titles[0]}`);
  check(titles[0].includes('Archer AX21') && titles[0].includes('1.1.4'), `router item lacks model or fixed version: ${titles[0]}`);
  const eol = titles.findIndex((t) => t.includes('end-of-life camera “Garage camera”'));
  const guest = titles.findIndex((t) => t.includes('guest Wi-Fi'));
  const auto = titles.findIndex((t) => t.startsWith('Turn on automatic updates'));
  check(eol > 0, 'no end-of-life item for the garage camera');
  check(auto > 0 && guest > auto && eol > guest, `order: auto-update ${auto}, guest Wi-Fi ${guest}, end of life ${eol}`);
  check(!titles.some((t) => t.includes('“Garage camera”') && t.includes('guest Wi-Fi')), 'the end-of-life camera is listed twice');
  const why = await page.locator('#todo-list .todo-why').first().innerText();
  check(why.includes('CVE-2023-1389') && why.includes('faces the internet'), `router item's reason: ${why}`);
  await shot(page, 'wizard-07-home-do-this-now');
  await page.locator('#todo-list li').first().getByRole('link').click();
  await page.waitForURL(/\/devices\/\d+$/);
  await page.getByText('CVE-2023-1389').first().waitFor();
  await shot(page, 'wizard-08-router');
}

let failed = false;
try {
  if (phase === 'wizard') await wizard();
  else await home();
  check(problems.length === 0, 'browser problems:\n' + problems.join('\n'));
  console.log(`wizard.mjs ${phase}: ok`);
} catch (e) {
  failed = true;
  console.error(`wizard.mjs ${phase} FAILED:`, e.message);
  try {
    await shot(page, `wizard-failure-${phase}`);
  } catch (e2) {
    console.error('no failure screenshot:', e2.message);
  }
} finally {
  await context.close();
}
process.exit(failed ? 1 : 0);
