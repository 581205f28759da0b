const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (char) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char,
  );

/** The login page: plain HTML, one local stylesheet, no script, nothing from the internet. */
export function loginPage(options: { token: string; name?: string; error?: string }): string {
  const error = options.error
    ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>Errand · sign in</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="errand/login.css">
</head>
<body>
  <main>
    <h1>Errand</h1>
    <form method="post" action="login">
      <input type="hidden" name="csrf" value="${escapeHtml(options.token)}">
      <label>User <input name="name" autocomplete="username" required maxlength="64" value="${escapeHtml(options.name ?? '')}" autofocus></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
      ${error}
      <button type="submit">Sign in</button>
    </form>
  </main>
</body>
</html>
`;
}
