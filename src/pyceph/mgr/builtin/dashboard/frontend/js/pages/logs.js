// logs.js — `GET /api/logs/all`: the cluster log and the audit log (newest first),
// refreshed every REFRESH_MS while the page is open.

import { get } from '../api.js';
import { h, replace } from '../dom.js';
import { datetime, parseStamp } from '../format.js';
import { poll } from '../poll.js';
import { badge, errorBox, loading, table } from '../ui.js';

/** How often the logs are re-read (ms). */
export const REFRESH_MS = 5000;
const TONES = { '[ERR]': 'err', '[WRN]': 'warn', '[INF]': 'ok', '[DBG]': 'off', '[SEC]': 'err' };

/** Entries newest first: by stamp, then by sequence number. */
export function newestFirst(a, b) {
  const ta = parseStamp(a.stamp) || 0;
  const tb = parseStamp(b.stamp) || 0;
  return tb - ta || (b.seq ?? 0) - (a.seq ?? 0);
}

function logTable(caption, entries) {
  const rows = [...entries].sort(newestFirst);
  return table({
    caption,
    columns: [
      { label: 'Time', render: (e) => datetime(e.stamp) },
      { label: 'Priority', render: (e) => badge((e.priority || '').replace(/[[\]]/g, '') || '—', TONES[e.priority] || 'off') },
      { label: 'Source', render: (e) => e.name || '—' },
      { label: 'Message', class: 'wrap', render: (e) => e.message },
    ],
    rows,
    empty: 'No entries.',
  });
}

export default {
  title: 'Logs',
  render(main) {
    let which = 'clog';
    let last = null;
    const body = h('div', { role: 'tabpanel', id: 'log-panel' }, loading());
    const tabs = [['clog', 'Cluster log'], ['audit_log', 'Audit log']].map(([key, label]) =>
      h('button', {
        type: 'button', role: 'tab', class: 'tab', 'aria-controls': 'log-panel', 'aria-selected': String(key === which),
        onclick: () => {
          which = key;
          for (const t of tabs) t.setAttribute('aria-selected', String(t === tabs.find((x) => x.textContent === label)));
          draw();
        },
      }, label));
    const draw = () => {
      if (last) replace(body, logTable(which === 'clog' ? 'Cluster log' : 'Audit log', last[which] || []));
    };
    main.append(h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Logs' }, tabs), body);
    return poll(async () => {
      try {
        last = await get('/api/logs/all');
        draw();
      } catch (err) {
        replace(body, errorBox(err));
      }
    }, REFRESH_MS);
  },
};
