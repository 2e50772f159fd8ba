// main.js — the dashboard's shell and hash router: `#/login` alone, every other page
// inside the shell (header, navigation that collapses into a menu on narrow screens,
// main region). A page is {title, render(main) -> cleanup?}; the cleanup (its timers)
// runs when the user leaves the page, so each poller has one owner.

import { logout, session, setUnauthorizedHandler } from './api.js';
import { h, replace } from './dom.js';
import { notify, errorText } from './ui.js';
import loginPage from './pages/login.js';
import dashboardPage from './pages/dashboard.js';
import poolsPage from './pages/pools.js';
import osdsPage from './pages/osds.js';
import hostsPage from './pages/hosts.js';
import monitorsPage from './pages/monitors.js';
import rbdPage from './pages/rbd.js';
import usersPage from './pages/users.js';
import modulesPage from './pages/modules.js';
import logsPage from './pages/logs.js';

/** The navigation, in order: route -> page. */
export const ROUTES = [
  ['dashboard', dashboardPage],
  ['pools', poolsPage],
  ['osds', osdsPage],
  ['hosts', hostsPage],
  ['monitors', monitorsPage],
  ['block', rbdPage],
  ['users', usersPage],
  ['modules', modulesPage],
  ['logs', logsPage],
];
const DEFAULT_ROUTE = 'dashboard';

const app = document.getElementById('app');
let cleanup = null;
let shell = null;

function currentRoute() {
  const route = location.hash.replace(/^#\/?/, '').split('?')[0];
  return route || DEFAULT_ROUTE;
}

function go(route) {
  if (currentRoute() === route) render();
  else location.hash = `#/${route}`;
}

function teardown() {
  if (typeof cleanup === 'function') {
    try {
      cleanup();
    } catch {
      /* a page's cleanup failing must not block navigation */
    }
  }
  cleanup = null;
  // dialogs belong to the page that opened them
  for (const dialog of document.querySelectorAll('dialog')) dialog.dispatchEvent(new Event('cancel'));
}

function buildShell() {
  const nav = h('nav', { id: 'nav', class: 'nav', 'aria-label': 'Main' },
    h('ul', {}, ROUTES.map(([route, page]) =>
      h('li', {}, h('a', { href: `#/${route}`, 'data-route': route }, page.title)))));
  const menuButton = h('button', {
    type: 'button', class: 'menu-toggle', 'aria-controls': 'nav', 'aria-expanded': 'false',
    onclick: () => setMenu(menuButton.getAttribute('aria-expanded') !== 'true'),
  }, h('span', { class: 'menu-icon', 'aria-hidden': 'true' }), 'Menu');
  const userName = h('span', { class: 'user-name' });
  const logoutButton = h('button', {
    type: 'button', class: 'btn btn-ghost',
    onclick: async () => {
      try {
        await logout();
      } catch (err) {
        notify(errorText(err), 'error');
      }
      go('login');
    },
  }, 'Log out');
  const title = h('h1', { class: 'page-title', id: 'page-title' });
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1', 'aria-labelledby': 'page-title' });
  const root = h('div', { class: 'shell' },
    h('header', { class: 'topbar' },
      menuButton,
      h('a', { class: 'brand', href: '#/dashboard' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'pyceph'),
      h('div', { class: 'topbar-user' }, userName, logoutButton)),
    nav,
    h('div', { class: 'content' }, title, main));
  nav.addEventListener('click', (e) => {
    if (e.target.closest('a')) setMenu(false);
  });
  function setMenu(open) {
    menuButton.setAttribute('aria-expanded', String(open));
    root.classList.toggle('menu-open', open);
  }
  return { root, nav, main, title, userName };
}

async function render() {
  teardown();
  const route = currentRoute();
  if (route === 'login' || !session.token) {
    shell = null;
    if (route !== 'login') {
      location.replace('#/login');
      return;
    }
    document.title = 'Log in · pyceph dashboard';
    const main = h('main', { id: 'main', class: 'login-main' });
    replace(app, main);
    cleanup = loginPage.render(main, { onLoggedIn: () => go(DEFAULT_ROUTE) });
    return;
  }
  const entry = ROUTES.find(([r]) => r === route);
  if (!entry) {
    location.replace(`#/${DEFAULT_ROUTE}`);
    return;
  }
  const page = entry[1];
  if (!shell) {
    shell = buildShell();
    replace(app, shell.root);
  }
  shell.userName.textContent = session.username;
  for (const a of shell.nav.querySelectorAll('a')) {
    if (a.dataset.route === route) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  shell.title.textContent = page.title;
  document.title = `${page.title} · pyceph dashboard`;
  replace(shell.main);
  window.scrollTo(0, 0); // a new page starts at its top, not at the last one's scroll
  cleanup = page.render(shell.main);
}

setUnauthorizedHandler(() => {
  if (!session.token) return; // several refused calls at once: one notice
  session.clear();
  notify('Your session has ended: please log in again.', 'error');
  go('login');
});
window.addEventListener('hashchange', render);
render();
