// newsqa chat page: asks POST /search and shows the passages it returns. All article text goes into
// the page with textContent, never as HTML.
// (a module: strict, and nothing leaks into the global scope)

const NOT_ANSWERED = "The articles don't seem to answer this. Closest passages:";
const MAX_CONTEXT = 10; // the server accepts at most 10 previous turns
const MAX_AROUND = 10; // and at most 10 passages each side of one in the article view

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
  renderAnswer(answer, payload, turnNumber);
  announce(summary(payload));
  turn.scrollIntoView({ block: "start" });
}

function summary(result) {
  const n = result.passages.length;
  if (n === 0) return "No passages found.";
  const passages = `${n} passage${n === 1 ? "" : "s"}`;
  if (!result.answered) return `The articles don't seem to answer this. ${passages} shown.`;
  if (result.disagree) return `The sources disagree. ${passages} shown.`;
  return `Answer: ${passages}.`;
}

function renderAnswer(answer, result, turnNumber) {
  if (result.searched_for && result.searched_for !== result.question) {
    const searched = el("p", "searched", "Searched for: ");
    searched.append(el("q", null, result.searched_for));
    answer.append(searched);
  }
  if (result.passages.length === 0) {
    answer.append(el("p", "notice", "No passages found."));
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
    list.append(passageCard(hit, turnNumber, result.answered, index === 0 ? result.answer : null));
  });
  answer.append(list);
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

function passageCard(hit, turnNumber, answered, answer) {
  const card = el("li", "passage");
  card.id = `turn-${turnNumber}-passage-${hit.rank}`;
  const head = el("div", "passage-head");
  head.append(el("span", "rank", `[${hit.rank}]`));
  const label = sourceLabel(hit.source);
  head.append(el("span", "source-label", label || hit.source.path));
  card.append(head);

  const where = el("p", "where");
  where.append(el("code", "location", whereLabel(hit.source.path, hit.source.id, hit.line_start, hit.line_end)));
  where.append(el("span", "score", ` score ${hit.score.toFixed(3)}`));
  card.append(where);

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

  const read = el("button", "read", "Read in the article");
  read.type = "button";
  read.setAttribute("aria-haspopup", "dialog");
  read.addEventListener("click", () => openReader(hit.id, highlight.start, highlight.end, read));
  card.append(read);
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
  document.getElementById("reader-title").focus();
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
  document.getElementById("reader-title").textContent = sourceLabel(payload.source) || payload.source.path;
  document.getElementById("reader-where").textContent = payload.source.path + (payload.source.id ? "#" + payload.source.id : "");
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
    document.getElementById("index-status").textContent = `${health.passages} passages indexed.`;
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
