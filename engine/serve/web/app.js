/* tshoot serve's web page: search as you type, articles, and guided diagnosis
 * over the JSON API v1 (docs/http.md). Plain JavaScript, no framework, no build
 * step. Server text only ever reaches the page through textContent and DOM
 * nodes (never innerHTML), and nothing here is inline, so the strict
 * Content-Security-Policy the server sends holds.
 *
 * Views follow location.hash:
 *   #/ or #/search?q=TEXT   search
 *   #/article/ID            an article
 *   #/session/ID            a diagnosis (reopening the address continues it)
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const DEBOUNCE_MS = 200;

  /* ---------- small DOM helpers ---------- */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k === 'class') node.className = v;
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' ||
               k === 'href' || k === 'type' || k === 'id' || k === 'for' || k === 'tabindex')
        node.setAttribute(k, v === true ? '' : String(v));
      else node[k] = v;
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) { node.replaceChildren(); return node; }

  function pct(p) {
    const v = Math.round(p * 100);
    return (v === 0 && p > 0 ? '<1' : String(v)) + '%';
  }

  function showView(name) {
    for (const v of ['search', 'article', 'session', 'missing'])
      $('view-' + v).hidden = v !== name;
  }

  function alertText(msg) { $('alert').textContent = msg || ''; }

  /* ---------- the API ---------- */

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || ('the server answered ' + status));
      this.status = status;
      this.problem = problem;
    }
  }

  async function api(method, path, body) {
    const opts = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, { detail: 'The server cannot be reached. Check the connection and try again.' });
    }
    if (res.status === 204) return null;
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  /* ---------- search as you type ---------- */

  // At most one search is in flight: while one runs, later keystrokes only
  // note the newest text; when it returns, the newest text is searched if it
  // differs, and a stale answer is never shown.
  const search = { timer: 0, busy: false, sent: null, shown: null, wanted: '' };

  function scheduleSearch(text, now) {
    search.wanted = text;
    clearTimeout(search.timer);
    if (now) runSearch();
    else search.timer = setTimeout(runSearch, DEBOUNCE_MS);
  }

  async function runSearch() {
    const q = search.wanted.trim();
    if (search.busy) return;           // the running one will look again when it ends
    if (q === search.shown) return;
    if (q === '') { renderResults('', null); return; }
    search.busy = true;
    search.sent = q;
    let data = null, err = null;
    try {
      data = await api('GET', '/v1/search?limit=10&q=' + encodeURIComponent(q));
    } catch (e) { err = e; }
    search.busy = false;
    if (search.wanted.trim() === q) {
      if (err) { $('search-status').textContent = 'The search failed: ' + err.message; search.shown = null; }
      else renderResults(q, data);
    } else {
      runSearch();                      // the text changed meanwhile: search the newest
    }
  }

  function marked(text, marks) {
    // marks_utf16 are [start, end) in UTF-16 code units, what String.slice counts
    const frag = document.createDocumentFragment();
    let at = 0;
    const ranges = (marks || []).filter((m) => m[0] >= at && m[1] > m[0]).sort((a, b) => a[0] - b[0]);
    for (const [s, e] of ranges) {
      if (s < at || e > text.length) continue;
      if (s > at) frag.append(text.slice(at, s));
      frag.append(el('mark', { text: text.slice(s, e) }));
      at = e;
    }
    if (at < text.length) frag.append(text.slice(at));
    return frag;
  }

  function renderResults(q, data) {
    search.shown = q;
    const list = clear($('results'));
    const status = $('search-status');
    $('intro').hidden = q !== '';
    $('suggestion').hidden = true;
    if (q === '' || !data) { status.textContent = ''; return; }
    if (location.hash.startsWith('#/search') || location.hash === '' || location.hash === '#/')
      history.replaceState(null, '', '#/search?q=' + encodeURIComponent(q));
    if (data.suggestion && data.suggestion !== q) {
      const link = $('suggestion-link');
      link.textContent = data.suggestion;
      link.setAttribute('href', '#/search?q=' + encodeURIComponent(data.suggestion));
      $('suggestion').hidden = false;
    }
    const n = data.results.length;
    status.textContent = n === 0 ? 'No article matches. Diagnose can still ask you questions.'
      : n + (n === 1 ? ' article matches.' : ' articles match.');
    for (const r of data.results) {
      list.append(el('li', { class: 'result' },
        el('h2', {}, el('a', { href: '#/article/' + encodeURIComponent(r.article), text: r.title })),
        el('p', { class: 'snippet' }, marked(r.snippet || '', r.marks_utf16))));
    }
  }

  /* ---------- articles ---------- */

  function fixBlock(fix, headingTag) {
    const facts = [];
    if (fix.risk) facts.push('risk: ' + fix.risk);
    if (fix.needs_admin) facts.push('needs an administrator');
    if (fix.reversible === false) facts.push('cannot be undone');
    return el('div', { class: 'fix' },
      el(headingTag, { text: fix.title }),
      el('ol', { class: 'steps' }, ...(fix.steps || []).map((s) => el('li', { text: s }))),
      fix.verify ? el('p', { class: 'verify' }, el('strong', { text: 'Check: ' }), fix.verify) : null,
      el('p', { class: 'facts', text: facts.join(' · ') }));
  }

  let articleShown = null;

  async function showArticle(id) {
    showView('article');
    const title = $('article-title');
    title.textContent = 'Loading…';
    clear($('article-symptoms')); clear($('article-causes'));
    $('article-summary').textContent = '';
    const q = search.shown || $('q').value.trim();
    $('article-back').setAttribute('href', q ? '#/search?q=' + encodeURIComponent(q) : '#/');
    let a;
    try {
      a = await api('GET', '/v1/articles/' + encodeURIComponent(id));
    } catch (e) {
      title.textContent = 'This article cannot be shown';
      $('article-summary').textContent = e.message;
      return;
    }
    articleShown = a;
    document.title = a.title + ' · tshoot';
    title.textContent = a.title;
    $('article-summary').textContent = a.summary || '';
    for (const s of a.symptoms || []) {
      $('article-symptoms').append(el('li', {},
        s.kind === 'error' ? el('span', { class: 'tag', text: 'error' + (s.code ? ' ' + s.code : '') }) : null,
        s.kind === 'error' ? ' ' : null,
        s.text));
    }
    for (const c of a.causes || []) {
      const box = el('section', { class: 'cause' },
        el('h3', { text: c.title }),
        c.explanation ? el('p', { text: c.explanation }) : null);
      for (const f of c.fixes || []) box.append(fixBlock(f, 'h4'));
      $('article-causes').append(box);
    }
    title.focus();
  }

  /* ---------- diagnosis ---------- */

  let session = null;          // the last session the server sent
  let pending = false;         // a change is on its way: the buttons wait
  let sessionCache = null;     // a session just made, for the route to show

  async function startSession(text) {
    alertText('');
    setBusy(true);
    try {
      const s = await api('POST', '/v1/sessions', text ? { text } : {});
      session = null;
      sessionCache = s;                      // the route renders it without a second GET
      location.hash = '#/session/' + s.id;
    } catch (e) {
      alertText('The diagnosis could not start: ' + e.message);
    } finally {
      setBusy(false);
    }
  }

  async function openSession(id) {
    showView('session');
    if (sessionCache && sessionCache.id === id) {
      const s = sessionCache; sessionCache = null;
      renderSession(s, true);
      return;
    }
    try {
      renderSession(await api('GET', '/v1/sessions/' + encodeURIComponent(id)), true);
    } catch (e) {
      if (e.status === 404 || e.status === 410) {
        showView('missing');
        $('missing-title').focus();
      } else {
        alertText('The diagnosis cannot be loaded: ' + e.message);
      }
    }
  }

  function setBusy(b) {
    pending = b;
    document.body.classList.toggle('busy', b);
    for (const btn of document.querySelectorAll('#view-session button, #diagnose, #article-diagnose'))
      if (b) btn.setAttribute('aria-disabled', 'true'); else btn.removeAttribute('aria-disabled');
  }

  async function change(method, path, body) {
    if (pending || !session) return;
    alertText('');
    setBusy(true);
    try {
      const b = Object.assign({ revision: session.revision }, body || {});
      renderSession(await api(method, '/v1/sessions/' + session.id + path, b), true);
    } catch (e) {
      if (e.status === 409 && e.problem && e.problem.revision !== undefined) {
        alertText('This diagnosis moved on elsewhere (another tab?). Here is where it stands now.');
        try { renderSession(await api('GET', '/v1/sessions/' + session.id), true); } catch (e2) { /* keep */ }
      } else if (e.status === 404 || e.status === 410) {
        showView('missing');
        $('missing-title').focus();
      } else {
        alertText(e.message);
      }
    } finally {
      setBusy(false);
    }
  }

  const answer = (body) => change('POST', '/answers', body);

  function choiceButtons(q) {
    const group = el('div', { class: 'choices', role: 'group', 'aria-labelledby': 'step-title' });
    for (const c of q.choices || []) {
      group.append(el('button', {
        type: 'button', class: 'choice', 'data-value': c.value, text: c.label,
        on: { click: () => answer({ question: q.id, value: c.value }) },
      }));
    }
    return group;
  }

  function valueForm(q) {
    const id = 'answer-input';
    const hint = q.type === 'version' ? 'a version, e.g. 10.0.7348'
      : q.type === 'number' ? 'a number' + (q.unit ? ' (' + q.unit + ')' : '') : 'your answer';
    const input = el('input', { id, type: 'text', required: true, autocomplete: 'off', 'data-question': q.id });
    if (q.type === 'number') input.inputMode = 'decimal';
    return el('form', {
      class: 'value-form',
      on: { submit: (ev) => { ev.preventDefault(); if (input.value.trim()) answer({ question: q.id, value: input.value.trim() }); } },
    }, el('label', { for: id, text: 'Your answer: ' + hint }),
    el('div', { class: 'search-row' }, input, el('button', { type: 'submit', class: 'primary', text: 'Answer' })));
  }

  const OUTCOMES = [
    ['worked', 'It worked', 'primary'],
    ['did_not_work', 'It did not work', ''],
    ['could_not_try', 'I can\'t do this', ''],
    ['skipped', 'Skip', 'quiet'],
  ];

  function renderStep(s) {
    const step = s.step;
    const body = clear($('step-body'));
    const title = $('step-title');
    for (const a of ['data-question', 'data-fix', 'data-cause']) body.removeAttribute(a);
    body.setAttribute('data-kind', step.kind);
    body.setAttribute('data-revision', String(s.revision));
    title.textContent = step.say;
    $('btn-why').hidden = step.kind !== 'ask';
    $('btn-back').disabled = (s.answers || []).length === 0 && (s.fixes || []).length === 0;

    if (step.kind === 'ask') {
      const q = step.question;
      body.setAttribute('data-question', q.id);
      if (q.prompt && q.prompt !== step.say) body.append(el('p', { class: 'prompt', text: q.prompt }));
      if ((q.choices || []).length) body.append(choiceButtons(q));
      else body.append(valueForm(q));
      body.append(el('p', {}, el('button', {
        type: 'button', id: 'btn-unknown', class: 'quiet',
        text: 'I don\'t know', on: { click: () => answer({ question: q.id, unknown: true }) },
      })));
    } else if (step.kind === 'fix') {
      body.setAttribute('data-fix', step.fix.id);
      body.append(el('p', { class: 'cause-line' }, 'Likely cause: ', el('strong', { text: step.cause.title }),
        ' (' + pct(step.cause.probability) + ' likely)'));
      body.append(fixBlock(step.fix, 'h2'));
      const row = el('div', { class: 'choices outcomes', role: 'group', 'aria-label': 'Did this fix work?' });
      for (const [outcome, label, cls] of OUTCOMES) {
        row.append(el('button', {
          type: 'button', class: 'choice ' + cls, 'data-outcome': outcome, text: label,
          on: { click: () => change('POST', '/fixes/' + encodeURIComponent(step.fix.id), { outcome }) },
        }));
      }
      body.append(row);
    } else if (step.kind === 'conclude') {
      body.setAttribute('data-cause', step.cause.id);
      if (step.cause.id !== 'none') {
        body.append(el('h2', { class: 'conclusion', text: step.cause.title }));
        if (step.explanation) body.append(el('p', { text: step.explanation }));
        if ((step.fixes || []).length) {
          body.append(el('h2', { text: 'Fixes, in the order to try them' }));
          for (const f of step.fixes) body.append(fixBlock(f, 'h3'));
        }
      }
      const ev = el('section', { class: 'evidence', 'aria-labelledby': 'evidence-title' },
        el('h2', { id: 'evidence-title', text: 'The evidence' }), el('p', { text: 'Loading…' }));
      body.append(ev);
      loadEvidence(s, ev);
    } else if (step.kind === 'inconclusive') {
      body.setAttribute('data-cause', step.cause ? step.cause.id : '');
      if (step.cause && step.cause.id !== 'none')
        body.append(el('p', {}, 'The best candidate, without the evidence to be sure: ',
          el('strong', { text: step.cause.title }), ' (' + pct(step.cause.probability) + ')'));
      body.append(el('section', { class: 'escalation', 'aria-labelledby': 'esc-title' },
        el('h2', { id: 'esc-title', text: 'What to do now' }),
        el('p', { text: step.escalation || 'Ask your support team, and tell them what you answered here.' })));
    }
  }

  async function loadEvidence(s, box) {
    let how;
    try {
      how = await api('GET', '/v1/sessions/' + s.id + '/how');
    } catch (e) {
      box.lastChild.textContent = 'The evidence cannot be shown: ' + e.message;
      box.setAttribute('data-loaded', 'error');
      return;
    }
    if (!session || session.id !== s.id || session.revision !== s.revision) return;
    box.lastChild.remove();
    box.setAttribute('data-loaded', 'yes');
    box.append(el('p', { text: how.text }));
    const items = (how.items || []).filter((i) => i.detail);
    if (items.length) {
      box.append(el('ul', { class: 'items' }, ...items.map((i) => el('li', {},
        i.detail, i.factor !== 1 ? el('span', { class: 'factor', text: ' (×' + Number(i.factor.toPrecision(3)) + ')' }) : null))));
    }
  }

  function renderCauses(s) {
    const list = clear($('causes'));
    for (const c of (s.causes || []).slice(0, 8)) {
      const bar = el('span', { class: 'bar-fill' });
      bar.style.width = Math.max(0, Math.min(100, c.probability * 100)).toFixed(1) + '%';
      list.append(el('li', { 'data-cause': c.id },
        el('span', { class: 'cause-title', text: c.id === 'none' ? 'None of the known causes' : c.title }),
        el('span', { class: 'bar', 'aria-hidden': 'true' }, bar),
        el('span', { class: 'cause-p', text: pct(c.probability) })));
    }
  }

  function renderAnswers(s) {
    const list = clear($('answers'));
    for (const a of s.answers || []) {
      if (a.source !== 'user' && a.source !== 'text') continue;
      list.append(el('li', {}, el('span', { class: 'a-q', text: a.prompt || a.question }), ' ',
        el('strong', { text: a.label || (a.value === null ? 'I don\'t know' : a.value) })));
    }
    for (const f of s.fixes || [])
      list.append(el('li', {}, el('span', { class: 'a-q', text: f.title || f.fix }), ' ',
        el('strong', { text: (f.outcome || '').replace(/_/g, ' ') })));
    $('answers-box').hidden = list.childElementCount === 0;
  }

  function renderSession(s, moveFocus) {
    session = s;
    showView('session');
    hideWhy();
    document.title = 'Diagnosis · tshoot';
    renderStep(s);
    renderCauses(s);
    renderAnswers(s);
    if (moveFocus) $('step-title').focus();
  }

  function hideWhy() {
    $('why').hidden = true;
    clear($('why'));
    $('btn-why').setAttribute('aria-expanded', 'false');
  }

  async function toggleWhy() {
    if (!session) return;
    if (!$('why').hidden) { hideWhy(); return; }
    const box = $('why');
    box.hidden = false;
    $('btn-why').setAttribute('aria-expanded', 'true');
    box.replaceChildren(el('p', { text: 'Loading…' }));
    try {
      const why = await api('GET', '/v1/sessions/' + session.id + '/why');
      box.replaceChildren(el('h2', { text: 'Why this is asked' }), el('p', { text: why.text }));
    } catch (e) {
      box.replaceChildren(el('p', { text: 'No explanation now: ' + e.message }));
    }
  }

  /* ---------- routes ---------- */

  function route() {
    const h = location.hash || '#/';
    if (!h.startsWith('#/')) return;   // an in-page anchor, not a view
    alertText('');
    let m;
    if ((m = h.match(/^#\/session\/([0-9a-fA-F]{1,64})$/))) { openSession(m[1]); return; }
    if ((m = h.match(/^#\/article\/([^/?#]+)$/))) { showArticle(decodeURIComponent(m[1])); return; }
    session = null;
    document.title = 'tshoot: troubleshooting';
    showView('search');
    if ((m = h.match(/^#\/search\?q=(.*)$/))) {
      let q = '';
      try { q = decodeURIComponent(m[1]); } catch (e) { q = ''; }
      if ($('q').value.trim() !== q) { $('q').value = q; }
      scheduleSearch(q, true);
    } else if (h === '#/' || h === '#') {
      $('q').value = '';
      scheduleSearch('', true);
    } else if (h.startsWith('#/session/')) {
      showView('missing');
    }
  }

  function init() {
    const q = $('q');
    // the skip link moves the focus without touching the address (which names the view)
    document.querySelector('.skip').addEventListener('click', (ev) => { ev.preventDefault(); $('main').focus(); });
    q.addEventListener('input', () => {
      // leaving an article or a session for the search keeps its address in the history
      if ($('view-search').hidden) { showView('search'); history.pushState(null, '', '#/'); session = null; }
      scheduleSearch(q.value, false);
    });
    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!pending) startSession(q.value.trim());
    });
    $('article-diagnose').addEventListener('click', () => {
      if (pending) return;
      const text = q.value.trim() || (articleShown ? articleShown.title : '');
      startSession(text);
    });
    $('btn-back').addEventListener('click', () => change('POST', '/back', {}));
    $('btn-why').addEventListener('click', toggleWhy);
    $('btn-new').addEventListener('click', () => { location.hash = '#/'; q.focus(); });
    $('missing-new').addEventListener('click', () => { location.hash = '#/'; q.focus(); });
    window.addEventListener('hashchange', route);
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
