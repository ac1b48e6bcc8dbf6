// The demo page's styles: one column that fits a phone, system fonts, visible focus.
export const DEMO_PAGE_STYLE = `
:root { color-scheme: light dark; --accent: #3b5bdb; --error: #c92a2a; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 44rem; margin: 0 auto; padding: 1rem; }
h1 { margin: 0.5rem 0; font-size: 1.8rem; }
.lead { margin-top: 0; opacity: 0.85; }
label { display: block; font-weight: 600; margin: 0.75rem 0 0.25rem; }
textarea, input[type=text] { width: 100%; padding: 0.6rem; font: inherit; border: 1px solid #8888; border-radius: 6px; }
details { margin: 0.75rem 0; }
summary { cursor: pointer; }
.options-grid label { font-weight: 500; }
button { font: inherit; padding: 0.6rem 1.2rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
button:disabled { opacity: 0.6; cursor: progress; }
button:focus-visible, textarea:focus-visible, input:focus-visible, summary:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
#generate { margin-top: 0.75rem; width: 100%; }
#status { min-height: 1.5em; }
#status.error { color: var(--error); font-weight: 600; }
figure { margin: 0; }
/* One size whatever the model's: a 64 px test picture no smaller than the recent thumbnails, a
   1024 px one no wider than the column. */
#picture { display: block; width: 100%; max-width: 32rem; height: auto; border-radius: 6px; image-rendering: auto; }
figcaption { font-size: 0.9rem; opacity: 0.8; }
.snippet-row { display: flex; gap: 0.5rem; }
.snippet-row input { flex: 1; font-family: ui-monospace, monospace; font-size: 0.85rem; }
.hint { font-size: 0.9rem; word-break: break-all; }
.field-hint { margin: 0.25rem 0 0; font-size: 0.85rem; opacity: 0.8; }
#recent { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(6rem, 1fr)); gap: 0.5rem; }
#recent img { width: 100%; height: auto; border-radius: 4px; display: block; }
#recent a { display: block; }
@media (min-width: 40rem) { #generate { width: auto; } }
`;
