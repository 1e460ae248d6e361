import { html, type SafeHtml } from '../html.js';

export function loginView(options: { readonly csrfToken: string; readonly next: string; readonly error?: string }): SafeHtml {
  return html`<section class="login">
<h1>Sign in</h1>
<p class="lead">This console can start and stop pipelines; it asks for the password in its password file.</p>
${options.error ? html`<p class="notice error" role="alert">${options.error}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${options.csrfToken}">
<input type="hidden" name="next" value="${options.next}">
<label>Password <input type="password" name="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
</section>`;
}
