// osds.js — `GET /api/osd` and `PUT /api/osd/{svc_id}/mark` {action: in|out}
// (upstream's OSD list and its mark actions).

import { get, put } from '../api.js';
import { h, replace } from '../dom.js';
import { bytes, count } from '../format.js';
import { badge, button, errorBox, loading, runAction, table } from '../ui.js';

function usage(o) {
  const total = o.stats?.stat_bytes || 0;
  const used = o.stats?.stat_bytes_used || 0;
  const ratio = total ? used / total : 0;
  return h('div', { class: 'usage' },
    h('div', { class: 'bar bar-ok bar-small', role: 'progressbar', 'aria-label': `osd.${o.id} used`, 'aria-valuenow': (ratio * 100).toFixed(1), 'aria-valuemin': '0', 'aria-valuemax': '100' },
      h('span', { style: `width:${(ratio * 100).toFixed(1)}%` })),
    h('small', {}, `${bytes(used)} / ${bytes(total)}`));
}

export default {
  title: 'OSDs',
  render(main) {
    const list = h('div', {}, loading());
    const mark = (id, action) => runAction(async () => {
      await put(`/api/osd/${id}/mark`, { action });
      await refresh();
    }, `osd.${id} marked ${action}`);
    const refresh = async () => {
      try {
        const osds = await get('/api/osd');
        osds.sort((a, b) => (a.id ?? a.osd) - (b.id ?? b.osd));
        replace(list, table({
          caption: 'OSDs',
          rowLabel: (o) => `osd.${o.id ?? o.osd}`,
          columns: [
            { label: 'OSD', render: (o) => h('strong', {}, `osd.${o.id ?? o.osd}`) },
            { label: 'Host', render: (o) => o.host?.name || '—' },
            { label: 'Status', render: (o) => [badge(o.up ? 'up' : 'down', o.up ? 'ok' : 'err'), ' ', badge(o.in ? 'in' : 'out', o.in ? 'ok' : 'warn')] },
            { label: 'PGs', class: 'num', render: (o) => String(o.stats?.numpg ?? o.osd_stats?.num_pgs ?? 0) },
            { label: 'Usage', render: usage },
            { label: 'Read ops/s', class: 'num', render: (o) => count(o.stats?.op_r ?? 0) },
            { label: 'Write ops/s', class: 'num', render: (o) => count(o.stats?.op_w ?? 0) },
            {
              label: 'Actions',
              render: (o) => {
                const id = o.id ?? o.osd;
                return o.in
                  ? button('Mark out', () => mark(id, 'out'), { ariaLabel: `Mark osd.${id} out` })
                  : button('Mark in', () => mark(id, 'in'), { kind: 'primary', ariaLabel: `Mark osd.${id} in` });
              },
            },
          ],
          rows: osds,
          empty: 'No OSDs.',
        }));
      } catch (err) {
        replace(list, errorBox(err));
      }
    };
    main.append(h('div', { class: 'toolbar' }, button('Refresh', refresh)), list);
    refresh();
    return null;
  },
};
