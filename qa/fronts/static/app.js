// newsqa chat page: asks POST /search and shows the passages it returns. All article text goes into
// the page with textContent, never as HTML.
// (a module: strict, and nothing leaks into the global scope)

const NOT_ANSWERED = "The articles don't seem to answer this. Closest passages:";
const MAX_CONTEXT = 10; // the server accepts at most 10 previous turns
const MAX_AROUND = 10; // and at most 10 passages each side of one in the article view

const COPIED_FOR_MS = 2000; // how long a copy button says "Copied"
// what the score of each mode is (qa/search/ranking.py): one line under a passage, behind its "?"
const SCORE_MEANING = {
  hybrid: "Score 0–1, higher is better: half the cosine similarity of question and passage (−1 to 1) plus half "
    + "its BM25 share (BM25 over the most the question's words could score). Absolute: it means the same for "
    + "every question.",
  dense: "Score: the cosine similarity of question and passage, −1 to 1 (in practice about 0–1), higher is better.",
  bm25: "Score 0–1, higher is better: BM25 over the most the question's words could score.",
};

const state = { asked: [], turns: 0, busy: false, reader: null };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// Hard-wrapped article lines read as one paragraph; blank lines stay paragraph breaks and a line that
// starts with a bullet stays a line (shown with CSS white-space: pre-line). Only whitespace changes.
function readable(text) {
  return text
    .replace(/\r/g, "")
    .replace(/\n[ \t]*\n\s*/g, "\u0000")
    .replace(/[ \t]*\n[ \t]*(?=[•▪‣◦*–-]\s)/g, "\u0001")
    .replace(/\s*\n\s*/g, " ")
    .replace(/\u0000/g, "\n\n")
    .replace(/\u0001/g, "\n");
}

function sourceLabel(source) {
  return [source.title, source.publisher, source.published, source.byline].filter(Boolean).join(" · ");
}

// the article's own address, only when it is a web address (a record's url could say "javascript:")
function webAddress(url) {
  if (typeof url !== "string") return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch (error) {
    return null;
  }
}

// "Title · Publisher · 2022-01-13 · Byline" as spans (the date never wraps); textContent is sourceLabel's.
// With `url`, the first part links to the article (its text fragment opens the page at the quote).
function sourceParts(container, source, url, withTitle = true) {
  const parts = [];
  if (withTitle && source.title) parts.push(el("span", "headline", source.title));
  if (source.publisher) parts.push(el("span", "publisher", source.publisher));
  if (source.published) {
    const date = el("time", "date", source.published);
    date.dateTime = source.published;
    parts.push(date);
  }
  if (source.byline) parts.push(el("span", "byline", source.byline));
  const address = webAddress(url);
  if (address && parts.length) {
    const link = el("a", `${parts[0].className} source-link`, parts[0].textContent);
    link.href = address;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.title = "Open the article at the quoted words";
    parts[0] = link;
  }
  parts.forEach((part, index) => {
    if (index > 0) container.append(document.createTextNode(" · "));
    container.append(part);
  });
  return parts.length;
}

function lineRange(lineStart, lineEnd) {
  return lineStart === lineEnd ? `${lineStart}` : `${lineStart}-${lineEnd}`;
}

// "seeds/001.txt:116" or "news.jsonl#17:3-5", as the command line shows it
function whereLabel(path, sourceId, lineStart, lineEnd) {
  return `${path}${sourceId ? "#" + sourceId : ""}:${lineRange(lineStart, lineEnd)}`;
}

// The API's offsets count code points (Python string indices); a JS string counts UTF-16 units, two for an
// emoji or any character past U+FFFF. The index in `text`'s units of its code point `offset` (clamped to it).
function unitIndex(text, offset) {
  let units = 0;
  let points = 0;
  for (const char of text) { // iterates code points
    if (points >= offset) break;
    units += char.length;
    points += 1;
  }
  return units;
}

// `text` with the raw-file range [markStart, markEnd) wrapped in <mark>; `start` is text's own offset.
function quoted(container, text, start, markStart, markEnd, markClass) {
  if (markStart === null || markStart === undefined) {
    container.append(document.createTextNode(readable(text)));
    return null;
  }
  const from = unitIndex(text, markStart - start);
  const to = Math.max(from, unitIndex(text, markEnd - start));
  if (to <= from) {
    container.append(document.createTextNode(readable(text)));
    return null;
  }
  container.append(document.createTextNode(readable(text.slice(0, from))));
  const mark = el("mark", markClass, readable(text.slice(from, to)));
  container.append(mark, document.createTextNode(readable(text.slice(to))));
  return mark;
}

// the exact answer: a <mark class="answer"> around its span inside the highlighted sentence's mark
function markAnswer(mark, hit, answer) {
  if (!answer || !hit.highlight) return;
  if (answer.start < hit.highlight.start || answer.end > hit.highlight.end || answer.end <= answer.start) return;
  // offsets into hit.text, in code points, then in the UTF-16 units that slice() counts
  const [from, start, end, to] = [hit.highlight.start, answer.start, answer.end, hit.highlight.end].map(
    (offset) => unitIndex(hit.text, offset - hit.start),
  );
  const inner = el("mark", "answer", readable(hit.text.slice(start, end)));
  inner.title = "The answer";
  mark.replaceChildren(
    document.createTextNode(readable(hit.text.slice(from, start))),
    inner,
    document.createTextNode(readable(hit.text.slice(end, to))),
  );
}

function announce(message) {
  const live = document.getElementById("live");
  live.textContent = "";
  window.setTimeout(() => { live.textContent = message; }, 50);
}

// --- copying ---

// Copies `text` (a string, or a promise of one) to the clipboard; true when it worked. The Clipboard API needs
// a secure context (https or localhost): elsewhere, a hidden textarea and execCommand("copy").
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      if (typeof text !== "string" && window.ClipboardItem && navigator.clipboard.write) {
        // the item is written at once, in the click, and filled when the text arrives (Safari wants it so)
        const blob = Promise.resolve(text).then((value) => new Blob([value], { type: "text/plain" }));
        await navigator.clipboard.write([new ClipboardItem({ "text/plain": blob })]);
      } else {
        await navigator.clipboard.writeText(await text);
      }
      return true;
    } catch (error) {
      // refused (no permission, page not focused): try the old way
    }
  }
  return fallbackCopy(await text);
}

function fallbackCopy(text) {
  const focused = document.activeElement;
  const area = el("textarea", "clipboard-fallback");
  area.value = text;
  area.setAttribute("readonly", "");
  area.setAttribute("aria-hidden", "true");
  area.tabIndex = -1;
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch (error) {
    copied = false;
  }
  area.remove();
  if (focused && focused.focus) focused.focus({ preventScroll: true });
  return copied;
}

// the button says "Copied" (or that it could not) for a moment, and screen readers hear it
function copied(button, ok, what) {
  if (!button.dataset.label) button.dataset.label = button.textContent;
  window.clearTimeout(Number(button.dataset.timer || 0));
  button.textContent = ok ? "Copied ✓" : "Could not copy";
  button.classList.toggle("copied", ok);
  announce(ok ? `${what} copied to the clipboard.` : `Could not copy the ${what.toLowerCase()}.`);
  const timer = window.setTimeout(() => {
    button.textContent = button.dataset.label;
    button.classList.remove("copied");
  }, COPIED_FOR_MS);
  button.dataset.timer = String(timer);
}

async function copyCitation(button, citation) {
  copied(button, await copyText(citation.text).catch(() => false), "Citation");
}

// the whole answer as Markdown, as the server writes it: the same request again, with ?format=markdown
async function copyMarkdown(button, request) {
  const text = fetch("/search?format=markdown", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/markdown" },
    body: JSON.stringify(request),
  }).then(async (response) => {
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    return response.text();
  });
  copied(button, await copyText(text).catch(() => false), "Answer as Markdown");
}

// --- filters ---

function activeFilters() {
  const filters = {};
  const source = document.getElementById("filter-source").value.trim();
  const since = document.getElementById("filter-since").value;
  const until = document.getElementById("filter-until").value;
  if (source) filters.source = source;
  if (since) filters.since = since;
  if (until) filters.until = until;
  return filters;
}

function showFilterState() {
  const count = Object.keys(activeFilters()).length;
  const badge = document.getElementById("filters-on");
  badge.hidden = count === 0;
  badge.textContent = count ? ` · ${count} on` : "";
  document.getElementById("filters-clear").hidden = count === 0; // one click clears them, the row open or not
}

function clearFilters() {
  for (const id of ["filter-source", "filter-since", "filter-until"]) document.getElementById(id).value = "";
  showFilterState();
  announce("Filters cleared.");
  document.getElementById("question").focus();
}

// "Filters: source “Reuters” · since 2022-01-01", shown with the answer they narrowed
function filtersLine(filters) {
  const line = el("p", "filters-used", "Filters: ");
  const parts = [];
  if (filters.source) parts.push(el("span", "filter-source", `source “${filters.source}”`));
  if (filters.since) parts.push(el("span", "filter-date", `since ${filters.since}`));
  if (filters.until) parts.push(el("span", "filter-date", `until ${filters.until}`));
  parts.forEach((part, index) => {
    if (index > 0) line.append(document.createTextNode(" · "));
    line.append(part);
  });
  return line;
}

// --- asking ---

async function ask(question) {
  const turnNumber = ++state.turns;
  const turn = el("article", "turn");
  turn.id = `turn-${turnNumber}`;
  turn.setAttribute("aria-label", `Question ${turnNumber}`);
  const you = el("p", "you");
  you.append(el("span", "who", "You"), el("span", "question-text", question));
  const answer = el("section", "answer");
  answer.setAttribute("aria-label", `Answer ${turnNumber}`);
  answer.setAttribute("aria-busy", "true");
  answer.append(el("p", "searching", "Searching the articles…"));
  turn.append(you, answer);
  document.getElementById("conversation").append(turn);
  document.getElementById("hint").hidden = true;
  turn.scrollIntoView({ block: "end" });

  const body = {
    question,
    k: Number(document.getElementById("k").value),
    mode: document.getElementById("mode").value,
    context: state.asked.slice(-MAX_CONTEXT),
    ...activeFilters(), // only the filters that are set
  };
  let payload;
  let ok = false;
  try {
    const response = await fetch("/search", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    payload = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
    ok = response.ok;
  } catch (error) {
    payload = { error: "the server cannot be reached; is it still running?" };
  }
  answer.replaceChildren();
  answer.removeAttribute("aria-busy");
  if (!ok) {
    const message = el("p", "error", `Could not answer: ${payload.error || "unknown error"}`);
    message.setAttribute("role", "alert");
    answer.append(message);
    return;
  }
  state.asked.push(question);
  renderAnswer(answer, payload, turnNumber, body);
  announce(summary(payload));
  turn.scrollIntoView({ block: "start" });
}

function summary(result) {
  const n = result.passages.length;
  if (n === 0) return emptyReason(result);
  const passages = `${n} passage${n === 1 ? "" : "s"}`;
  if (!result.answered) return `The articles don't seem to answer this. ${passages} shown.`;
  if (result.disagree) return `The sources disagree. ${passages} shown.`;
  return `Answer: ${passages}.`;
}

function renderAnswer(answer, result, turnNumber, request) {
  if (result.searched_for && result.searched_for !== result.question) {
    const searched = el("p", "searched", "Searched for: ");
    searched.append(el("q", null, result.searched_for));
    answer.append(searched);
  }
  if (request.source || request.since || request.until) answer.append(filtersLine(request));
  if (result.passages.length === 0) {
    // the server says why when it can ("no article matches the filters"); otherwise the plain fact
    answer.append(el("p", "notice empty", emptyReason(result)));
    return;
  }
  if (!result.answered) {
    answer.append(el("p", "notice abstain", NOT_ANSWERED));
  } else if (result.disagree || result.values.some((value) => documentsOf(value) > 1)) {
    answer.append(valuesPanel(result.values, result.disagree, turnNumber));
  }
  const list = el("ol", "passages");
  list.setAttribute("aria-label", "Passages, best first");
  result.passages.forEach((hit, index) => {
    // the exact answer, when there is one, lies in the top hit's highlighted sentence
    list.append(passageCard(hit, turnNumber, result.answered, index === 0 ? result.answer : null, request.mode));
  });
  answer.append(list);
  const actions = el("div", "answer-actions");
  const markdown = el("button", "copy-markdown", "Copy as Markdown");
  markdown.type = "button";
  markdown.title = "The question and every passage with its citation, as Markdown";
  markdown.addEventListener("click", () => copyMarkdown(markdown, request));
  actions.append(markdown);
  answer.append(actions);
}

// why an answer has no passage, as the server says it ("no article's publisher … contains 'x'"), as a sentence
function emptyReason(result) {
  const reason = typeof result.empty_reason === "string" ? result.empty_reason.trim() : "";
  return reason ? reason.charAt(0).toUpperCase() + reason.slice(1) : "No passages found.";
}

// how many documents give a value (a wire copy is a document of its own, as the terminal counts them)
function documentsOf(value) {
  return new Set(value.sources.map((source) => `${source.path}#${source.source_id}`)).size;
}

// the figures or dates the sources give: when they differ, or when two or more documents agree
function valuesPanel(values, disagree, turnNumber) {
  const block = el("div", disagree ? "notice disagree" : "notice agree");
  block.append(el("p", "disagree-title", disagree ? "The sources disagree:" : "The sources agree:"));
  const list = el("ul");
  for (const value of values) {
    const item = el("li");
    item.append(el("strong", "value", value.value), document.createTextNode(": "));
    value.sources.forEach((source, index) => {
      if (index > 0) item.append(document.createTextNode("; "));
      const link = el("a", null, source.publisher || source.title || source.path);
      link.href = `#turn-${turnNumber}-passage-${source.rank}`;
      item.append(link, document.createTextNode(` [${source.rank}${source.copy ? ", also in" : ""}]`));
    });
    list.append(item);
  }
  block.append(list);
  return block;
}

function scoreParts(scores) {
  const parts = [];
  if (scores && scores.dense !== null && scores.dense !== undefined) parts.push(`cosine ${scores.dense.toFixed(2)}`);
  if (scores && scores.bm25 !== null && scores.bm25 !== undefined) parts.push(`BM25 ${scores.bm25.toFixed(1)} (raw, unbounded)`);
  return parts.length ? ` This passage: ${parts.join(", ")}.` : "";
}

function passageCard(hit, turnNumber, answered, answer, mode) {
  const card = el("li", "passage");
  card.id = `turn-${turnNumber}-passage-${hit.rank}`;
  const citation = hit.citation || null;
  const head = el("div", "passage-head");
  head.append(el("span", "rank", `[${hit.rank}]`));
  const label = el("span", "source-label");
  const url = (citation && citation.url) || hit.source.url;
  if (!sourceParts(label, hit.source, url)) label.textContent = hit.source.path;
  head.append(label);
  card.append(head);

  const where = el("p", "where");
  where.append(el("code", "location", whereLabel(hit.source.path, hit.source.id, hit.line_start, hit.line_end)));
  const meaning = (SCORE_MEANING[mode] || SCORE_MEANING.hybrid) + scoreParts(hit.scores);
  const score = el("span", "score", ` score ${hit.score.toFixed(3)}`);
  score.title = meaning;
  const help = el("button", "score-help", "?");
  help.type = "button";
  help.setAttribute("aria-label", "What the score means");
  help.setAttribute("aria-expanded", "false");
  const legend = el("p", "score-legend", meaning);
  legend.id = `${card.id}-score`;
  legend.hidden = true;
  help.setAttribute("aria-controls", legend.id);
  help.addEventListener("click", () => {
    legend.hidden = !legend.hidden;
    help.setAttribute("aria-expanded", String(!legend.hidden));
  });
  where.append(score, document.createTextNode(" "), help);
  card.append(where, legend);

  const quote = el("blockquote", "quote");
  // an abstention marks no sentence: nothing on the page may look like an answer
  const highlight = (answered && hit.highlight) || {};
  const mark = quoted(quote, hit.text, hit.start, highlight.start, highlight.end, "highlight");
  if (mark) mark.title = "The sentence most likely to answer";
  if (mark && answered) markAnswer(mark, hit, answer);
  card.append(quote);

  if (hit.also_in && hit.also_in.length) {
    const also = el("div", "also-in");
    also.append(el("p", "also-in-title", "Also in:"));
    const list = el("ul");
    for (const other of hit.also_in) {
      const item = el("li");
      const name = other.publisher || other.title;
      if (name) item.append(el("span", "also-name", name), document.createTextNode(" "));
      item.append(el("code", "location", whereLabel(other.path, other.source_id, other.line_start, other.line_end)));
      const read = el("button", "link", "read");
      read.type = "button";
      read.setAttribute("aria-haspopup", "dialog");
      read.setAttribute("aria-label", `Read this text in ${name || other.path}`);
      read.addEventListener("click", () => openReader(other.id, other.start, other.end, read));
      item.append(document.createTextNode(" "), read);
      list.append(item);
    }
    also.append(list);
    card.append(also);
  }

  const actions = el("div", "passage-actions");
  const read = el("button", "read", "Read in the article");
  read.type = "button";
  read.setAttribute("aria-haspopup", "dialog");
  read.addEventListener("click", () => openReader(hit.id, highlight.start, highlight.end, read));
  actions.append(read);
  if (citation && citation.text) {
    const copy = el("button", "copy-citation", "Copy citation");
    copy.type = "button";
    copy.title = citation.text;
    copy.addEventListener("click", () => copyCitation(copy, citation));
    actions.append(copy);
  }
  card.append(actions);
  return card;
}

// --- the article view: a passage among its neighbours ---

async function openReader(passageId, markStart, markEnd, opener) {
  state.reader = { passageId, markStart, markEnd, opener, before: 2, after: 2 };
  const dialog = document.getElementById("reader");
  document.getElementById("reader-title").textContent = "Loading…";
  document.getElementById("reader-where").textContent = "";
  document.getElementById("reader-body").replaceChildren();
  if (!dialog.open) dialog.showModal();
  await loadReader();
  document.getElementById("reader-title").focus({ preventScroll: true });
}

async function loadReader() {
  const reader = state.reader;
  const body = document.getElementById("reader-body");
  const url = `/passages/${encodeURIComponent(reader.passageId)}/context?before=${reader.before}&after=${reader.after}`;
  let payload;
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    payload = await response.json();
    if (!response.ok) throw new Error(payload.error || `the server answered ${response.status}`);
  } catch (error) {
    document.getElementById("reader-title").textContent = "Could not load the article";
    body.replaceChildren(el("p", "error", String(error.message || error)));
    return;
  }
  // the headline stays in view (a sticky header) while the article scrolls
  document.getElementById("reader-title").textContent = payload.source.title || payload.source.path;
  const where = document.getElementById("reader-where");
  where.replaceChildren();
  if (sourceParts(where, payload.source, payload.source.url, false)) where.append(document.createTextNode(" · "));
  where.append(el("code", "location", payload.source.path + (payload.source.id ? "#" + payload.source.id : "")));
  body.replaceChildren();
  let current = null;
  for (const passage of payload.passages) {
    const paragraph = el("p", passage.current ? "context current" : "context");
    paragraph.title = `lines ${lineRange(passage.line_start, passage.line_end)}`;
    quoted(paragraph, passage.text, passage.start, reader.markStart, reader.markEnd, "highlight");
    body.append(paragraph);
    if (passage.current) current = paragraph;
  }
  const earlier = document.getElementById("reader-earlier");
  const later = document.getElementById("reader-later");
  earlier.hidden = !payload.more_before || reader.before >= MAX_AROUND;
  later.hidden = !payload.more_after || reader.after >= MAX_AROUND;
  if (current) current.scrollIntoView({ block: "center" });
}

function closeReader() {
  document.getElementById("reader").close();
}

// --- wiring ---

function newConversation() {
  state.asked = [];
  document.getElementById("conversation").replaceChildren();
  document.getElementById("hint").hidden = false;
  announce("New conversation.");
  document.getElementById("question").focus();
}

async function loadHealth() {
  try {
    const response = await fetch("/health");
    const health = await response.json();
    // "seeds · 5 articles · 47 passages"
    const count = (n, one) => `${Number(n).toLocaleString("en")} ${one}${n === 1 ? "" : "s"}`;
    const parts = [health.corpus];
    if (typeof health.documents === "number") parts.push(count(health.documents, "article"));
    parts.push(count(health.passages, "passage"));
    document.getElementById("index-status").textContent = parts.filter(Boolean).join(" · ");
  } catch (error) {
    document.getElementById("index-status").textContent = "The server cannot be reached.";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) {
      announce("Type a question first.");
      input.focus();
      return;
    }
    if (state.busy) return;
    state.busy = true;
    send.disabled = true;
    input.value = "";
    try {
      await ask(question);
    } finally {
      state.busy = false;
      send.disabled = false;
      input.focus();
    }
  });
  document.getElementById("new-conversation").addEventListener("click", newConversation);
  for (const id of ["filter-source", "filter-since", "filter-until"]) {
    document.getElementById(id).addEventListener("input", showFilterState);
  }
  document.getElementById("filters-clear").addEventListener("click", clearFilters);
  showFilterState();

  const dialog = document.getElementById("reader");
  document.getElementById("reader-close").addEventListener("click", closeReader);
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) closeReader(); // a click on the backdrop
  });
  dialog.addEventListener("close", () => {
    if (state.reader && state.reader.opener) state.reader.opener.focus();
  });
  document.getElementById("reader-earlier").addEventListener("click", () => {
    state.reader.before = Math.min(MAX_AROUND, state.reader.before + 3);
    loadReader();
  });
  document.getElementById("reader-later").addEventListener("click", () => {
    state.reader.after = Math.min(MAX_AROUND, state.reader.after + 3);
    loadReader();
  });
  loadHealth();
  input.focus();
});
