// login.js — `POST /api/auth` with username and password; the token is kept for the
// browser tab's session. A refusal shows the API's `detail`.

import { login } from '../api.js';
import { h } from '../dom.js';
import { form } from '../ui.js';

export default {
  title: 'Log in',
  render(main, { onLoggedIn }) {
    const loginForm = form({
      label: 'Log in',
      submitLabel: 'Log in',
      fields: [
        { name: 'username', label: 'Username', required: true, autocomplete: 'username' },
        { name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' },
      ],
      onSubmit: async ({ username, password }) => {
        await login(username, password);
        onLoggedIn();
      },
    });
    main.append(h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'pyceph'),
      h('h1', {}, 'Log in to the dashboard'),
      loginForm));
    loginForm.querySelector('input')?.focus();
    return null;
  },
};
