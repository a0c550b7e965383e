// serve-browser: tshoot serve's web page in a real browser.
//
// Debian's Chromium, driven by playwright-core (no browser download), against
// `tshoot serve` on a free loopback port with a fresh session store: a
// misspelt search, its did-you-mean, the article, and diagnoses of simulated
// Kerio machines (the answers of tests/cli/test-cli-hosts.sh's CASES) to the
// right cause, with a reload of the session's address half-way. Fails on any
// console error, page error or failed request; axe-core checks the search,
// article, question and conclusion views (no serious or critical violations).
// Screenshots go to the work folder (argv[2]/screenshots).
//
// Environment (set by tests/serve/meson.build): TSHOOT_BIN, TSHOOT_KB,
// TSHOOT_SOURCE_ROOT, TSHOOT_CHROMIUM (the browser meson found). Exit 77
// (skipped) when the browser or node_modules is missing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const SKIP = 77;

function skip(why) {
  console.log('SKIP: ' + why);
  process.exit(SKIP);
}

const BIN = process.env.TSHOOT_BIN;
const KB = process.env.TSHOOT_KB;
const SOURCE = process.env.TSHOOT_SOURCE_ROOT;
const CHROMIUM = process.env.TSHOOT_CHROMIUM || '';
const WORK = process.argv[2];
if (!BIN || !KB || !SOURCE || !WORK) {
  console.log('usage: TSHOOT_BIN=... TSHOOT_KB=... TSHOOT_SOURCE_ROOT=... node test-browser.mjs WORKDIR');
  process.exit(2);
}
if (!CHROMIUM || !fs.existsSync(CHROMIUM)) skip('no Chromium (Debian package chromium); ./run.sh test installs it');

let chromium, axeSource;
try {
  ({ chromium } = require('playwright-core'));
  axeSource = require('axe-core').source;
} catch (e) {
  skip('playwright-core or axe-core is not installed (npm ci --prefix tests/serve/browser; ./run.sh test does it)');
}

let failures = 0, checks = 0;
function check(cond, what) {
  checks++;
  if (cond) console.log('ok - ' + what);
  else { failures++; console.log('FAIL - ' + what); }
  return cond;
}

/* ---------- the server ---------- */

fs.rmSync(WORK, { recursive: true, force: true });
const SHOTS = path.join(WORK, 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--kb', KB,
      '--sessions', path.join(WORK, 'sessions.db')], { cwd: WORK, stdio: ['ignore', 'ignore', 'pipe'] });
    const log = [];
    let port = null, buf = '';
    const timer = setTimeout(() => reject(new Error('tshoot serve did not start:\n' + log.join('\n'))), 30000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        log.push(line);
        const m = line.match(/listening on http:\/\/[^ ]*:(\d+)\//);
        if (m && port === null) port = Number(m[1]);
        if (/serving KB/.test(line) && port !== null) { clearTimeout(timer); resolve({ proc, port, log }); }
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error('tshoot serve exited (' + code + '):\n' + log.join('\n'))); });
  });
}

/* ---------- the machines' answer sets ---------- */

function machines() {
  const src = fs.readFileSync(path.join(SOURCE, 'tests', 'cli', 'test-cli-hosts.sh'), 'utf8');
  const m = src.match(/CASES="([^"]*)"/);
  if (!m) throw new Error('no CASES in tests/cli/test-cli-hosts.sh');
  const out = {};
  for (const line of m[1].trim().split('\n')) {
    const [name, cause, fix, answers, text] = line.split('|');
    out[name] = { name, cause, fix, text, answers: Object.fromEntries(answers.trim().split(/\s+/).map((a) => {
      const i = a.indexOf('='); return [a.slice(0, i), a.slice(i + 1)];
    })) };
  }
  return out;
}

/* ---------- the browser ---------- */

let server;
try {
  server = await startServer();
} catch (e) {
  console.log('FAIL - ' + e.message);
  process.exit(1);
}
const BASE = 'http://127.0.0.1:' + server.port;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tshoot-chromium-'));
const started = Date.now();

const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1200, height: 900 },
  timeout: 60000,
});
context.setDefaultTimeout(15000);
const page = context.pages()[0] || await context.newPage();

// Every console error, page error, failed request and error status fails the
// test, except those a step announces it expects (the 404 of a gone session).
const expected = { statuses: [], consoles: [] };
const problems = [];
let searchesInFlight = 0, maxSearchesInFlight = 0, searches = 0;
page.on('console', (msg) => {
  if (msg.type() !== 'error') return;
  const i = expected.consoles.findIndex((re) => re.test(msg.text()));
  if (i >= 0) { expected.consoles.splice(i, 1); return; }
  problems.push('console error: ' + msg.text());
});
page.on('pageerror', (err) => problems.push('page error: ' + err.message));
page.on('requestfailed', (req) => problems.push('request failed: ' + req.method() + ' ' + req.url() + ' ' + (req.failure() || {}).errorText));
page.on('request', (req) => {
  if (new URL(req.url()).pathname === '/v1/search') {
    searches++; searchesInFlight++;
    maxSearchesInFlight = Math.max(maxSearchesInFlight, searchesInFlight);
  }
});
const searchDone = (req) => { if (new URL(req.url()).pathname === '/v1/search') searchesInFlight--; };
page.on('requestfinished', searchDone);
page.on('requestfailed', searchDone);
page.on('response', (res) => {
  if (res.status() < 400) return;
  const key = res.request().method() + ' ' + new URL(res.url()).pathname + ' ' + res.status();
  const i = expected.statuses.indexOf(key);
  if (i >= 0) { expected.statuses.splice(i, 1); return; }
  problems.push('error status: ' + key);
});

function noProblems(what) {
  check(problems.length === 0, what + ': no console error or failed request' +
        (problems.length ? ' (' + problems.join('; ') + ')' : ''));
  problems.length = 0;
}

async function shot(name) {
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
}

let axeLoaded = false;
async function axe(view) {
  // evaluated through the DevTools protocol: the page's CSP (no inline script) stays in force
  if (!axeLoaded || !(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(axeSource);
    axeLoaded = true;
  }
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of res) if (!bad.includes(v)) console.log('# axe (' + view + ', ' + v.impact + '): ' + v.id + ': ' + v.help);
  check(bad.length === 0, 'axe-core: no serious or critical violation on the ' + view + ' view' +
        (bad.length ? ': ' + JSON.stringify(bad) : ''));
}

// the revision the page shows; after a click, wait until it moves on
async function revision() {
  return Number(await page.locator('#step-body').getAttribute('data-revision'));
}
async function afterChange(before) {
  await page.waitForFunction((r) => {
    const b = document.getElementById('step-body');
    return b && Number(b.getAttribute('data-revision')) > r && !document.body.classList.contains('busy');
  }, before);
}

try {
  /* ----- the page and its headers ----- */
  const res = await page.goto(BASE + '/');
  const csp = (await res.allHeaders())['content-security-policy'] || '';
  check(/script-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp) && /default-src 'self'/.test(csp),
        'the page comes with a strict Content-Security-Policy (' + csp + ')');
  check((await page.locator('#q').count()) === 1 && await page.locator('label[for="q"]').isVisible(),
        'the search box has a visible label');

  /* ----- search as you type, did-you-mean ----- */
  // Typed slower than the debounce while each search takes 600 ms (held back
  // here), searches would overlap if the page did not wait for the one in flight.
  const slow = (route) => setTimeout(() => route.continue().catch(() => {}), 600);
  await page.route('**/v1/search?*', slow);
  await page.locator('#q').click();
  await page.locator('#q').pressSequentially('outlok', { delay: 40 });
  await page.locator('#q').pressSequentially(' kofmsp', { delay: 300 });
  await page.waitForFunction(() => document.getElementById('search-status').textContent !== '' &&
    !document.getElementById('suggestion').hidden &&
    document.getElementById('suggestion-link').textContent !== '' );
  await page.waitForFunction(() => /kofmsp/.test(location.hash));
  await page.unroute('**/v1/search?*', slow);
  const sugg = await page.locator('#suggestion-link').textContent();
  check(sugg === 'outlook kofmsp', 'the misspelt query gets a did-you-mean: ' + sugg);
  check(maxSearchesInFlight === 1 && searches > 1, 'at most one search in flight while typing (' + searches + ' searches for 13 keystrokes, at most ' + maxSearchesInFlight + ' at once)');
  check(searches < 13, 'typing is debounced (' + searches + ' searches for 13 keystrokes)');
  await shot('1-search-misspelt');
  await page.locator('#suggestion-link').click();
  await page.waitForFunction(() => document.getElementById('q').value === 'outlook kofmsp' &&
    document.getElementById('suggestion').hidden && document.querySelectorAll('#results li').length > 0);
  check(page.url().endsWith('#/search?q=outlook%20kofmsp'), 'following the did-you-mean searches it (' + page.url() + ')');
  const marks = await page.locator('#results mark').allTextContents();
  check(marks.length > 0 && marks.every((m) => /outlook|kofmsp/i.test(m)), 'snippets mark the matched words: ' + marks.slice(0, 6).join(', '));
  const firstLink = page.locator('#results li h2 a').first();
  check((await firstLink.getAttribute('href')) === '#/article/kofmsp', 'the Kerio article comes first');
  await axe('search');
  await shot('2-search');
  noProblems('search');

  /* ----- the article ----- */
  await firstLink.click();
  await page.waitForFunction(() => /KOFMSP/.test(document.getElementById('article-title').textContent));
  check(await page.locator('#view-article').isVisible(), 'the article view opens');
  check((await page.locator('#article-symptoms li').count()) > 3, 'the article lists its symptoms');
  check((await page.locator('#article-causes .cause').count()) > 3 && (await page.locator('#article-causes .fix ol li').count()) > 5,
        'the article lists causes with fixes step by step');
  check(await page.evaluate(() => document.activeElement && document.activeElement.id === 'article-title'),
        'the article title takes the focus');
  await axe('article');
  await shot('3-article');
  await page.locator('#article-diagnose').click();
  await page.waitForFunction(() => /^#\/session\/[0-9a-f]{32}$/.test(location.hash) &&
    document.getElementById('step-body').getAttribute('data-kind') === 'ask');
  check(await page.locator('#step-body button.choice').count() > 1, '"Diagnose this problem" on the article starts a diagnosis at its first question');
  await page.goBack();
  await page.waitForFunction(() => !document.getElementById('view-article').hidden &&
    document.getElementById('article-title').textContent !== 'Loading…');
  check(page.url().endsWith('#/article/kofmsp') && /KOFMSP/.test(await page.locator('#article-title').textContent()),
        'the browser\'s Back returns from the diagnosis to the article');
  noProblems('article');

  /* ----- diagnoses ----- */
  const all = machines();
  const runs = ['kofmsp-dll-missing', 'kofmsp-profile-corrupt', 'kofmsp-os-unsupported', 'koff-antivirus'];
  let first = true;
  // and a person who knows nothing and can try nothing, by keyboard only: the inconclusive end
  all['knows-nothing'] = { name: 'knows-nothing', cause: null, fix: null, answers: {}, text: 'outlook hangs on loading profile' };
  runs.push('knows-nothing');
  for (const name of runs) {
    const m = all[name];
    if (!check(m !== undefined, name + ': its answers are known (CASES of tests/cli/test-cli-hosts.sh)')) continue;
    const keys = m.cause === null;
    await page.goto(BASE + '/#/');
    await page.locator('#q').fill(m.text);
    await page.locator('#diagnose').click();
    await page.waitForFunction(() => /^#\/session\/[0-9a-f]{32}$/.test(location.hash) &&
      document.getElementById('step-body').hasAttribute('data-revision'));
    const url = page.url();
    let steps = 0, reloaded = false, backed = false, kind;
    for (;;) {
      kind = await page.locator('#step-body').getAttribute('data-kind');
      if (kind === 'conclude' || kind === 'inconclusive' || steps > 60) break;
      const rev = await revision();
      if (kind === 'ask') {
        const q = await page.locator('#step-body').getAttribute('data-question');
        if (first) {
          // the first question of the first run: focus order, "why are you asking?", the phone layout, axe
          check(await page.evaluate(() => document.activeElement.id === 'step-title'), 'a new step takes the focus (its heading)');
          await page.keyboard.press('Tab');
          check(await page.evaluate(() => document.activeElement.matches('#step-body button.choice')),
                'Tab from the question goes to its first choice');
          await page.locator('#btn-why').click();
          await page.waitForFunction(() => !document.getElementById('why').hidden &&
            document.querySelector('#why h2') !== null);
          check((await page.locator('#why p').textContent()).length > 40, name + ': "why are you asking?" explains ' + q);
          check(await page.locator('#step').getAttribute('aria-live') === 'polite', 'new questions are announced (a live region)');
          check((await page.locator('#causes li .bar-fill').count()) > 3, 'the candidate causes show their probability as bars');
          await axe('question');
          await shot('4-question');
          await page.locator('.skip').press('Enter');
          check(await page.locator('#view-session').isVisible() && page.url() === url &&
                await page.evaluate(() => document.activeElement.id === 'main'),
                'the skip link moves the focus to the content and leaves the session in view');
          await page.setViewportSize({ width: 390, height: 844 });
          const small = await page.evaluate(() => [...document.querySelectorAll('#view-session button:not([hidden])')]
            .filter((b) => b.offsetParent !== null)
            .map((b) => b.getBoundingClientRect())
            .filter((r) => r.height < 44 || r.width < 44).length);
          const wide = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
          check(small === 0 && wide, 'on a phone (390 px): every button is at least 44 px, nothing scrolls sideways');
          await shot('5-question-phone');
          await page.setViewportSize({ width: 1200, height: 900 });
          first = false;
        }
        const value = m.answers[q];
        const button = value === undefined ? null : page.locator('#step-body button.choice[data-value="' + value + '"]');
        if (value !== undefined && !backed && steps === 0) {
          // answer, take it back, and answer again
          await button.click();
          await afterChange(rev);
          await page.locator('#btn-back').click();
          await afterChange(rev + 1);
          check(await page.locator('#step-body').getAttribute('data-question') === q, name + ': "back" returns to ' + q);
          backed = true;
          continue;
        }
        if (value !== undefined && await button.count() === 1) await button.click();
        else if (value !== undefined && await page.locator('#answer-input').count() === 1) {
          await page.locator('#answer-input').fill(value);
          await page.locator('#answer-input').press('Enter');
        } else if (keys) await page.locator('#btn-unknown').press('Enter');
        else await page.locator('#btn-unknown').click();
      } else if (kind === 'fix') {
        const fix = await page.locator('#step-body').getAttribute('data-fix');
        if (keys) await page.locator('#step-body button[data-outcome="could_not_try"]').press('Space');
        else await page.locator('#step-body button[data-outcome="' + (fix === m.fix ? 'worked' : 'did_not_work') + '"]').click();
      } else {
        check(false, name + ': an unknown step kind ' + kind);
        break;
      }
      await afterChange(rev);
      steps++;
      if (!reloaded && steps === 2 && name === runs[0]) {
        // reopen the session's address half-way: the dialogue continues where it was
        const before = { rev: await revision(), say: await page.locator('#step-title').textContent() };
        await page.reload();
        await page.waitForFunction(() => document.getElementById('step-body').hasAttribute('data-revision'));
        check(page.url() === url && await revision() === before.rev &&
              await page.locator('#step-title').textContent() === before.say,
              name + ': reloading the session address continues the dialogue at the same step');
        reloaded = true;
      }
    }
    if (keys) {
      const esc = await page.locator('.escalation p').textContent();
      check(kind === 'inconclusive' && /help desk|support/i.test(esc),
            name + ': by keyboard, "I don\'t know" and "I can\'t do this" end inconclusive with the escalation advice (after ' + steps + ' steps): ' + esc.slice(0, 60));
      await axe('inconclusive');
      await shot('7-inconclusive');
      noProblems(name);
      continue;
    }
    const cause = await page.locator('#step-body').getAttribute('data-cause');
    check(kind === 'conclude' && cause === m.cause, name + ': the diagnosis concludes ' + m.cause + ' (got ' + kind + ' ' + cause + ' after ' + steps + ' steps)');
    await page.locator('.evidence[data-loaded]').waitFor();
    check(await page.locator('.evidence').getAttribute('data-loaded') === 'yes' &&
          (await page.locator('.evidence p').first().textContent()).length > 20, name + ': the conclusion shows its evidence');
    if (name === runs[0]) {
      check(reloaded, name + ': the session address was reloaded half-way');
      await axe('conclusion');
      await shot('6-conclusion');
    }
    noProblems(name);
  }

  /* ----- another tab answers first: the page's stale answer is a 409 ----- */
  await page.goto(BASE + '/#/');
  await page.locator('#q').fill(all['kofmsp-dll-missing'].text);
  await page.locator('#diagnose').click();
  await page.waitForFunction(() => document.getElementById('step-body').getAttribute('data-kind') === 'ask');
  const sid = page.url().split('#/session/')[1];
  const rev0 = await revision();
  const other = await fetch(BASE + '/v1/sessions/' + sid + '/answers', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ unknown: true, revision: rev0 }) });
  check(other.status === 200, 'another client answers the session first (' + other.status + ')');
  expected.statuses.push('POST /v1/sessions/' + sid + '/answers 409');
  await page.locator('#btn-unknown').click();
  await page.waitForFunction((r) => Number(document.getElementById('step-body').getAttribute('data-revision')) > r, rev0);
  check(/moved on/.test(await page.locator('#alert').textContent()) && await revision() === rev0 + 1,
        'a stale answer (409) says so and shows the session as it now stands');
  check(expected.statuses.length === 0, 'the stale answer was a 409');
  expected.consoles.length = 0;
  problems.splice(0, problems.length, ...problems.filter((p) => !/status of 409/.test(p)));
  noProblems('the stale answer');

  /* ----- a session that does not exist ----- */
  expected.statuses.push('GET /v1/sessions/00000000000000000000000000000000 404');
  expected.consoles.push(/status of 404/);
  await page.goto(BASE + '/#/session/00000000000000000000000000000000');
  await page.locator('#view-missing').waitFor({ state: 'visible' });
  check(await page.locator('#missing-new').isVisible(), 'a session that is gone says so and offers a new start');
  await page.locator('#missing-new').click();
  await page.locator('#view-search').waitFor({ state: 'visible' });
  check(await page.evaluate(() => document.activeElement.id === 'q'), 'the new start puts the focus in the search box');
  check(expected.statuses.length === 0, 'the gone session was a 404');
  expected.consoles.length = 0;   // whether Chromium logs the 404 is its business
  noProblems('the gone session');
} catch (e) {
  check(false, 'the browser run: ' + (e && e.stack || e));
  try { await shot('failure'); } catch (e2) { /* the page may be gone */ }
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
  server.proc.removeAllListeners('exit');
  const exited = new Promise((r) => server.proc.on('exit', (code, sig) => r([code, sig])));
  server.proc.kill('SIGTERM');
  const [code] = await exited;
  check(code === 0, 'tshoot serve stops cleanly on SIGTERM (exit ' + code + ')');
}
console.log('# browser part took ' + ((Date.now() - started) / 1000).toFixed(1) + ' s; screenshots in ' + SHOTS);
console.log(checks + ' checks, ' + failures + ' failed');
process.exit(failures ? 1 : 0);
