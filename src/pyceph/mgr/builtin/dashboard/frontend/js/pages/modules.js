// modules.js — `GET /api/mgr/module` and `POST /api/mgr/module/{name}/enable|disable`.

import { get, post } from '../api.js';
import { h, replace } from '../dom.js';
import { badge, button, confirmDialog, errorBox, loading, runAction, table } from '../ui.js';

/** The module serving this UI: disabling it asks first. */
const SELF = 'dashboard';

export default {
  title: 'Manager modules',
  render(main) {
    const list = h('div', {}, loading());
    const send = async (name, action) => {
      await post(`/api/mgr/module/${encodeURIComponent(name)}/${action}`, {});
      await refresh();
    };
    const toggle = (name, action) => {
      if (name === SELF && action === 'disable') {
        return confirmDialog({
          title: 'Disable the dashboard',
          message: 'Disabling the dashboard module stops this web interface. Re-enable it with `ceph mgr module enable dashboard`.',
          confirmLabel: 'Disable dashboard',
          onConfirm: () => send(name, action),
        });
      }
      return runAction(() => send(name, action), `Module ${name} ${action}d`);
    };
    const refresh = async () => {
      try {
        const modules = await get('/api/mgr/module');
        modules.sort((a, b) => a.name.localeCompare(b.name));
        replace(list, table({
          caption: 'Manager modules',
          rowLabel: (m) => m.name,
          columns: [
            { label: 'Name', render: (m) => h('strong', {}, m.name) },
            {
              label: 'State',
              render: (m) => (m.always_on ? badge('always on', 'ok') : m.enabled ? badge('enabled', 'ok') : badge('disabled', 'off')),
            },
            {
              label: 'Actions',
              render: (m) => {
                if (m.always_on) return '—';
                return m.enabled
                  ? button('Disable', () => toggle(m.name, 'disable'), { ariaLabel: `Disable module ${m.name}` })
                  : button('Enable', () => toggle(m.name, 'enable'), { kind: 'primary', ariaLabel: `Enable module ${m.name}` });
              },
            },
          ],
          rows: modules,
          empty: 'No modules.',
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
