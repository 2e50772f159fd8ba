// hosts.js — `GET /api/host`: each host with the daemons it runs and their version.

import { get } from '../api.js';
import { h, replace } from '../dom.js';
import { errorBox, loading, table } from '../ui.js';

export default {
  title: 'Hosts',
  render(main) {
    const list = h('div', {}, loading());
    main.append(list);
    (async () => {
      try {
        const hosts = await get('/api/host');
        replace(list, table({
          caption: 'Hosts',
          rowLabel: (x) => x.hostname,
          columns: [
            { label: 'Hostname', render: (x) => h('strong', {}, x.hostname) },
            {
              label: 'Services',
              render: (x) => h('ul', { class: 'chips' }, (x.services || []).map((s) => h('li', { class: 'chip' }, `${s.type}.${s.id}`))),
            },
            { label: 'Labels', render: (x) => (x.labels || []).join(', ') || '—' },
            { label: 'Version', render: (x) => (x.ceph_version || '').replace(/^ceph version /, '') || '—' },
          ],
          rows: hosts,
          empty: 'No hosts.',
        }));
      } catch (err) {
        replace(list, errorBox(err));
      }
    })();
    return null;
  },
};
