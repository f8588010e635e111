// Browser test of the firmward web UI, run by e2e/browser_test.go.
//
// Environment: BASE_URL (http://127.0.0.1:PORT), TOKEN (an admin API token),
// OUT_DIR (where screenshots go), CHROMIUM (default /usr/bin/chromium).
//
// It signs in, adds a device (first with a bad MAC address, to see the field
// error), confirms its proposed CPE name (after a refused one), imports a
// CSV file with one bad row (sees the error table, checks that nothing was
// imported), fixes the row, imports again, and checks the new devices in
// the list. Each step leaves a screenshot in OUT_DIR. Any
// failure exits non-zero with a message and a failure screenshot.

import { chromium } from 'playwright-core';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = (process.env.BASE_URL || '').replace(/\/$/, '');
const token = process.env.TOKEN || '';
const outDir = process.env.OUT_DIR || 'test-results';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!base || !token) {
  console.error('ui.mjs: BASE_URL and TOKEN are required');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const profile = mkdtempSync(join(tmpdir(), 'firmward-chromium-'));
const work = mkdtempSync(join(tmpdir(), 'firmward-ui-'));

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function shot(page, name) {
  const path = join(outDir, name + '.png');
  await page.screenshot({ path, fullPage: true });
  console.log('screenshot', path);
}

// deviceRows counts the rows of the device list, all pages of 1000.
async function deviceRows(page) {
  await page.goto(base + '/devices?limit=1000');
  return page.locator('table.devices tbody tr').count();
}

const badCSV = [
  'name,manufacturer,model,firmware_version,category,criticality,exposure,update_mechanism,mac,ip,location',
  'Kitchen plug,Shelly,Plug S,20231107-164738,consumer-smart-home,low,internal,vendor-cloud,e8:db:84:00:00:01,192.168.1.41,Kitchen',
  'Front door lock,Nuki,Smart Lock 3.0,,lokc,high,internal,vendor-cloud,,,Front door',
  'Baby monitor,Nanit,Pro,,camera,high,internet-facing,,e8:db:84:00:00:03,192.168.1.43,Nursery',
  '',
].join('\n');
const fixedCSV = badCSV.replace(',lokc,', ',lock,');

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
// Error statuses of pages are expected (a refused form is a 422); those of
// stylesheets and images, script errors and CSP violations are not.
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push('console: ' + m.text());
});
page.on('response', (r) => {
  if (r.status() >= 400 && r.request().resourceType() !== 'document') problems.push(`${r.status()} for ${r.url()}`);
});
page.on('pageerror', (e) => problems.push('page error: ' + e.message));

let failed = false;
try {
  // 1. Signed out: the dashboard sends us to the sign-in page.
  await page.goto(base + '/');
  check(new URL(page.url()).pathname === '/login', 'expected the sign-in page, got ' + page.url());
  await shot(page, '01-login');

  // A wrong token is refused.
  await page.fill('#token', 'fwt_not-a-real-token');
  await page.click('button[type=submit]');
  await page.getByText('That token is not valid').waitFor();

  // 2. Sign in.
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForURL(base + '/');
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  check(await page.getByText('Start your inventory').isVisible(), 'no empty-state help on an empty dashboard');
  await shot(page, '02-dashboard-empty');

  // 3. Add a device, first with a bad MAC address.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Add device' }).click();
  await page.waitForURL(base + '/devices/new');
  await page.fill('#f-name', 'Living-room camera');
  await page.fill('#f-manufacturer', 'Reolink');
  await page.fill('#f-model', 'E1 Zoom');
  await page.selectOption('#f-category', 'camera');
  await page.selectOption('#f-criticality', 'high');
  await page.selectOption('#f-exposure', 'segmented');
  await page.fill('#f-macs', 'ec:71:db:12:34:5g');
  await page.fill('#f-ips', '192.168.1.60');
  await page.fill('#f-tags', 'living-room; video');
  await page.fill('#f-location', 'Living room');
  await page.getByRole('button', { name: 'Add device' }).click();
  await page.locator('#e-macs').waitFor();
  check((await page.locator('#e-macs').innerText()).includes('not a MAC address'), 'no MAC error next to the field');
  check(await page.inputValue('#f-name') === 'Living-room camera', 'the form lost the name');
  check(await page.inputValue('#f-macs') === 'ec:71:db:12:34:5g', 'the form lost the MAC text');
  await shot(page, '03-form-error');

  await page.fill('#f-macs', 'EC-71-DB-12-34-56');
  await page.getByRole('button', { name: 'Add device' }).click();
  await page.waitForURL(/\/devices\/\d+$/);
  await page.getByText('Added Living-room camera.').waitFor();
  check(await page.locator('.chip', { hasText: 'ec:71:db:12:34:56' }).isVisible(), 'the device page does not show the MAC');
  await shot(page, '04-device');

  // The CPE panel: a name that is not CPE 2.3 is refused beside the field
  // and kept; then the proposed name is confirmed.
  const cpe = page.locator('#cpe');
  check(await cpe.getByRole('heading', { name: 'CPE name' }).isVisible(), 'no CPE panel on the device page');
  await page.check('#cpe-own');
  await page.fill('#cpe-own-text', 'reolink e1 zoom');
  await cpe.getByRole('button', { name: 'Confirm' }).click();
  await page.locator('#cpe .field-error').waitFor();
  check(await page.inputValue('#cpe-own-text') === 'reolink e1 zoom', 'the CPE form lost the typed name');
  await shot(page, '04b-cpe-error');
  const proposed = await page.inputValue('#cpe-opt-0');
  await page.check('#cpe-opt-0');
  await page.locator('#cpe').getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('CPE name set').waitFor();
  check((await page.locator('#cpe').innerText()).includes(proposed), 'the confirmed CPE name is not shown');
  await shot(page, '04c-cpe-confirmed');

  // The device is in the list.
  check(await deviceRows(page) === 1, 'the new device is not the one row of the list');
  check(await page.getByRole('link', { name: 'Living-room camera' }).isVisible(), 'the list does not show the device');

  // 4. Import a CSV file with one bad row.
  const badFile = join(work, 'home-devices.csv');
  writeFileSync(badFile, badCSV);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' }).click();
  await page.waitForURL(base + '/import');
  await page.setInputFiles('#file', badFile);
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByRole('heading', { name: 'Nothing was imported' }).waitFor();
  const report = page.locator('table.report tbody tr');
  check(await report.count() === 1, 'expected one problem row, got ' + await report.count());
  const row = await report.first().innerText();
  check(row.includes('3') && row.includes('lokc'), 'the problem row does not name line 3 and the value: ' + row);
  check((await page.inputValue('#csv')).includes('lokc'), 'the file was not put back into the box');
  await shot(page, '06-import-error');

  // Nothing was imported: check in a second tab, keeping the form.
  const other = await context.newPage();
  check(await deviceRows(other) === 1, 'a refused import changed the device count');
  await other.close();

  // 5. Fix the row in the box and import again.
  await page.fill('#csv', fixedCSV);
  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/devices/);
  await page.getByText('Imported 3 devices.').waitFor();
  for (const name of ['Kitchen plug', 'Front door lock', 'Baby monitor']) {
    check(await page.getByRole('link', { name }).isVisible(), 'imported device not listed: ' + name);
  }
  await shot(page, '07-import-success');
  check(await deviceRows(page) === 4, 'expected 4 devices after the import');
  await shot(page, '05-device-list');

  // 6. The dashboard draws the charts and lists the unknowns.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
  await page.waitForURL(base + '/');
  check(await page.locator('svg.chart[role=img]').count() === 4, 'expected four charts');
  const unknown = page.locator('section.unknown');
  for (const name of ['Front door lock', 'Baby monitor', 'Living-room camera']) {
    check(await unknown.getByRole('link', { name }).count() > 0, 'not listed as unknown: ' + name);
  }
  await shot(page, '08-dashboard');

  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await shot(page, '09-dashboard-mobile');
  await page.setViewportSize({ width: 1280, height: 900 });

  // 7. Upload a release through the form (after a refused wrong hash),
  // then create a draft campaign for it.
  const fw = join(work, 'cam-2.1.swu');
  writeFileSync(fw, 'firmware image for the browser test\n');
  const fwSHA = createHash('sha256').update(readFileSync(fw)).digest('hex');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Releases' }).click();
  await page.getByRole('link', { name: 'Upload a release' }).click();
  await page.fill('#f-manufacturer', 'Acme');
  await page.fill('#f-version', '2.1');
  await page.fill('#f-models', 'Cam 1');
  await page.fill('#f-fixes_cves', 'CVE-2025-1234');
  await page.fill('#f-sha256', '0'.repeat(64));
  await page.setInputFiles('#f-file', fw);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByText('The release was not added.').waitFor();
  await page.fill('#f-sha256', fwSHA);
  await page.setInputFiles('#f-file', fw);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/\/releases\/\d+$/);
  await page.getByText('Release Acme 2.1 added').waitFor();
  check((await page.content()).includes(fwSHA), 'the release page does not show the sha256');
  await shot(page, '10-release');
  await page.getByRole('link', { name: 'New campaign with this release' }).click();
  await page.fill('#f-name', 'browser campaign');
  await page.fill('#f-manufacturer', 'Acme');
  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.waitForURL(/\/campaigns\/\d+$/);
  await page.getByText('created as a draft').waitFor();
  await shot(page, '11-campaign-draft');

  // 8. Sign out.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(base + '/login');
  await page.getByText('You are signed out.').waitFor();

  check(problems.length === 0, 'browser reported problems:\n' + problems.join('\n'));
  console.log('ui.mjs: all steps passed');
} catch (err) {
  failed = true;
  console.error('ui.mjs: FAILED:', err && err.stack ? err.stack : err);
  if (problems.length) console.error(problems.join('\n'));
  try { await shot(page, 'failure'); } catch { /* the browser may be gone */ }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
