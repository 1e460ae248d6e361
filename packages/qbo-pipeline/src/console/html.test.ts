import { describe, expect, it } from 'vitest';
import { registerSecret } from 'singer-kit';
import { html, jsonForScript } from './html.js';

describe('html', () => {
  it('escapes every interpolated value, keeps nested templates, joins arrays and drops empty values', () => {
    const name = `<script>alert("x")</script>&'`;
    const page = html`<p title="${name}">${name}</p>${[html`<b>${1}</b>`, 'a<b']}${undefined}${null}${false}`;
    expect(page.toString()).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p><b>1</b>a&lt;b',
    );
  });

  it('never renders a registered secret, whatever text carries it', () => {
    registerSecret('sk-console-test-secret-123');
    expect(html`<p>${'token sk-console-test-secret-123 leaked'}</p>`.toString()).toBe('<p>token [redacted] leaked</p>');
    expect(jsonForScript({ log: 'sk-console-test-secret-123' }).toString()).toBe('{"log":"[redacted]"}');
  });

  it('embeds JSON that cannot close its script element', () => {
    const text = jsonForScript({ s: '</script><script>alert(1)</script>&' }).toString();
    expect(text).not.toMatch(/[<>&]/);
    expect(JSON.parse(text)).toEqual({ s: '</script><script>alert(1)</script>&' });
  });
});
