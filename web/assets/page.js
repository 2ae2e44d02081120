// page.js - keeps the personas table current without reloading, and
// filters it as you type. Served from the appliance itself (no inline
// script: the Content-Security-Policy allows only 'self'). The table is
// complete without this file; it only refreshes what the server rendered.
//
// Every value from the API goes into the page as text (textContent or
// text nodes), never as markup.
'use strict';

(function () {
  const body = document.body;
  const table = document.getElementById('personas');
  const filter = document.getElementById('q');

  function el(tag, cls, ...kids) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    for (const k of kids) {
      if (k === null || k === undefined) continue;
      e.append(typeof k === 'string' || typeof k === 'number' ? String(k) : k);
    }
    return e;
  }

  function badge(cls, text) {
    return el('span', 'badge ' + cls, text);
  }

  function applyFilter() {
    if (!table || !filter) return;
    const term = filter.value.trim().toLowerCase();
    for (const row of table.tBodies[0].rows) {
      if (!row.dataset.id) continue;
      row.hidden = term !== '' && !row.textContent.toLowerCase().includes(term);
    }
  }

  // One cell per column, in the order of the server-rendered table.
  function cells(p) {
    const host = el('td', null, el('a', null, p.hostname || p.id));
    host.firstChild.href = p.url;
    if (!p.enabled) host.append(' ', badge('off', 'disabled'));
    host.append(el('div', 'sub', p.short_id));

    const addr = p.reach.host.includes(':') ? '[' + p.reach.host + ']' : p.reach.host;
    const reach = el('td', null, el('code', null, addr + ':' + p.reach.port));
    const sub = el('div', 'sub', 'user ', el('code', null, p.reach.user));
    if (p.reach.kind !== 'shared')
      sub.append(' · ' + (p.reach.kind === 'own_port' ? 'own port' : 'own address'));
    reach.append(sub);

    let last;
    if (p.last_action) {
      const la = p.last_action;
      last = el('td', null, la.what,
        el('div', 'sub', la.display_time + ' ', badge(la.cc ? 'bad' : 'ok', la.result)));
    } else {
      last = el('td', null, el('span', 'sub', 'none yet'));
    }
    const sessions = el('td', 'num', p.sessions);

    const out = {
      host: host,
      device: el('td', null, el('code', null, p.id)),
      location: el('td', null, p.metro || '-', el('div', 'sub', p.facility)),
      state: el('td', null, badge(p.state_class, p.metal_state || 'unknown')),
      power: el('td', null, badge(p.power_class, p.power_transition ? 'changing' : p.power)),
      reach: reach,
      backend: el('td', null, p.backend),
      boot: el('td', null, p.boot.label),
      sessions: sessions,
      last: last,
    };
    for (const [name, td] of Object.entries(out)) td.dataset.col = name;
    return Object.values(out);
  }

  // "2026-11-25T11:20:03.123Z" -> "2026-11-25 11:20:03Z", as the server shows it.
  function shown(iso) {
    return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
  }

  // The header: each project's last poll and the Metal API's health.
  function renderProjects(doc) {
    const rows = document.getElementById('project-rows');
    if (!rows || !doc.discovery) return;
    rows.replaceChildren(...doc.projects.map((p) => {
      const result = el('td', null, badge(p.badge_class, p.badge));
      if (p.polls && !p.last_ok) result.append(el('div', 'sub', p.last_result));
      const tr = el('tr', null, el('td', null, el('code', null, p.id)),
        el('td', null, p.last_poll_display || '-'), result,
        el('td', 'num', p.last_duration_ms + ' ms'), el('td', 'num', p.devices));
      tr.dataset.project = p.id;
      return tr;
    }));
    const api = document.getElementById('api');
    const a = doc.discovery.api;
    if (api) {
      api.replaceChildren('Metal API ', badge(a.badge_class, a.badge),
        ' · ' + a.requests + ' requests · ' + a.failures + ' failed' +
        (a.refusals ? ' · ' + a.refusals + ' refused' : '') +
        (a.last_error ? ' · last error ' + shown(a.last_error_at) + ': ' + a.last_error : ''));
    }
  }

  function render(doc) {
    renderProjects(doc);
    const tbody = table.tBodies[0];
    const old = new Map();
    for (const row of Array.from(tbody.rows)) {
      if (row.dataset.id) old.set(row.dataset.id, row);
      else row.remove(); // the "no personas" line
    }
    for (const p of doc.personas) {
      const sig = JSON.stringify(p);
      let row = old.get(p.id);
      old.delete(p.id);
      if (!row) {
        row = document.createElement('tr');
        row.dataset.id = p.id;
      }
      if (row.dataset.sig !== sig) {
        row.className = 'persona' + (p.enabled ? '' : ' disabled');
        row.replaceChildren(...cells(p));
        row.dataset.sig = sig;
      }
      tbody.append(row); // keeps the server's order
    }
    for (const row of old.values()) row.remove();
    if (doc.personas.length === 0) {
      const td = el('td', null, 'No personas to show.');
      td.colSpan = 10;
      tbody.append(el('tr', 'empty', td));
    }
    const count = document.getElementById('count');
    if (count) count.textContent = String(doc.personas.length);
    applyFilter();
  }

  function status(text, bad) {
    const s = document.getElementById('updated');
    if (!s) return;
    s.textContent = text;
    s.classList.toggle('stale', bad);
  }

  if (filter) {
    filter.addEventListener('input', applyFilter);
    applyFilter();
  }

  const api = body.dataset.live;
  if (!api || !table) return;
  const every = Math.max(500, parseInt(body.dataset.refreshMs, 10) || 2000);

  async function refresh() {
    try {
      // From the origin, not relative to the page: a page opened as
      // http://user:pass@host/ would make a relative URL carry the
      // credentials, which fetch() refuses.
      const r = await fetch(new URL(api, location.origin), {
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { Accept: 'application/json' },
      });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const doc = await r.json();
      render(doc);
      status('live · ' + doc.display_time, false);
      body.dataset.refreshed = String((parseInt(body.dataset.refreshed, 10) || 0) + 1);
    } catch (e) {
      status('not refreshing: ' + e.message, true);
    } finally {
      setTimeout(refresh, every);
    }
  }
  refresh();
})();
