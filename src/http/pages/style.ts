/** The one stylesheet of the web pages, served from `/assets/style.css` (no inline styles, for the CSP). */
export const STYLESHEET = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dee8; --accent: #2f5bea; --bad: #b42318; --bg: #f5f7fb; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
.bar { display: flex; justify-content: space-between; align-items: center; padding: 0.9rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.15rem; color: var(--ink); text-decoration: none; letter-spacing: 0.02em; }
nav { display: flex; gap: 1rem; align-items: center; }
nav a { color: var(--accent); text-decoration: none; }
.who { color: var(--muted); font-size: 0.9rem; }
.card { max-width: 26rem; margin: 3rem auto; padding: 2rem; background: #fff; border: 1px solid var(--line); border-radius: 10px; box-shadow: 0 1px 3px rgba(20, 30, 60, 0.06); }
h1 { margin: 0 0 1.25rem; font-size: 1.5rem; }
label { display: block; margin: 0 0 1rem; font-weight: 600; font-size: 0.9rem; }
input { display: block; width: 100%; margin-top: 0.35rem; padding: 0.6rem 0.7rem; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
button { width: 100%; padding: 0.65rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0; border-radius: 6px; cursor: pointer; }
button.secondary { color: var(--ink); background: #eef1f7; }
.error { margin: 0 0 1rem; padding: 0.6rem 0.8rem; color: var(--bad); background: #fef3f2; border: 1px solid #fecdca; border-radius: 6px; }
.hint { color: var(--muted); font-size: 0.9rem; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.4rem 1rem; margin: 0 0 1.5rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: break-word; }
.success { margin: 0 0 1rem; padding: 0.6rem 0.8rem; color: #05603a; background: #ecfdf3; border: 1px solid #abefc6; border-radius: 6px; }
.providers { display: grid; gap: 0.5rem; margin: 0 0 1.25rem; }
a.provider { display: block; padding: 0.6rem; text-align: center; font-weight: 600; color: var(--ink); text-decoration: none; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
a.provider:hover, a.provider:focus { border-color: var(--accent); }
.or { display: flex; align-items: center; gap: 0.75rem; margin: 0 0 1.25rem; color: var(--muted); font-size: 0.85rem; }
.or::before, .or::after { content: ""; flex: 1; border-top: 1px solid var(--line); }
h2 { margin: 1.5rem 0 0.75rem; font-size: 1.1rem; }
ul.identities { list-style: none; margin: 0 0 1rem; padding: 0; }
ul.identities li { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: 0.5rem 0; border-bottom: 1px solid var(--line); }
ul.identities form { margin: 0; }
ul.identities button, form.inline button { width: auto; padding: 0.35rem 0.8rem; }
`

/** The site icon, served from `/assets/icon.svg` (browsers ask for one on every page). */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f5bea"/><circle cx="16" cy="13" r="5" fill="none" stroke="#fff" stroke-width="3"/><rect x="14.5" y="17" width="3" height="9" rx="1.5" fill="#fff"/></svg>`
