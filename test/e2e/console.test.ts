/**
 * The web console in a real headless Chromium (Debian's `chromium`, driven by puppeteer-core) on the local stack:
 * sign in, a field error at its field, create a trigger, copy its webhook URL, send a test event and watch it reach
 * `succeeded`, open the entry, redeliver; a phone-width screen. Screenshots go to a temporary folder (printed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { apiClient } from '../helpers/api';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
let browser: Browser;
let page: Page;
let shots: string;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
  shots = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-console-shots-'));
  process.stdout.write(`console screenshots: ${shots}\n`);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  await browser
    .defaultBrowserContext()
    .overridePermissions(stack.url, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
  page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  // the refused sign-in (401) and the bad name (400) are answered so on purpose; anything else is a fault
  page.on(
    'console',
    (m) => m.type() === 'error' && !/status of 40[01]\b/.test(m.text()) && consoleErrors.push(m.text()),
  );
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await target?.close();
});

const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
const text = (selector: string) => page.$eval(selector, (el) => (el as any).innerText);
/** waits (polling the DOM) until the page's text contains `s`; the console refreshes itself while entries fly */
const waitForText = (s: string, timeout = 20_000) =>
  page.waitForFunction((t) => (globalThis as any).document.body.innerText.includes(t), { timeout, polling: 200 }, s);

describe('the console', () => {
  let triggerId: string;

  it('is served with a strict CSP and no inline script', async () => {
    const res = await fetch(`${stack.url}/console`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script>(?!<\/script>)|<script(?![^>]*src=)[^>]*>/);
    expect((await fetch(`${stack.url}/console/app.js`)).headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${stack.url}/console/nope.js`)).status).toBe(404);
  });

  it('sign in: one password field labelled "Admin token"; a wrong token is refused; the token is in sessionStorage only', async () => {
    await page.goto(`${stack.url}/console`);
    await page.waitForSelector('#token');
    expect(await page.$eval('label[for=token]', (l) => l.textContent)).toBe('Admin token');
    expect(await page.$eval('#token', (i) => (i as any).type)).toBe('password');
    await page.type('#token', 'wrong-token');
    await page.keyboard.press('Enter');
    await waitForText('That token was not accepted.');
    await shot('01-signin-refused');
    await page.$eval('#token', (i) => ((i as any).value = ''));
    await page.type('#token', stack.adminToken);
    await page.keyboard.press('Enter');
    await waitForText('New trigger');
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('triggerfish.adminToken'))).toBe(
      stack.adminToken,
    );
    expect(await page.evaluate(() => (globalThis as any).localStorage.length)).toBe(0);
    expect((await page.cookies()).length).toBe(0);
    expect(page.url()).not.toContain(stack.adminToken);
  });

  it("create: the API's field error is shown at the field, then the trigger is created and its setup shown", async () => {
    await page.click('a[href="#/new"]');
    await page.waitForSelector('#f-name');
    await page.type('#f-name', 'Web Prod');
    await page.select('#f-provider', 'github');
    await page.$eval(
      '#f-target',
      (t, url) => ((t as any).value = JSON.stringify({ type: 'http', url })),
      `${target.url}/console-deploy`,
    );
    await page.click('button[type=submit]');
    await page.waitForFunction(() =>
      (globalThis as any).document.querySelector('#e-name')?.textContent?.includes('invalid name'),
    );
    expect(await page.$eval('#f-name', (i) => i.getAttribute('aria-invalid'))).toBe('true');
    await shot('02-create-field-error');
    await page.$eval('#f-name', (i) => ((i as any).value = ''));
    await page.type('#f-name', 'web-prod');
    await page.click('button[type=submit]');
    await page.waitForSelector('#webhook-url');
    triggerId = /#\/t\/([a-f0-9]{24})\/setup/.exec(page.url())![1];
    expect(await text('#webhook-url')).toBe(
      `${stack.url}/hooks/github/${triggerId}`.replace(
        'http://',
        (await text('#webhook-url')).startsWith('https') ? 'https://' : 'http://',
      ),
    );
    await shot('03-setup');
  });

  it('copy: the webhook URL reaches the clipboard', async () => {
    const url = await text('#webhook-url');
    await page.click('button[aria-label="Copy the webhook URL"]');
    await waitForText('Copied');
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(url);
  });

  it('send a test event and watch it reach succeeded (the log refreshes itself)', async () => {
    await page.goto(`${stack.url}/console#/t/${triggerId}`);
    await page.waitForSelector('#status-filter');
    const [button] = await page.$$('xpath/.//button[text()="Send test event"]');
    // a test deploys to the real target: the console names it and asks first
    const asked = new Promise<string>((resolve) =>
      page.once('dialog', (d) => {
        resolve(d.message());
        void d.accept();
      }),
    );
    await button.click();
    expect(await asked).toContain(`http target ${target.url}/console-deploy`);
    await page.waitForSelector('#log tbody tr');
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#log tbody tr .status-succeeded'), {
      timeout: 20_000,
      polling: 200,
    });
    await shot('04-log-succeeded');
  });

  it('the status filter narrows the log', async () => {
    await page.select('#status-filter', 'failed');
    await waitForText('No entries.');
    await page.select('#status-filter', 'succeeded');
    await page.waitForSelector('#log tbody tr .status-succeeded');
  });

  it('the entry shows event, attempts and the redacted request; redeliver makes a new entry that succeeds', async () => {
    await page.click('#log tbody tr a');
    await page.waitForSelector('#entry-status');
    await waitForText('Attempts (1)');
    expect(await text('#entry-origin')).toContain('test event');
    const body = await page.evaluate(() => (globalThis as any).document.body.innerText);
    expect(body).toContain('Normalized event');
    expect(body).toContain('[redacted]');
    await shot('05-entry');
    const before = page.url();
    await page.click('#redeliver');
    await page.waitForFunction((u) => (globalThis as any).location.href !== u, {}, before);
    // the new entry's page (it names the old one), refreshing itself until the deploy succeeded
    await page.waitForFunction(
      (old) => {
        const doc = (globalThis as any).document;
        return (
          doc.body.innerText.includes('Redelivery of') &&
          !doc.title.includes(old) &&
          doc.querySelector('#entry-status .status-succeeded')
        );
      },
      { timeout: 20_000, polling: 200 },
      /\/log\/(\w+)$/.exec(before)![1],
    );
    await shot('06-redelivered');
  });

  it('dry run: a pasted payload shows the match result; nothing is logged', async () => {
    const before = (await api.admin('GET', `/admin/triggers/${triggerId}/logs?limit=100`)).body.items.length;
    await page.goto(`${stack.url}/console#/t/${triggerId}`);
    await page.waitForSelector('#dry-payload');
    await page.$eval(
      '#dry-payload',
      (t) => ((t as any).value = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 })),
    );
    await page.type('#dry-headers', 'X-GitHub-Event: ping');
    const [check] = await page.$$('xpath/.//button[text()="Check"]');
    await check.click();
    await page.waitForFunction(() =>
      (globalThis as any).document.querySelector('#dry-result')?.textContent?.includes('Would not deploy'),
    );
    expect((await api.admin('GET', `/admin/triggers/${triggerId}/logs?limit=100`)).body.items.length).toBe(before);
  });

  it("edit: saving a changed description sends only the description (the target's redacted secrets stay stored)", async () => {
    const t = (
      await api.admin('POST', '/admin/triggers', {
        name: 'console-edit',
        provider: 'api',
        match: { image: 'acme/web:v0', tags: { all: true } },
        target: { type: 'http', url: `${target.url}/console-edit`, headers: { 'x-token': 'console-real-token' } },
      })
    ).body;
    await page.goto(`${stack.url}/console#/t/${t.id}/edit`);
    await page.waitForSelector('#f-description');
    expect(await page.$eval('#f-target', (a) => (a as any).value)).toContain('[redacted]');
    const sent = new Promise<string>((resolve) => {
      const seen = (r: any) => {
        if (r.method() !== 'PATCH') return;
        page.off('request', seen);
        resolve(r.postData() ?? '');
      };
      page.on('request', seen);
    });
    await page.type('#f-description', 'edited in the console');
    await page.click('button[type=submit]');
    expect(JSON.parse(await sent)).toEqual({ description: 'edited in the console' });
    await waitForText('Saved');
    const hook = await api.hook(`/hooks/api/${t.id}`, JSON.stringify({ secret_key: t.secret, tag: 'v1' }));
    expect(hook.status).toBe(202);
    await api.waitForLog(t.id, hook.body.log, (e) => e?.status === 'succeeded');
    expect(target.calls.find((c) => c.url === '/console-edit')!.headers['x-token']).toBe('console-real-token');
    // back to web-prod's page (not console-edit's, shown after the save) for the tests that follow
    await page.goto(`${stack.url}/console#/t/${triggerId}`);
    await page.waitForFunction(() => (globalThis as any).document.title.startsWith('web-prod'));
  });

  it('running now: v2 runs, v1 is the good one before it; Roll back (a real button) asks first, naming v1', async () => {
    const t = (
      await api.admin('POST', '/admin/triggers', {
        name: 'console-rollback',
        provider: 'api',
        match: { image: 'acme/api:v0', tags: { all: true } },
        target: { type: 'http', url: `${target.url}/console-rollback` },
      })
    ).body;
    const deployed = () => target.calls.filter((c) => c.url === '/console-rollback').map((c) => JSON.parse(c.body).tag);
    const logs: string[] = [];
    for (const tag of ['v1', 'v2']) {
      const hook = await api.hook(`/hooks/api/${t.id}`, JSON.stringify({ secret_key: t.secret, tag }));
      expect(hook.status).toBe(202);
      expect((await api.waitForLog(t.id, hook.body.log, (e) => e?.status === 'succeeded')).status).toBe('succeeded');
      logs.push(hook.body.log);
    }
    expect(deployed()).toEqual(['v1', 'v2']);
    const rollbackPosts: string[] = [];
    const seen = (r: any) => r.method() === 'POST' && r.url().endsWith('/rollback') && rollbackPosts.push(r.url());
    page.on('request', seen);

    await page.goto(`${stack.url}/console#/t/${t.id}`);
    await page.waitForFunction(
      () =>
        (globalThis as any).document.title.startsWith('console-rollback') &&
        (globalThis as any).document.querySelector('#running-now tbody tr'),
    );
    expect(await page.evaluate(() => (globalThis as any).document.body.innerText)).toContain('Running now');
    const cells = () => page.$$eval('#running-now tbody tr td', (tds) => tds.map((td) => (td as any).innerText));
    const [running, previous, inFlight] = await cells();
    expect(running).toContain('v2');
    expect(previous).toContain('v1');
    expect(inFlight).toBe('–');
    await shot('07a-running-now');

    // by keyboard: a real <button>, focused, and Enter opens the confirmation; dismissing it deploys nothing
    const [rollBack] = await page.$$('xpath/.//*[@id="running-now"]//button[text()="Roll back"]');
    expect(await rollBack.evaluate((b) => b.tagName)).toBe('BUTTON');
    await rollBack.focus();
    expect(await rollBack.evaluate((b) => (globalThis as any).document.activeElement === b)).toBe(true);
    const declined = new Promise<string>((resolve) =>
      page.once('dialog', (d) => {
        resolve(d.message());
        void d.dismiss();
      }),
    );
    await page.keyboard.press('Enter');
    expect(await declined).toContain('Roll back to v1?');
    expect((await api.admin('GET', `/admin/triggers/${t.id}/logs?limit=100`)).body.items).toHaveLength(2);

    // accepted: a new entry (origin rollback, naming v2's entry) that deploys v1 again
    const accepted = new Promise<string>((resolve) =>
      page.once('dialog', (d) => {
        resolve(d.message());
        void d.accept();
      }),
    );
    await rollBack.click();
    expect(await accepted).toContain('Roll back to v1?');
    await page.waitForFunction(() => /\/log\/\w+$/.test((globalThis as any).location.hash));
    const rollbackLog = /\/log\/(\w+)$/.exec(page.url())![1];
    expect(logs).not.toContain(rollbackLog);
    const entry = await api.waitForLog(t.id, rollbackLog, (e) => ['succeeded', 'failed'].includes(e?.status));
    expect(entry).toMatchObject({ status: 'succeeded', origin: 'rollback', rollbackOf: logs[1] });
    expect(entry.event.tag).toBe('v1');
    expect(deployed()).toEqual(['v1', 'v2', 'v1']);
    // the dismissed confirmation sent nothing: the one POST .../rollback is the accepted one
    page.off('request', seen);
    expect(rollbackPosts).toHaveLength(1);
    expect((await api.admin('GET', `/admin/triggers/${t.id}/logs?limit=100`)).body.items).toHaveLength(3);
    // the entry's page refreshes itself until the rollback succeeded; back on the trigger page, v1 runs now
    await page.waitForSelector('#entry-status .status-succeeded', { timeout: 20_000 });
    expect(await text('#entry-origin')).toContain('rollback (a good artifact deployed again)');
    expect(await text('#entry-rollback-of')).toBe(logs[1]);
    await shot('07b-rolled-back');
    await page.click(`a[href="#/t/${t.id}"]`);
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#running-now tbody tr'));
    const [nowRunning, nowPrevious] = await cells();
    expect(nowRunning).toContain('v1');
    expect(nowPrevious).toContain('v2');

    // back to web-prod's page for the tests that follow
    await page.goto(`${stack.url}/console#/t/${triggerId}`);
    await page.waitForFunction(() => (globalThis as any).document.title.startsWith('web-prod'));
  });

  it('disable from the trigger page; the list shows it with its last outcome', async () => {
    const [off] = await page.$$('xpath/.//button[text()="Disable"]');
    await off.click();
    await page.waitForFunction(() => (globalThis as any).document.body.innerText.includes('· disabled ·'));
    await page.goto(`${stack.url}/console#/`);
    // the list page, not the trigger page still shown before it renders
    await page.waitForFunction(
      () =>
        (globalThis as any).document.title.startsWith('Triggers') &&
        (globalThis as any).document.querySelector('tbody tr'),
    );
    const row = await text('tbody tr');
    expect(row).toContain('web-prod');
    expect(row).toContain('no');
    expect(row).toContain('succeeded');
    await shot('07-triggers');
  });

  it('is usable at phone width (no horizontal scrolling of the page)', async () => {
    await page.setViewport({ width: 375, height: 740 });
    await page.goto(`${stack.url}/console#/t/${triggerId}`);
    await page.waitForSelector('#status-filter');
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      375,
    );
    await shot('08-phone');
  });

  it('left no script errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
