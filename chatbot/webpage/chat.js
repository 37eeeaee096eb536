// The web chat: plain DOM, no framework, no build step. Every text from the knowledge base
// or the user goes in with textContent, never as HTML.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const titles = new Map();  // intent id -> title, from /v1/topics
  const session = newSession();
  const STATUS = { answered: "回答", clarify: "聞き返し", declined: "答えられない" };

  function newSession() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);  // works without a secure context, unlike randomUUID
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function add(node) {
    const item = el("li");
    item.appendChild(node);
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function safeLink(url) {  // only http(s) references become links
    try {
      const parsed = new URL(url, document.baseURI);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function source(record) {
    if (!record.section) return null;
    const line = el("p", "source", "出典: " + record.section);
    const href = record.reference && safeLink(record.reference);
    if (record.reference) {
      line.appendChild(document.createTextNode(" / 参考: "));
      if (href) {
        const link = el("a", null, record.reference);
        link.href = href;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
        line.appendChild(link);
      } else {
        line.appendChild(document.createTextNode(record.reference));
      }
    }
    return line;
  }

  function choices(record) {
    if (!record.offered || !record.offered.length) return null;
    const list = el("ul", "choices");
    list.setAttribute("aria-label", "候補");
    record.offered.forEach((id, n) => {
      const title = titles.get(id) || id;
      const button = el("button", null, (n + 1) + ". " + title);
      button.type = "button";
      button.addEventListener("click", () => ask(String(n + 1), title));
      list.appendChild(el("li")).appendChild(button);
    });
    return list;
  }

  function hasChoices(record) {
    return record.offered && record.offered.length > 0;
  }

  function withoutNumberedLines(text) {  // the choices are buttons below: not listed twice
    return text.split("\n").filter((line) => !/^\d+\. /.test(line)).join("\n");
  }

  function why(record) {
    const details = el("details");
    details.appendChild(el("summary", null, "なぜこの回答?"));
    const table = el("table");
    const row = (name, value) => {
      const tr = el("tr");
      tr.appendChild(el("th", null, name));
      tr.appendChild(el("td", null, value));
      table.appendChild(tr);
    };
    row("判定", STATUS[record.status] || record.status);
    row("一致スコア", record.score.toFixed(3));
    row("確からしさ", Math.round(record.confidence * 100) + "%");
    (record.candidates || []).forEach((c, n) => row("候補 " + (n + 1), (titles.get(c.intent) || c.intent) + " (" + c.score.toFixed(3) + ")"));
    details.appendChild(table);
    return details;
  }

  function showAnswer(record) {
    const box = el("div", "msg bot");
    if (record.title) box.appendChild(el("p", "title", record.title));
    box.appendChild(el("p", "text", hasChoices(record) ? withoutNumberedLines(record.answer) : record.answer));
    if (record.context) box.appendChild(el("p", "context", "「" + record.context + "」の続きとして読みました"));
    [source(record), choices(record), why(record)].forEach((part) => part && box.appendChild(part));
    add(box);
  }

  function showError(message) {
    add(el("div", "msg bot error", message));
  }

  async function ask(question, shown) {
    add(el("div", "msg mine", shown || question));
    try {
      const response = await fetch("v1/answer", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question: question, session: session }),
      });
      const body = await response.json();
      if (!response.ok) showError(body.error || "エラー " + response.status);
      else showAnswer(body);
    } catch (e) {
      showError("サーバーに届きませんでした。しばらくしてからもう一度どうぞ。");
    }
    input.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    ask(question);
  });

  fetch("v1/topics").then((r) => r.json()).then((body) => {
    body.topics.forEach((t) => titles.set(t.id, t.title));
  }).catch(() => {});
})();
