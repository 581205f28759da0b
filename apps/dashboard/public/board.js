// Errand's additions to Bull Board's page: the CSRF token on every request that changes
// something, and a bar with the user, their role, the audit log (admins) and log out.
(() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';
  const token = meta('csrf-token');
  const changes = (method) => !/^(GET|HEAD|OPTIONS)$/i.test(method || 'GET');

  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, ...rest) {
    this.errandMethod = method;
    return open.call(this, method, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    if (changes(this.errandMethod)) this.setRequestHeader('X-CSRF-Token', token);
    return send.call(this, body);
  };
  const originalFetch = window.fetch;
  window.fetch = (input, init = {}) => {
    const method = init.method ?? (input instanceof Request ? input.method : 'GET');
    if (!changes(method)) return originalFetch(input, init);
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : {}));
    headers.set('X-CSRF-Token', token);
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
