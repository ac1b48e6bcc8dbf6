// The demo page's behaviour: fetch the picture URL, show it, offer the snippet, explain errors in
// words (the API's problem+json: which parameter, how long to wait), remember recent pictures in
// localStorage. Plain ES2017 in a string so the Worker serves it as a file; no build step.
export const DEMO_PAGE_SCRIPT = String.raw`'use strict';
(function () {
  var RECENT_KEY = 'dreamurl.recent';
  var RECENT_MAX = 8;
  var form = document.getElementById('generate-form');
  var button = document.getElementById('generate');
  var status = document.getElementById('status');
  var result = document.getElementById('result');
  var picture = document.getElementById('picture');
  var caption = document.getElementById('picture-caption');
  var snippet = document.getElementById('snippet');
  var copy = document.getElementById('copy');
  var contentLink = document.getElementById('content-url');
  var recentSection = document.getElementById('recent-section');
  var recentList = document.getElementById('recent');
  var shownObjectUrl = null;

  // Whitespace runs (line breaks from a paste or Shift+Enter included) become one space: the API
  // collapses spaces itself but refuses control characters such as a line break.
  function field(name) { return form.elements[name].value.replace(/\s+/g, ' ').trim(); }

  function setStatus(text, isError) {
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  function setBusy(busy) {
    button.disabled = busy;
    button.textContent = busy ? 'generating\u2026' : 'Generate';
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function queryFromForm() {
    var params = new URLSearchParams();
    params.set('prompt', field('prompt'));
    ['negative_prompt', 'seed', 'steps'].forEach(function (name) {
      var value = field(name);
      if (value !== '') params.set(name, value);
    });
    return params;
  }

  function escapeAttribute(text) {
    return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }

  function embedSnippet(url, prompt) {
    return '<img src="' + escapeAttribute(url) + '" alt="' + escapeAttribute(prompt) + '">';
  }

  // Turns an RFC 9457 problem into one sentence a person can act on.
  function explain(response, problem) {
    var retry = response.headers.get('Retry-After');
    var wait = retry ? ' Try again in ' + retry + ' second' + (retry === '1' ? '' : 's') + '.' : '';
    if (response.status === 400 && problem && Array.isArray(problem.errors) && problem.errors.length > 0) {
      return 'Check your input \u2014 ' + problem.errors.map(function (e) { return e.param + ': ' + e.message; }).join('; ');
    }
    if (response.status === 429) return 'Rate limit reached: too many new pictures for now.' + wait;
    if (response.status === 403) return 'This server only makes pictures for signed URLs. ' + ((problem && problem.detail) || '');
    if (response.status >= 500) return 'The picture could not be made right now (' + response.status + ').' + wait;
    return (problem && (problem.detail || problem.title)) || ('The server answered ' + response.status + '.');
  }

  function readRecent() {
    try {
      var stored = JSON.parse(localStorage.getItem(RECENT_KEY) || '[]');
      return Array.isArray(stored) ? stored : [];
    } catch (e) { return []; }
  }

  function remember(entry) {
    var recent = readRecent().filter(function (r) { return r.contentUrl !== entry.contentUrl; });
    recent.unshift(entry);
    try { localStorage.setItem(RECENT_KEY, JSON.stringify(recent.slice(0, RECENT_MAX))); } catch (e) { /* private mode */ }
    renderRecent();
  }

  function renderRecent() {
    var recent = readRecent();
    recentList.textContent = '';
    recent.forEach(function (entry) {
      var item = document.createElement('li');
      var link = document.createElement('a');
      link.href = entry.url;
      var image = document.createElement('img');
      image.src = entry.contentUrl;
      image.alt = entry.prompt;
      image.loading = 'lazy';
      link.appendChild(image);
      item.appendChild(link);
      recentList.appendChild(item);
    });
    recentSection.hidden = recent.length === 0;
  }

  function show(blob, response, prompt) {
    // response.url is the final URL: after seed=random it names the concrete seed.
    var url = response.url;
    var contentPath = response.headers.get('Content-Location');
    var contentUrl = contentPath ? new URL(contentPath, location.href).href : url;
    if (shownObjectUrl) URL.revokeObjectURL(shownObjectUrl);
    shownObjectUrl = URL.createObjectURL(blob);
    picture.src = shownObjectUrl;
    picture.alt = prompt;
    var cacheStatus = response.headers.get('Cache-Status') || '';
    caption.textContent = 'Seed ' + (response.headers.get('X-Seed') || '?') +
      (cacheStatus.indexOf('hit') >= 0 ? ' \u00b7 from the cache' : ' \u00b7 generated now');
    snippet.value = embedSnippet(url, prompt);
    contentLink.href = contentUrl;
    contentLink.textContent = contentUrl;
    result.hidden = false;
    remember({ url: url, contentUrl: contentUrl, prompt: prompt });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var prompt = field('prompt');
    if (prompt === '') {
      setStatus('Enter a prompt first.', true);
      form.elements.prompt.focus();
      return;
    }
    setBusy(true);
    setStatus('generating\u2026 the first request for a URL runs the model; repeats come from the cache.', false);
    var target = new URL('/v1/images?' + queryFromForm().toString(), location.href).href;
    fetch(target, { headers: { Accept: 'image/png, application/problem+json' } })
      .then(function (response) {
        if (response.ok) {
          return response.blob().then(function (blob) {
            show(blob, response, prompt);
            setStatus('Done.', false);
          });
        }
        return response.json().catch(function () { return null; }).then(function (problem) {
          setStatus(explain(response, problem), true);
        });
      })
      .catch(function () { setStatus('The server could not be reached. Check your connection and try again.', true); })
      .then(function () { setBusy(false); });
  });

  // Enter in the prompt box generates, as in a one-line field (a prompt has no line breaks).
  form.elements.prompt.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter' || event.shiftKey || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    event.preventDefault();
    if (button.disabled) return; // one picture at a time
    if (typeof form.requestSubmit === 'function') form.requestSubmit(button);
    else button.click();
  });

  copy.addEventListener('click', function () {
    snippet.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(snippet.value).then(function () { setStatus('Snippet copied.', false); },
        function () { setStatus('Select the snippet and copy it.', false); });
    }
  });

  renderRecent();
})();
`;
