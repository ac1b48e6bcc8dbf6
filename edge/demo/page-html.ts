// The demo page's markup. Every control has a label; the status line is an aria-live region so a
// screen reader hears "generating…", errors and success; Enter in the prompt box generates.
export const DEMO_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dreamurl — a picture for every URL</title>
<link rel="stylesheet" href="/demo.css">
<script src="/demo.js" defer></script>
</head>
<body>
<main>
  <h1>dreamurl</h1>
  <p class="lead">Describe a picture. Its URL is the picture: embed it anywhere, and every later visit is served from the cache.</p>

  <form id="generate-form" novalidate>
    <label for="prompt">Prompt</label>
    <textarea id="prompt" name="prompt" rows="3" maxlength="1000" required aria-describedby="prompt-hint"
      placeholder="a lighthouse at dusk, oil painting"></textarea>
    <p id="prompt-hint" class="field-hint">Press Enter to generate.</p>

    <details id="options">
      <summary>Options</summary>
      <div class="options-grid">
        <label for="negative_prompt">Negative prompt</label>
        <input id="negative_prompt" name="negative_prompt" type="text" maxlength="1000" placeholder="blurry, text">
        <label for="seed">Seed</label>
        <input id="seed" name="seed" type="text" inputmode="numeric" placeholder="derived from the prompt">
        <label for="steps">Steps</label>
        <input id="steps" name="steps" type="text" inputmode="numeric" placeholder="the model's default">
      </div>
    </details>

    <button id="generate" type="submit">Generate</button>
  </form>

  <p id="status" role="status" aria-live="polite"></p>

  <section id="result" hidden aria-labelledby="result-heading">
    <h2 id="result-heading">Your picture</h2>
    <figure>
      <img id="picture" alt="">
      <figcaption id="picture-caption"></figcaption>
    </figure>
    <label for="snippet">Embed it</label>
    <div class="snippet-row">
      <input id="snippet" type="text" readonly>
      <button id="copy" type="button">Copy</button>
    </div>
    <p class="hint">Content URL (the stored file): <a id="content-url" href="#"></a></p>
  </section>

  <section id="recent-section" hidden aria-labelledby="recent-heading">
    <h2 id="recent-heading">Recent pictures from this browser</h2>
    <ul id="recent"></ul>
  </section>
</main>
</body>
</html>
`;
