// Errand's additions to Bull Board's page: the CSRF token on every request that changes
// something; on reads, whether the user did anything in the last minute (the page polls by
// itself, and only the user's own activity keeps the session from going idle); a bar with
// the user, their role, the audit log (admins) and log out; the dashboard's own errors shown
// as Bull Board's are.
(() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';
  const token = meta('csrf-token');
  const changes = (method) => !/^(GET|HEAD|OPTIONS)$/i.test(method || 'GET');
  let lastInput = Date.now();
  for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
    addEventListener(
      type,
      () => {
        lastInput = Date.now();
      },
      { capture: true, passive: true },
    );
  }
  const active = () => Date.now() - lastInput < 60_000;

  // Bull Board's page shows an error answer's `error` and `message` in a toast; the
  // dashboard's own errors (401, the CSRF check's 403, 503) are problem+json: the page is
  // handed their title and detail under those names.
  const responseText = Object.getOwnPropertyDescriptor(XMLHttpRequest.prototype, 'responseText');
  function forThePage() {
    const text = responseText.get.call(this);
    const type = this.readyState === 4 ? this.getResponseHeader('content-type') : null;
    if (!type?.startsWith('application/problem+json')) return text;
    try {
      const problem = JSON.parse(text);
      return JSON.stringify({ error: problem.title, message: problem.detail, ...problem });
    } catch {
      return text;
    }
  }

  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, ...rest) {
    this.errandMethod = method;
    return open.call(this, method, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    if (changes(this.errandMethod)) this.setRequestHeader('X-CSRF-Token', token);
    else if (active()) this.setRequestHeader('X-Errand-Active', '1');
    Object.defineProperty(this, 'responseText', { get: forThePage, configurable: true });
    return send.call(this, body);
  };
  const originalFetch = window.fetch;
  window.fetch = (input, init = {}) => {
    const method = init.method ?? (input instanceof Request ? input.method : 'GET');
    if (!changes(method) && !active()) return originalFetch(input, init);
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : {}));
    if (changes(method)) headers.set('X-CSRF-Token', token);
    else headers.set('X-Errand-Active', '1');
    return originalFetch(input, { ...init, headers });
  };

  document.addEventListener('DOMContentLoaded', () => {
    const bar = document.createElement('div');
    bar.className = 'errand-bar';
    const who = document.createElement('span');
    who.textContent = `${meta('errand-user')} · ${meta('errand-role')}`;
    bar.append(who);
    if (meta('errand-role') === 'admin') {
      const audit = document.createElement('a');
      audit.href = 'audit';
      audit.textContent = 'Audit log';
      bar.append(audit);
    }
    const form = document.createElement('form');
    form.method = 'post';
    form.action = 'logout';
    const field = document.createElement('input');
    field.type = 'hidden';
    field.name = 'csrf';
    field.value = token;
    const button = document.createElement('button');
    button.type = 'submit';
    button.textContent = 'Log out';
    form.append(field, button);
    bar.append(form);
    document.body.append(bar);
  });
})();
