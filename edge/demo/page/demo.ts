// The demo page's behaviour: fetch the picture URL, show it, offer the snippet, explain errors in words
// (the API's problem+json: which parameter, how long to wait), remember recent pictures in
// localStorage. While the picture is made, GET /v1/progress of the same query (an EventSource opened
// with the fetch) drives a progress bar: queue position, step count, time left. Runs in the browser: `npm run build:demo` bundles it (scripts/build-demo-page.ts) into
// the file both edges serve as /demo.js.

interface RecentPicture {
  readonly url: string;
  readonly contentUrl: string;
  readonly prompt: string;
}

/** The parts of an RFC 9457 problem the page reads. */
interface Problem {
  readonly title?: string;
  readonly detail?: string;
  readonly errors?: readonly { readonly param: string; readonly message: string }[];
}

const RECENT_KEY = 'dreamurl.recent';
const RECENT_MAX = 8;

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return found;
}

const form = element('generate-form', HTMLFormElement);
const button = element('generate', HTMLButtonElement);
const promptBox = element('prompt', HTMLTextAreaElement);
const status = element('status', HTMLParagraphElement);
const result = element('result', HTMLElement);
const picture = element('picture', HTMLImageElement);
const caption = element('picture-caption', HTMLElement);
const snippet = element('snippet', HTMLInputElement);
const copy = element('copy', HTMLButtonElement);
const contentLink = element('content-url', HTMLAnchorElement);
const recentSection = element('recent-section', HTMLElement);
const recentList = element('recent', HTMLUListElement);
const progressBox = element('progress', HTMLDivElement);
const progressBar = element('progress-bar', HTMLProgressElement);
const progressText = element('progress-text', HTMLParagraphElement);
let shownObjectUrl: string | null = null;

// Whitespace runs (line breaks from a paste or Shift+Enter included) become one space: the API
// collapses spaces itself but refuses control characters such as a line break.
function field(name: 'prompt' | 'negative_prompt' | 'seed' | 'steps'): string {
  const control = form.elements.namedItem(name);
  const value = control instanceof HTMLInputElement || control instanceof HTMLTextAreaElement ? control.value : '';
  return value.replace(/\s+/g, ' ').trim();
}

function setStatus(text: string, isError: boolean): void {
  status.textContent = text;
  status.className = isError ? 'error' : '';
}

function setBusy(busy: boolean): void {
  button.disabled = busy;
  button.textContent = busy ? 'generating…' : 'Generate';
  form.setAttribute('aria-busy', busy ? 'true' : 'false');
}

function queryFromForm(): URLSearchParams {
  const params = new URLSearchParams();
  params.set('prompt', field('prompt'));
  for (const name of ['negative_prompt', 'seed', 'steps'] as const) {
    const value = field(name);
    if (value !== '') params.set(name, value);
  }
  return params;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function embedSnippet(url: string, prompt: string): string {
  return `<img src="${escapeAttribute(url)}" alt="${escapeAttribute(prompt)}">`;
}

/** Turns an RFC 9457 problem into one sentence a person can act on. */
function explain(response: Response, problem: Problem | null): string {
  const retry = response.headers.get('Retry-After');
  const wait = retry ? ` Try again in ${retry} second${retry === '1' ? '' : 's'}.` : '';
  if (response.status === 400 && problem?.errors !== undefined && problem.errors.length > 0) {
    return `Check your input — ${problem.errors.map((e) => `${e.param}: ${e.message}`).join('; ')}`;
  }
  if (response.status === 429) return `Rate limit reached: too many new pictures for now.${wait}`;
  if (response.status === 403) return `This server only makes pictures for signed URLs. ${problem?.detail ?? ''}`;
  if (response.status >= 500) return `The picture could not be made right now (${response.status}).${wait}`;
  return problem?.detail || problem?.title || `The server answered ${response.status}.`;
}

/** The data of GET /v1/progress's events (docs/edge-api.md, "Progress"). */
interface QueuedEvent {
  readonly position: number;
}
interface StepEvent {
  readonly step: number;
  readonly steps: number;
  readonly eta_ms: number;
}

function showProgress(text: string, step?: { value: number; max: number }): void {
  progressBox.hidden = false;
  progressText.textContent = text;
  if (step === undefined) {
    progressBar.removeAttribute('value'); // indeterminate: waiting, not yet counting
  } else {
    progressBar.max = step.max;
    progressBar.value = step.value;
  }
}

function timeLeft(etaMs: number): string {
  if (etaMs === 0) return 'finishing'; // the last step is done; the picture is being decoded and stored
  const seconds = Math.ceil(etaMs / 1000);
  return seconds <= 1 ? 'about a second left' : `about ${seconds} s left`;
}

/**
 * Watches the generation of the picture `query` names until the picture's own request ends (the
 * caller closes it). The stream's `done` and `error` only end the watching: the picture's answer is
 * what the page shows, and a watcher that loses its stream just hides the bar.
 */
function watchProgress(query: string): { close(): void } {
  const source = new EventSource(`/v1/progress?${query}`);
  const close = () => {
    source.close();
    progressBox.hidden = true;
  };
  showProgress('Waiting for the generation to start…');
  source.addEventListener('queued', (event) => {
    const { position } = JSON.parse(event.data) as QueuedEvent;
    const ahead = position === 0 ? 'next in the queue' : `${position} ahead in the queue`;
    showProgress(`Queued: ${ahead}…`);
  });
  source.addEventListener('step', (event) => {
    const { step, steps, eta_ms: eta } = JSON.parse(event.data) as StepEvent;
    showProgress(`Step ${step} of ${steps} · ${timeLeft(eta)}`, { value: step, max: steps });
  });
  source.addEventListener('done', () => {
    showProgress('Done: loading the picture…', { value: 1, max: 1 });
    source.close();
  });
  // Both the stream's own `error` event (a problem) and a lost connection: stop watching.
  source.addEventListener('error', close);
  return { close };
}

function readRecent(): RecentPicture[] {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(stored) ? (stored as RecentPicture[]) : [];
  } catch {
    return [];
  }
}

function remember(entry: RecentPicture): void {
  const recent = readRecent().filter((r) => r.contentUrl !== entry.contentUrl);
  recent.unshift(entry);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(recent.slice(0, RECENT_MAX)));
  } catch {
    // Private mode or a full quota: the list is a convenience, the picture is shown anyway.
  }
  renderRecent();
}

function renderRecent(): void {
  const recent = readRecent();
  recentList.textContent = '';
  for (const entry of recent) {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = entry.url;
    const image = document.createElement('img');
    image.src = entry.contentUrl;
    image.alt = entry.prompt;
    image.loading = 'lazy';
    link.appendChild(image);
    item.appendChild(link);
    recentList.appendChild(item);
  }
  recentSection.hidden = recent.length === 0;
}

function show(blob: Blob, response: Response, prompt: string): void {
  // response.url is the final URL: after seed=random it names the concrete seed.
  const url = response.url;
  const contentPath = response.headers.get('Content-Location');
  const contentUrl = contentPath ? new URL(contentPath, location.href).href : url;
  if (shownObjectUrl) URL.revokeObjectURL(shownObjectUrl);
  shownObjectUrl = URL.createObjectURL(blob);
  picture.src = shownObjectUrl;
  picture.alt = prompt;
  const cacheStatus = response.headers.get('Cache-Status') ?? '';
  const origin = cacheStatus.includes('hit') ? ' · from the cache' : ' · generated now';
  caption.textContent = `Seed ${response.headers.get('X-Seed') ?? '?'}${origin}`;
  snippet.value = embedSnippet(url, prompt);
  contentLink.href = contentUrl;
  contentLink.textContent = contentUrl;
  result.hidden = false;
  remember({ url, contentUrl, prompt });
}

async function generate(prompt: string): Promise<void> {
  const query = queryFromForm().toString();
  const target = new URL(`/v1/images?${query}`, location.href).href;
  const progress = watchProgress(query);
  try {
    await fetchAndShow(target, prompt);
  } finally {
    progress.close();
  }
}

async function fetchAndShow(target: string, prompt: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(target, { headers: { Accept: 'image/png, application/problem+json' } });
    if (response.ok) {
      show(await response.blob(), response, prompt);
      setStatus('Done.', false);
      return;
    }
  } catch {
    setStatus('The server could not be reached. Check your connection and try again.', true);
    return;
  }
  const problem = (await response.json().catch(() => null)) as Problem | null;
  setStatus(explain(response, problem), true);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const prompt = field('prompt');
  if (prompt === '') {
    setStatus('Enter a prompt first.', true);
    promptBox.focus();
    return;
  }
  setBusy(true);
  setStatus('generating… the first request for a URL runs the model; repeats come from the cache.', false);
  void generate(prompt).finally(() => setBusy(false));
});

// Enter in the prompt box generates, as in a one-line field (a prompt has no line breaks).
promptBox.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter' || event.shiftKey || event.ctrlKey || event.altKey || event.metaKey) return;
  if (event.isComposing) return;
  event.preventDefault();
  if (button.disabled) return; // one picture at a time
  // requestSubmit runs the form's validation and submit handler as a click would (older browsers lack it).
  if (typeof form.requestSubmit === 'function') form.requestSubmit(button);
  else button.click();
});

copy.addEventListener('click', () => {
  snippet.select();
  navigator.clipboard?.writeText(snippet.value).then(
    () => setStatus('Snippet copied.', false),
    () => setStatus('Select the snippet and copy it.', false),
  );
});

renderRecent();
