// The light touch of JavaScript: the NHS.UK frontend's components (header menu, skip link,
// error summary focus, details) and, on the heatmap, filters that apply as soon as they change.
// Every page works without it.
import { initAll } from './nhsuk-frontend.min.js';

initAll();

for (const form of document.querySelectorAll('form.app-filters')) {
  for (const select of form.querySelectorAll('select')) {
    select.addEventListener('change', () => form.requestSubmit());
  }
}

// The return form: saves itself a moment after each change, and shows or hides conditional
// questions as the server's answer says (the rules live in one place, on the server). Without
// JavaScript, "Save" and "Save and continue" do the same by re-drawing the page.
const form = document.getElementById('return-form');
if (form && window.fetch) {
  const status = document.getElementById('autosave-status');
  // (form.action would be the buttons named "action")
  const url = form.getAttribute('action');
  const pillar = url.split('/').pop();
  let timer = null;
  let inflight = false;
  let again = false;
  let stopped = false;
  // Changes not yet saved (a save pending, running, or refused).
  let dirty = false;
  // The last save was refused (invalid answers, a conflict, an error): not retried on its own.
  let refused = false;
  const say = (text) => { status.textContent = text; };
  const stop = (text) => {
    stopped = true;
    clearTimeout(timer);
    say(text);
  };
  const schedule = (delay) => {
    dirty = true;
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  };
  const apply = (body) => {
    form.elements.version.value = body.version;
    for (const [key, value] of Object.entries(body.orig)) {
      const el = form.elements['orig.' + key];
      if (el) el.value = value;
    }
    for (const [key, on] of Object.entries(body.enabled)) {
      const group = document.getElementById('q-' + key);
      if (group) {
        group.hidden = !on;
        group.dataset.enabled = String(on);
      }
    }
    const mine = body.pillars.find((p) => p.key === pillar);
    const progress = document.getElementById('pillar-progress');
    if (mine && progress) {
      // The same sentence the server writes.
      progress.dataset.answered = mine.answered;
      progress.dataset.applicable = mine.applicable;
      progress.dataset.missing = mine.missing;
      const strong = document.createElement('strong');
      strong.textContent = mine.answered + ' of ' + mine.applicable;
      const rest = ' questions on this page answered'
        + (mine.missing > 0 ? '; ' + mine.missing + ' that must be answered still to do' : '') + '.';
      progress.replaceChildren(strong, rest);
    }
    for (const p of body.pillars) {
      const count = document.querySelector('#pillar-nav li[data-pillar="' + CSS.escape(p.key) + '"] .app-count');
      if (count) count.textContent = ': ' + p.answered + ' of ' + p.applicable + ' answered';
    }
  };
  const payload = () => {
    const data = new URLSearchParams(new FormData(form));
    data.set('action', 'save');
    return data;
  };
  const save = async () => {
    if (inflight) {
      again = true;
      return;
    }
    inflight = true;
    dirty = false;
    say('Saving…');
    try {
      const res = await fetch(url, {
        method: 'POST',
        body: payload(),
        credentials: 'same-origin',
        redirect: 'manual',
        headers: { 'X-Requested-With': 'fetch', Accept: 'application/json' },
      });
      const type = res.headers.get('content-type') || '';
      if (!type.includes('json')) {
        // Signed out, or the form is too old (an HTML page, or a redirect to sign in).
        dirty = true;
        refused = true;
        stop('Not saved: your session may have ended. Select Save to save your answers (you may be asked to sign in again).');
      } else {
        const body = await res.json();
        refused = body.outcome !== 'saved';
        if (body.outcome === 'saved') {
          apply(body);
          say('Saved at ' + body.saved_at + ' (UTC)');
        } else if (body.outcome === 'invalid') {
          dirty = true;
          say('Not saved yet: ' + body.errors.map((e) => e.message).join('; ') + '. Select Save to see which answers.');
        } else if (body.outcome === 'conflict') {
          dirty = true;
          stop(body.detail);
        } else {
          dirty = true;
          say('Not saved: ' + (body.detail || 'try again') + '.');
        }
      }
    } catch (e) {
      dirty = true;
      refused = true;
      say('Not saved: the service could not be reached. Your answers are still on this page; select Save to try again.');
    }
    inflight = false;
    if (again) {
      again = false;
      schedule(0);
    }
  };
  form.addEventListener('change', () => schedule(500));
  form.addEventListener('input', (e) => {
    if (e.target.matches('textarea, input[type="text"], input[type="url"]')) schedule(1500);
  });
  // An explicit save sends everything itself: no autosave alongside it.
  form.addEventListener('submit', () => {
    stopped = true;
    dirty = false;
    refused = false;
    clearTimeout(timer);
  });
  // Following a link with changes not yet saved: save first, and leave only once they are;
  // when the save is refused the page stays, saying why.
  const settled = async () => {
    while (inflight) await new Promise((r) => setTimeout(r, 50));
  };
  document.addEventListener('click', async (e) => {
    const link = e.target.closest('a[href]');
    if (!link || (!dirty && !inflight) || stopped || e.defaultPrevented || e.button !== 0
      || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || link.target
      || link.origin !== window.location.origin || link.getAttribute('href').startsWith('#')) return;
    e.preventDefault();
    clearTimeout(timer);
    await settled();
    if (dirty && !stopped) await save();
    await settled();
    if (!dirty) window.location.assign(link.href);
  });
  // Leaving any other way when the last save was refused: the browser asks first.
  window.addEventListener('beforeunload', (e) => {
    if (dirty && (stopped || refused)) {
      e.preventDefault();
      e.returnValue = '';
    }
  });
  // Leaving with a save pending (the address bar, the back button, a closed tab): send it as
  // the page goes.
  window.addEventListener('pagehide', () => {
    if (dirty && !stopped) {
      clearTimeout(timer);
      fetch(url, {
        method: 'POST',
        body: payload(),
        credentials: 'same-origin',
        keepalive: true,
        headers: { 'X-Requested-With': 'fetch', Accept: 'application/json' },
      }).catch(() => {});
    }
  });
}
