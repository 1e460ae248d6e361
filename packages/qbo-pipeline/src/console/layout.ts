import { html, type HtmlValue, type SafeHtml } from './html.js';
import { utc } from '../formatTime.js';

const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/runs', label: 'Runs' },
  { path: '/evidence', label: 'Evidence' },
  { path: '/schedules', label: 'Schedules & triggers' },
] as const;

export interface PageChrome {
  readonly title: string;
  /** The nav entry to highlight. */
  readonly section?: (typeof NAV)[number]['path'];
  /** Shown as a logout button when the console asks for a password. */
  readonly csrfToken?: string;
  readonly signedIn?: boolean;
  /** A message at the top: what just happened, or what went wrong. */
  readonly notice?: { readonly level: 'ok' | 'error'; readonly text: HtmlValue };
  /** Reload every N seconds when scripts are off (a live run page). */
  readonly refreshSeconds?: number;
  /** Extra scripts of ours (assets), e.g. the chart library. */
  readonly scripts?: readonly string[];
  readonly now: Date;
}

/** The page around every view: header, navigation, notice, footer. Scripts only enhance it. */
export function page(chrome: PageChrome, body: SafeHtml): SafeHtml {
  const nav = NAV.map((n) => html`<a href="${n.path}"${chrome.section === n.path ? html` aria-current="page"` : ''}>${n.label}</a>`);
  const logout = chrome.signedIn
    ? html`<form method="post" action="/logout" class="logout"><input type="hidden" name="_csrf" value="${chrome.csrfToken ?? ''}"><button type="submit">Sign out</button></form>`
    : '';
  const refresh = chrome.refreshSeconds ? html`<noscript><meta http-equiv="refresh" content="${chrome.refreshSeconds}"></noscript>` : '';
  const notice = chrome.notice
    ? html`<p class="notice ${chrome.notice.level}" role="${chrome.notice.level === 'error' ? 'alert' : 'status'}">${chrome.notice.text}</p>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${chrome.title} · qbo-pipeline console</title>
<link rel="stylesheet" href="/assets/console.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
${refresh}
</head>
<body>
<header class="top">
  <a class="brand" href="/">qbo-pipeline <span>console</span></a>
  <nav aria-label="Sections">${nav}</nav>
  ${logout}
</header>
<main>
${notice}
${body}
</main>
<footer>Times in UTC unless marked. Page made ${utc(chrome.now.toISOString())}.</footer>
${(chrome.scripts ?? []).map((s) => html`<script src="/assets/${s}" defer></script>`)}
<script src="/assets/console.js" defer></script>
</body>
</html>
`;
}
