// qbo-pipeline console: progressive enhancement only. Every page reads without this file.
'use strict';

(function () {
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

  // ---- evidence charts: one bar per UTC day and measure, drawn by Chart.js (served locally) ----
  function drawEvidenceCharts() {
    const data = document.getElementById('evidence-data');
    if (!data || typeof window.Chart === 'undefined') return;
    const series = JSON.parse(data.textContent || '[]');
    const colours = {
      qbo: '#8796aa',
      extracted: css('--accent') || '#1f5fbf',
      loaded: css('--ok') || '#1a7f37',
      bad: css('--error') || '#b42318',
      warn: css('--warn') || '#8a5a00',
      muted: css('--muted') || '#5d6b7d',
      text: css('--text') || '#1c2430',
      line: css('--line') || '#dde2e9',
    };
    const draw = (canvas, s) => {
      const tickColour = (i) =>
        s.status[i] === 'lost' || s.status[i] === 'missing'
          ? colours.bad
          : s.status[i] === 'count differs'
            ? colours.warn
            : s.status[i] === 'empty'
              ? colours.muted
              : colours.text;
      new window.Chart(canvas, {
        type: 'bar',
        data: {
          labels: s.days.map((d) => d.slice(5)),
          datasets: [
            { label: 'QBO count', data: s.qbo, backgroundColor: colours.qbo },
            { label: 'extracted', data: s.extracted, backgroundColor: colours.extracted },
            { label: 'loaded', data: s.loaded, backgroundColor: s.status.map((st) => (st === 'lost' ? colours.bad : colours.loaded)) },
          ],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: 'index', intersect: false },
          scales: {
            x: { ticks: { color: (c) => tickColour(c.index), autoSkip: true, maxRotation: 60 }, grid: { display: false } },
            y: { beginAtZero: true, ticks: { color: colours.muted, precision: 0 }, grid: { color: colours.line } },
          },
          plugins: {
            legend: { labels: { color: colours.text, boxWidth: 12 } },
            tooltip: {
              callbacks: {
                title: (items) => `${s.days[items[0].dataIndex]} (UTC)`,
                footer: (items) => `status: ${s.status[items[0].dataIndex]}`,
              },
            },
          },
        },
      });
      canvas.dataset.days = String(s.days.length);
    };
    // A chart is drawn as it nears the window: a month of 28 streams' charts drawn at once took a second before the page answered.
    const pending = new Map();
    for (const s of series) {
      const canvas = document.querySelector(`canvas[data-stream="${CSS.escape(s.stream)}"]`);
      if (canvas) pending.set(canvas, s);
    }
    if (typeof IntersectionObserver === 'undefined') {
      for (const [canvas, s] of pending) draw(canvas, s);
      return;
    }
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          observer.unobserve(entry.target);
          draw(entry.target, pending.get(entry.target));
        }
      },
      { rootMargin: '200px 0px' },
    );
    for (const canvas of pending.keys()) observer.observe(canvas);
  }

  // ---- evidence table: a link to a folded stream's days (`#day-invoices`) opens it ----
  function openLinkedDays() {
    const target = location.hash.length > 1 ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    const folded = target && target.closest('details:not([open])');
    if (!folded) return;
    folded.open = true;
    target.scrollIntoView();
  }

  // ---- trigger form: the typed time in UTC and in the chosen zone, side by side, as you type ----
  function liveInstantPreview() {
    const at = document.getElementById('at');
    const zone = document.getElementById('zone');
    const out = document.getElementById('at-preview');
    if (!at || !zone || !out) return;
    let asked = 0;
    const update = async () => {
      const mine = ++asked;
      out.querySelector('[data-zone-name]').textContent = zone.value;
      if (!at.value) {
        out.querySelector('[data-utc]').textContent = '–';
        out.querySelector('[data-zoned]').textContent = '–';
        return;
      }
      const response = await fetch(`/triggers/preview?${new URLSearchParams({ at: at.value, zone: zone.value })}`, { credentials: 'same-origin' });
      const body = await response.json();
      if (mine !== asked) return;
      out.querySelector('[data-utc]').textContent = body.error ? body.error : body.utc.replace('T', ' ');
      out.querySelector('[data-zoned]').textContent = body.error ? '–' : `${body.wallClock} (UTC${body.offset})`;
      out.classList.toggle('invalid', Boolean(body.error));
    };
    at.addEventListener('input', update);
    zone.addEventListener('change', update);
    if (at.value) update();
  }

  // ---- a live run: server-sent events replace the progress, the facts and the log tail ----
  function followRun() {
    const root = document.querySelector('[data-run-events]');
    if (!root || typeof EventSource === 'undefined') return;
    const source = new EventSource(root.dataset.runEvents);
    source.addEventListener('run', (event) => {
      const parts = JSON.parse(event.data);
      for (const [id, markup] of Object.entries(parts.html)) {
        const el = document.getElementById(id);
        if (el) el.outerHTML = markup;
      }
      const log = document.getElementById('run-log');
      if (log) log.scrollTop = log.scrollHeight;
      root.dataset.status = parts.status;
      if (parts.status !== 'running') source.close();
    });
    source.addEventListener('error', () => {
      // The browser reconnects by itself; a finished run closes the stream on purpose.
    });
  }

  const start = () => {
    drawEvidenceCharts();
    openLinkedDays();
    window.addEventListener('hashchange', openLinkedDays);
    liveInstantPreview();
    followRun();
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
