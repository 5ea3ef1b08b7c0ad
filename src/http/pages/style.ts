/**
 * The one stylesheet of the web pages, served from `/assets/style.css` (no inline styles, for the CSP). System
 * fonts only; light and dark by `prefers-color-scheme`; one column that keeps a margin down to 320 px.
 */
export const STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9;
  --surface: #ffffff;
  --surface-2: #f3f4f6;
  --ink: #111827;
  --ink-2: #374151;
  --muted: #6b7280;
  --line: #e5e7eb;
  --line-strong: #d1d5db;
  --accent: #4f46e5;
  --accent-ink: #4338ca;
  --ring: rgba(79, 70, 229, 0.28);
  --primary: #111827;
  --primary-hover: #1f2937;
  --primary-ink: #ffffff;
  --bad: #b42318;
  --bad-bg: #fef3f2;
  --bad-line: #fecdca;
  --good: #067647;
  --good-bg: #ecfdf3;
  --good-line: #abefc6;
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.04), 0 4px 16px rgba(16, 24, 40, 0.06);
  --radius: 12px;
  --radius-sm: 8px;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0b0d12;
    --surface: #14171e;
    --surface-2: #1c2029;
    --ink: #eef0f4;
    --ink-2: #cdd2db;
    --muted: #9aa3b2;
    --line: #262b35;
    --line-strong: #363c48;
    --accent: #8b93ff;
    --accent-ink: #a5abff;
    --ring: rgba(139, 147, 255, 0.35);
    --primary: #f3f4f6;
    --primary-hover: #ffffff;
    --primary-ink: #111827;
    --bad: #fda29b;
    --bad-bg: #2a1416;
    --bad-line: #5c2420;
    --good: #75e0a7;
    --good-bg: #0f241a;
    --good-line: #1d4d34;
    --shadow: 0 1px 2px rgba(0, 0, 0, 0.3), 0 8px 24px rgba(0, 0, 0, 0.25);
  }
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  min-height: 100vh;
  display: flex;
  flex-direction: column;
  font: 400 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans",
    "Apple SD Gothic Neo", "Malgun Gothic", "Noto Sans KR", sans-serif;
  color: var(--ink);
  background: var(--bg);
  overflow-wrap: break-word;
}
:lang(ko) body, body:lang(ko) { word-break: keep-all; }
a { color: var(--ink); text-decoration: underline; text-decoration-color: var(--line-strong); text-underline-offset: 3px; }
a:hover { text-decoration-color: currentColor; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

/* Header and footer */
.bar { width: min(64rem, 100% - 2rem); margin: 0 auto; display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: 1rem 0; }
.brand { display: inline-flex; align-items: center; gap: 0.55rem; font-weight: 650; font-size: 1.05rem; letter-spacing: -0.01em; color: var(--ink); text-decoration: none; }
.brand svg { width: 28px; height: 28px; flex: none; }
nav { display: flex; gap: 0.35rem; align-items: center; min-width: 0; }
nav a { padding: 0.4rem 0.7rem; border-radius: var(--radius-sm); font-size: 0.925rem; font-weight: 500; color: var(--ink-2); text-decoration: none; white-space: nowrap; }
nav a:hover { color: var(--ink); background: var(--surface-2); }
nav a.cta { color: var(--primary-ink); background: var(--primary); }
nav a.cta:hover { background: var(--primary-hover); }
.who { min-width: 0; max-width: 16rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--muted); font-size: 0.875rem; }
.foot { width: min(64rem, 100% - 2rem); margin: auto auto 0; padding: 1.5rem 0 2rem; display: flex; flex-wrap: wrap; gap: 0.75rem 1.5rem; justify-content: space-between; align-items: center; color: var(--muted); font-size: 0.85rem; }
.foot p { margin: 0; }
.languages { display: flex; align-items: center; gap: 0.25rem; margin: 0; }
.languages svg { width: 16px; height: 16px; margin-right: 0.25rem; }
.languages button, .languages .current { padding: 0.25rem 0.55rem; border-radius: 6px; font: inherit; font-size: 0.85rem; line-height: 1.4; }
.languages button { color: var(--muted); background: none; border: 0; cursor: pointer; }
.languages button:hover { color: var(--ink); background: var(--surface-2); }
.languages .current { color: var(--ink); font-weight: 600; background: var(--surface-2); }

/* Cards */
.card { width: min(26rem, 100% - 2rem); margin: 2rem auto 1rem; padding: 2rem; background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow); }
.page { width: min(40rem, 100% - 2rem); margin: 1.5rem auto 1rem; }
.page-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 1rem; margin: 0.5rem 0 1.5rem; }
.page-head form { flex: none; }
.panel { margin: 0 0 1rem; padding: 1.5rem; background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow); }
.panel.danger { border-color: var(--bad-line); }
h1 { margin: 0; text-wrap: balance; font-size: 1.5rem; line-height: 1.25; font-weight: 650; letter-spacing: -0.015em; }
h2 { margin: 0; font-size: 1.05rem; line-height: 1.3; font-weight: 600; }
.lead { margin: 0.4rem 0 0; color: var(--muted); }
.card > .lead { margin-bottom: 1.5rem; }
.panel > .lead { margin: 0.25rem 0 1.1rem; font-size: 0.925rem; }
.panel > h2 + dl, .panel > h2 + ul { margin-top: 1rem; }
.hint { margin: 0.4rem 0 0; color: var(--muted); font-size: 0.85rem; }
.switch { margin: 1.5rem 0 0; text-align: center; color: var(--muted); font-size: 0.925rem; }
.switch a { font-weight: 550; }

/* Forms */
form { margin: 0; }
.field { margin: 0 0 1.1rem; }
.label-row { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; }
label { display: block; margin: 0 0 0.4rem; font-size: 0.875rem; font-weight: 550; color: var(--ink-2); }
.label-row a { font-size: 0.85rem; color: var(--muted); }
.label-row a:hover { color: var(--ink); }
input {
  display: block; width: 100%; height: 2.75rem; margin: 0; padding: 0 0.8rem;
  font: inherit; font-weight: 400; color: var(--ink);
  background: var(--surface); border: 1px solid var(--line-strong); border-radius: var(--radius-sm);
  transition: border-color 0.15s, box-shadow 0.15s;
}
input::placeholder { color: var(--muted); opacity: 0.75; }
input:focus { outline: none; border-color: var(--accent); box-shadow: 0 0 0 3px var(--ring); }
input[aria-invalid="true"] { border-color: var(--bad); }
input[aria-invalid="true"]:focus { box-shadow: 0 0 0 3px rgba(217, 45, 32, 0.22); }
.password { position: relative; }
.password input { padding-right: 4.75rem; }
.password .toggle {
  position: absolute; top: 0.375rem; right: 0.375rem; height: 2rem; width: auto; padding: 0 0.7rem;
  font-size: 0.8125rem; font-weight: 550; color: var(--ink-2); background: var(--surface-2); border: 0; border-radius: 6px;
}
.password .toggle:hover { color: var(--ink); background: var(--line); }
.field-error { display: flex; gap: 0.4rem; align-items: flex-start; margin: 0.45rem 0 0; color: var(--bad); font-size: 0.875rem; line-height: 1.4; }
.field-error svg { flex: none; width: 16px; height: 16px; margin-top: 1px; }

/* Buttons */
button { font: inherit; cursor: pointer; }
.button {
  display: inline-flex; align-items: center; justify-content: center; gap: 0.55rem;
  width: 100%; min-height: 2.75rem; padding: 0.5rem 1rem;
  font-size: 0.95rem; font-weight: 600; line-height: 1.3; text-align: center; text-decoration: none;
  color: var(--primary-ink); background: var(--primary); border: 1px solid transparent; border-radius: var(--radius-sm);
  transition: background 0.15s, border-color 0.15s, opacity 0.15s;
}
.button:hover { background: var(--primary-hover); }
.button.secondary { color: var(--ink); background: var(--surface); border-color: var(--line-strong); }
.button.secondary:hover { background: var(--surface-2); }
.button.danger { color: var(--bad); background: var(--surface); border-color: var(--bad-line); }
.button.danger:hover { background: var(--bad-bg); }
.button.small { width: auto; min-height: 2.25rem; padding: 0.35rem 0.85rem; font-size: 0.875rem; }
.button.inline { width: auto; }
.button:disabled { cursor: progress; opacity: 0.7; }
.spinner { display: none; width: 1em; height: 1em; border: 2px solid currentColor; border-right-color: transparent; border-radius: 50%; animation: spin 0.7s linear infinite; }
.button.busy .spinner { display: inline-block; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation-duration: 2s; } }
.actions { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 1.1rem 0 0; }

/* Notices */
.error, .success { display: flex; gap: 0.6rem; align-items: flex-start; margin: 0 0 1.25rem; padding: 0.75rem 0.9rem; font-size: 0.925rem; line-height: 1.45; border: 1px solid; border-radius: var(--radius-sm); }
.error { color: var(--bad); background: var(--bad-bg); border-color: var(--bad-line); }
.success { color: var(--good); background: var(--good-bg); border-color: var(--good-line); }
.error svg, .success svg { flex: none; width: 18px; height: 18px; margin-top: 1px; }

/* Sign-in providers */
.providers { display: grid; gap: 0.6rem; margin: 0 0 1.25rem; }
.or { display: flex; align-items: center; gap: 0.75rem; margin: 0 0 1.25rem; color: var(--muted); font-size: 0.8125rem; }
.or::before, .or::after { content: ""; flex: 1; border-top: 1px solid var(--line); }

/* Account */
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.7rem 1.5rem; margin: 0; }
dl.facts dt { color: var(--muted); font-size: 0.9rem; }
dl.facts dd { margin: 0; min-width: 0; }
.email-line { display: flex; flex-wrap: wrap; align-items: center; gap: 0.35rem 0.6rem; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85rem; color: var(--ink-2); }
/* Two-step sign-in: the QR code keeps its white quiet zone in dark mode (scanners need light around it). */
.qr { margin: 1.25rem auto 0.5rem; width: fit-content; padding: 0; border-radius: 0.5rem; overflow: hidden; line-height: 0; }
.qr svg { display: block; width: 13.75rem; height: auto; max-width: 100%; }
.secret { margin: 0.25rem 0 1rem; text-align: center; font-size: 1rem; letter-spacing: 0.06em; word-break: break-all; user-select: all; }
input.code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 1.15rem; letter-spacing: 0.12em; }
.codes { margin: 1.25rem 0 0; padding: 1rem 1rem 1rem 2.5rem; display: grid; grid-template-columns: repeat(2, 1fr); gap: 0.4rem 1.5rem; background: var(--surface-2); border-radius: 0.5rem; font-size: 0.95rem; user-select: all; }
@media (max-width: 30rem) { .codes { grid-template-columns: 1fr; } }
#second-factors + form { margin-top: 1rem; }
.badge { display: inline-flex; align-items: center; padding: 0.1rem 0.5rem; font-size: 0.75rem; font-weight: 600; line-height: 1.5; white-space: nowrap; border-radius: 999px; color: var(--muted); background: var(--surface-2); border: 1px solid var(--line); }
.badge.good { color: var(--good); background: var(--good-bg); border-color: var(--good-line); }
.badge.warn { color: #b54708; background: #fffaeb; border-color: #fedf89; }
@media (prefers-color-scheme: dark) { .badge.warn { color: #fec84b; background: #2b1d07; border-color: #5a3b0c; } }
.badge.accent { color: var(--accent-ink); background: var(--surface); border-color: var(--accent); }
ul.list { list-style: none; margin: 0; padding: 0; border-top: 1px solid var(--line); }
ul.list > li { display: flex; align-items: center; gap: 0.9rem; padding: 0.9rem 0; border-bottom: 1px solid var(--line); }
ul.list .icon { flex: none; display: grid; place-items: center; width: 2.5rem; height: 2.5rem; color: var(--ink-2); background: var(--surface-2); border-radius: 10px; }
ul.list .icon svg { width: 20px; height: 20px; }
ul.list .what { flex: 1; min-width: 0; }
ul.list .name { display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 0.5rem; margin: 0; font-weight: 550; }
ul.list .meta { margin: 0.15rem 0 0; color: var(--muted); font-size: 0.85rem; }
ul.list form { flex: none; }
.panel form.stack { max-width: 24rem; }

/* Home */
.hero { width: min(56rem, 100% - 2rem); margin: 3rem auto 1rem; text-align: center; }
.hero .mark svg { width: 56px; height: 56px; }
.hero h1 { margin: 1rem 0 0; font-size: clamp(1.75rem, 5vw, 2.4rem); letter-spacing: -0.025em; }
.hero .lead { max-width: 36rem; margin: 0.9rem auto 0; font-size: 1.075rem; text-wrap: balance; }
.hero .actions { justify-content: center; margin-top: 1.75rem; }
.hero .actions .button { width: auto; min-width: 10rem; }
.features { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 1rem; margin: 3rem 0 0; padding: 0; list-style: none; text-align: left; }
.features li { padding: 1.25rem; background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius); }
.features h2 { font-size: 0.975rem; }
.features p { margin: 0.35rem 0 0; color: var(--muted); font-size: 0.9rem; }
.features .icon { display: grid; place-items: center; width: 2.25rem; height: 2.25rem; margin: 0 0 0.8rem; color: var(--accent-ink); background: var(--surface-2); border-radius: 9px; }
.features .icon svg { width: 18px; height: 18px; }

@media (max-width: 40rem) {
  .features { grid-template-columns: minmax(0, 1fr); gap: 0.75rem; margin-top: 2rem; }
  .features li { display: grid; grid-template-columns: auto minmax(0, 1fr); column-gap: 0.9rem; padding: 1rem; }
  .features .icon { grid-row: span 2; margin: 0; }
  .features p { grid-column: 2; }
  .hero { margin-top: 1.5rem; }
}
@media (max-width: 30rem) {
  .bar { padding: 0.75rem 0; }
  .who { display: none; }
  .card { margin-top: 0.75rem; padding: 1.5rem 1.25rem; }
  .page { margin-top: 0.75rem; }
  .panel { padding: 1.25rem 1rem; }
  dl.facts { grid-template-columns: minmax(0, 1fr); gap: 0.15rem; }
  dl.facts dd + dt { margin-top: 0.6rem; }
  ul.list > li { flex-wrap: wrap; }
  ul.list .icon { display: none; }
  .actions form { flex: 1 1 100%; }
  .actions .button { width: 100%; }
  .hero .actions { flex-direction: column; }
  .hero .actions .button { width: 100%; }
  .foot { justify-content: center; text-align: center; }
}
`

/** The site icon, served from `/assets/icon.svg` (browsers ask for one on every page). */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#4f46e5"/><circle cx="16" cy="13" r="5" fill="none" stroke="#fff" stroke-width="3"/><rect x="14.5" y="17" width="3" height="9" rx="1.5" fill="#fff"/></svg>`
