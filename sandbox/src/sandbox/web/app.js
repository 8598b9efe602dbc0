// The sandbox chat page: play any person, see their private chat with the bot as Telegram
// would show it, tap buttons, type, send photos, reply. Plain DOM, no build step.
// Every text from the server goes in as text (textContent, text nodes), never as markup.
"use strict";

(() => {
  const $ = (selector) => document.querySelector(selector);
  const els = {
    people: $("[data-testid=people]"),
    filter: $("[data-testid=people-filter]"),
    connection: $("[data-testid=connection]"),
    connectionText: $(".connection-text"),
    title: $("[data-testid=chat-title]"),
    subtitle: $("[data-testid=chat-subtitle]"),
    messages: $("[data-testid=messages]"),
    composer: $("[data-testid=composer]"),
    input: $("[data-testid=message-input]"),
    send: $("[data-testid=send-button]"),
    upload: $("[data-testid=upload-input]"),
    replyBar: $("[data-testid=reply-bar]"),
    replyQuote: $("[data-testid=reply-quote]"),
    replyCancel: $("[data-testid=reply-cancel]"),
    startBar: $("[data-testid=start-bar]"),
    startButton: $("[data-testid=start-button]"),
    blockedBar: $("[data-testid=blocked-bar]"),
    unblockButton: $("[data-testid=unblock-button]"),
    toast: $("[data-testid=toast]"),
    alert: $("[data-testid=alert]"),
    alertText: $("[data-testid=alert-text]"),
    alertOk: $("[data-testid=alert-ok]"),
    demoClock: $("[data-testid=demo-clock]"),
  };

  const state = {
    bot: null, // {id, username}
    people: [], // person objects from /sandbox/people
    current: null, // person id whose chat is open
    chat: null, // the open chat's transcript answer
    unread: new Map(), // person id -> count of bot messages not seen
    previews: new Map(), // person id -> short text of the last message
    pending: new Map(), // "messageId:data" -> timer of a tap waiting for its answer
    replyTo: null, // message id the next message replies to
    lastEventId: 0,
    clock: null, // the bot's virtual clock from /sandbox/clock (the demo's), null: wall clock
  };

  // --- HTTP --------------------------------------------------------------------------------

  async function api(path, options = {}) {
    const init = { method: options.method || "GET", headers: {} };
    if (options.json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      init.body = options.form;
    }
    const response = await fetch(path, init);
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      throw new Error(`${response.status} ${response.statusText}`);
    }
    if (!body.ok) throw new Error(body.description || `HTTP ${response.status}`);
    return body.result;
  }

  const botQuery = () => (state.bot ? `?bot=${encodeURIComponent(state.bot.id)}` : "");
  const transcript = (id) => api(`/sandbox/chats/${id}/transcript${botQuery()}`);

  // --- small helpers -----------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  const fullName = (p) => [p.first_name, p.last_name].filter(Boolean).join(" ");
  const initials = (p) =>
    ((p.first_name || "?")[0] + ((p.last_name || "")[0] || "")).toUpperCase();
  const hue = (id) => (Number(id) * 47) % 360;
  const personById = (id) => state.people.find((p) => p.id === id);
  // Times are shown on one clock: the bot's (virtual, in the plant's zone) when the sandbox
  // was told it (the demo), else this computer's.
  const shown = (seconds) => {
    const c = state.clock;
    return new Date((c ? c.start_epoch + (seconds - c.origin) * c.speed : seconds) * 1000);
  };
  const zone = () => (state.clock ? { timeZone: state.clock.timezone } : {});
  const clock = (seconds) =>
    shown(seconds).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...zone() });
  const dayLabel = (seconds) =>
    shown(seconds).toLocaleDateString([], {
      weekday: "long",
      day: "numeric",
      month: "long",
      ...zone(),
    });

  function showClock() {
    if (!state.clock) return;
    const now = Date.now() / 1000;
    const time = shown(now).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", ...zone() });
    els.demoClock.textContent = `Demo clock ${time} (${state.clock.timezone}). ${state.clock.note}`;
    els.demoClock.hidden = false;
  }

  function summary(entry) {
    if (!entry) return "";
    if (entry.photo) return "📷 " + (entry.caption || "Photo");
    if (entry.document) return "📄 " + (entry.document.file_name || "File");
    return (entry.text || entry.caption || "").replace(/\s+/g, " ").trim();
  }

  let toastTimer = null;
  function toast(text, kind = "info") {
    els.toast.textContent = text;
    els.toast.dataset.kind = kind;
    els.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (els.toast.hidden = true), kind === "error" ? 6000 : 3500);
  }

  function alertBox(text) {
    els.alertText.textContent = text;
    els.alert.hidden = false;
    els.alertOk.focus();
  }
  els.alertOk.addEventListener("click", () => (els.alert.hidden = true));
  els.alert.addEventListener("keydown", (event) => {
    if (event.key === "Escape") els.alert.hidden = true;
  });

  // --- people ------------------------------------------------------------------------------

  async function loadPeople() {
    state.people = await api("/sandbox/people");
    renderPeople();
    await Promise.all(state.people.slice(0, 60).map((p) => refreshPreview(p.id)));
  }

  async function refreshPreview(id) {
    try {
      const chat = await transcript(id);
      const messages = chat.entries.filter((e) => e.kind === "message" && !e.deleted);
      state.previews.set(id, summary(messages[messages.length - 1]));
    } catch (_) {
      state.previews.delete(id);
    }
    renderPeople();
  }

  function renderPeople() {
    const needle = els.filter.value.trim().toLowerCase();
    const items = [];
    for (const person of state.people) {
      const name = fullName(person);
      const bio = person.bio || "";
      if (needle && !(name + " " + bio).toLowerCase().includes(needle)) continue;
      const unread = state.unread.get(person.id) || 0;
      const selected = person.id === state.current;
      const preview = state.previews.get(person.id) || bio;
      const button = el(
        "button",
        {
          type: "button",
          class: "person",
          "data-testid": "person-item",
          "data-person-id": person.id,
          "data-key": `person-${person.id}`,
          "aria-current": selected ? "true" : null,
          onclick: () => select(person.id),
        },
        el("span", { class: "avatar", style: `--hue:${hue(person.id)}`, "aria-hidden": "true", text: initials(person) }),
        el(
          "span",
          { class: "person-text" },
          el("span", { class: "person-name", "data-testid": "person-name", text: name }),
          el("span", { class: "person-preview", text: preview }),
        ),
        unread
          ? el("span", {
              class: "badge",
              "data-testid": "unread-badge",
              "aria-label": `${unread} unread`,
              text: String(unread),
            })
          : null,
      );
      items.push(el("li", {}, button));
    }
    keepFocus(() => els.people.replaceChildren(...items));
  }

  els.filter.addEventListener("input", renderPeople);

  function select(id) {
    if (id === state.current) return;
    state.current = id;
    state.chat = null;
    state.unread.delete(id);
    setReply(null);
    if (location.hash !== `#person=${id}`) history.replaceState(null, "", `#person=${id}`);
    renderPeople();
    els.messages.replaceChildren();
    loadChat(true);
  }

  window.addEventListener("hashchange", () => {
    const id = personFromHash();
    if (id && personById(id)) select(id);
  });

  function personFromHash() {
    const match = /person=(\d+)/.exec(location.hash);
    return match ? Number(match[1]) : null;
  }

  // --- the chat ------------------------------------------------------------------------------

  let loading = null;
  let again = false;
  async function loadChat(scrollDown = false) {
    if (state.current === null) return;
    if (loading) {
      again = true;
      return loading;
    }
    const id = state.current;
    loading = (async () => {
      try {
        const chat = await transcript(id);
        if (id !== state.current) return;
        state.chat = chat;
        renderChat(scrollDown);
        const messages = chat.entries.filter((e) => e.kind === "message" && !e.deleted);
        state.previews.set(id, summary(messages[messages.length - 1]));
        renderPeople();
      } catch (error) {
        toast(`Could not load the chat: ${error.message}`, "error");
      } finally {
        loading = null;
        if (again) {
          again = false;
          loadChat();
        }
      }
    })();
    return loading;
  }

  function renderChat(scrollDown) {
    const person = personById(state.current);
    const chat = state.chat;
    const botName = state.bot ? state.bot.first_name || state.bot.username : "the bot";
    els.title.textContent = person ? fullName(person) : "";
    els.subtitle.textContent = person
      ? `${person.bio ? person.bio + " · " : ""}chat with ${botName}`
      : "";
    const list = els.messages;
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    const byId = new Map();
    for (const entry of chat.entries) if (entry.kind === "message") byId.set(entry.message_id, entry);
    const nodes = [];
    let lastDay = null;
    for (const entry of chat.entries) {
      if (entry.kind !== "message" || entry.deleted) continue;
      const day = dayLabel(entry.date);
      if (day !== lastDay) {
        nodes.push(el("div", { class: "day", role: "separator", text: dayLabel(entry.date) }));
        lastDay = day;
      }
      nodes.push(renderMessage(entry, byId));
    }
    if (!nodes.length) {
      nodes.push(el("p", { class: "empty", text: "No messages yet." }));
    }
    keepFocus(() => list.replaceChildren(...nodes));
    if (scrollDown || nearBottom) list.scrollTop = list.scrollHeight;
    const started = chat.started;
    els.startBar.hidden = started || chat.blocked;
    els.blockedBar.hidden = !chat.blocked;
    els.composer.hidden = !started || chat.blocked;
    els.input.disabled = els.send.disabled = !started || chat.blocked;
  }

  function renderMessage(entry, byId) {
    const mine = entry.from === "person";
    const bubble = el("div", { class: "bubble" });
    if (entry.reply_to_message_id) {
      const target = byId.get(entry.reply_to_message_id);
      const who = target && target.from === "bot" ? (state.bot ? state.bot.first_name : "Bot") : "You";
      bubble.append(
        el(
          "button",
          {
            type: "button",
            class: "quote",
            "data-testid": "reply-quote-in-message",
            onclick: () => scrollToMessage(entry.reply_to_message_id),
          },
          el("strong", { text: who }),
          el("span", { text: target ? summary(target) || "Message" : "Deleted message" }),
        ),
      );
    }
    if (entry.photo) {
      const { file_id: fileId, width, height } = entry.photo;
      bubble.append(
        el("img", {
          class: "photo",
          src: `/sandbox/files/${encodeURIComponent(fileId)}`,
          alt: entry.caption ? `Photo: ${entry.caption}` : "Photo",
          width: width || null,
          height: height || null,
          loading: "lazy",
          "data-testid": "message-photo",
        }),
      );
    }
    if (entry.document) {
      bubble.append(
        el("a", {
          class: "document",
          href: `/sandbox/files/${encodeURIComponent(entry.document.file_id)}`,
          download: entry.document.file_name || "file",
          text: "📄 " + (entry.document.file_name || "File"),
          "data-testid": "message-document",
        }),
      );
    }
    const text = entry.text !== null && entry.text !== undefined ? entry.text : entry.caption;
    const entities = entry.text !== null && entry.text !== undefined ? entry.entities : entry.caption_entities;
    if (text) {
      const body = el("div", { class: "text", "data-testid": "message-text" });
      body.append(rich(text, entities || [], !mine));
      bubble.append(body);
    }
    const meta = el("span", { class: "meta" });
    if (entry.edit_count > 0) meta.append(el("span", { class: "edited", "data-testid": "edited", text: "edited" }));
    meta.append(el("time", { datetime: shown(entry.date).toISOString(), text: clock(entry.date) }));
    bubble.append(meta);
    const replyButton = el("button", {
      type: "button",
      class: "reply-action",
      "data-testid": "reply-button",
      "data-key": `reply-${entry.message_id}`,
      "aria-label": "Reply to this message",
      title: "Reply",
      text: "↩",
      onclick: () => setReply(entry.message_id),
    });
    const hasKeyboard = Boolean(entry.buttons && entry.buttons.length);
    const wrap = el(
      "div",
      {
        class: `message ${mine ? "from-person" : "from-bot"}${hasKeyboard ? " with-keyboard" : ""}`,
        "data-testid": "message",
        "data-message-id": entry.message_id,
        "data-from": entry.from,
        id: `m${entry.message_id}`,
      },
      el("div", { class: "message-row" }, bubble, replyButton),
    );
    if (hasKeyboard) wrap.append(keyboard(entry));
    return wrap;
  }

  function keyboard(entry) {
    const rows = entry.buttons.map((row) =>
      el("div", { class: "keyboard-row" }, ...row.map((button) => keyButton(entry, button))),
    );
    return el("div", { class: "keyboard", role: "group", "aria-label": "Buttons", "data-testid": "keyboard" }, ...rows);
  }

  function keyButton(entry, button) {
    const common = {
      class: "key",
      "data-testid": "inline-button",
      "data-label": button.text,
      "data-key": `key-${entry.message_id}-${button.text}`,
    };
    if (typeof button.url === "string" && safeUrl(button.url)) {
      return el("a", { ...common, href: safeUrl(button.url), target: "_blank", rel: "noopener noreferrer" },
        el("span", { text: button.text }), el("span", { class: "key-icon", "aria-hidden": "true", text: "↗" }));
    }
    if (typeof button.callback_data !== "string") {
      return el("button", { ...common, type: "button", disabled: true, title: "Not supported by the sandbox page", text: button.text });
    }
    const pendingKey = `${entry.message_id}:${button.callback_data}`;
    return el("button", {
      ...common,
      type: "button",
      class: state.pending.has(pendingKey) ? "key pending" : "key",
      "aria-busy": state.pending.has(pendingKey) ? "true" : null,
      text: button.text,
      onclick: () => tap(entry.message_id, button.callback_data),
    });
  }

  function safeUrl(url) {
    return /^(https?:|mailto:|tg:)/i.test(url) ? url : null;
  }

  // Telegram's entities (offsets in UTF-16 code units, as JavaScript strings are) as nested
  // elements; the text itself is only ever a text node.
  function rich(text, entities, fromBot) {
    const fragment = document.createDocumentFragment();
    if (!entities.length) {
      fragment.append(text);
      return fragment;
    }
    const cuts = new Set([0, text.length]);
    for (const e of entities) {
      cuts.add(e.offset);
      cuts.add(Math.min(e.offset + e.length, text.length));
    }
    const points = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i < points.length - 1; i++) {
      const start = points[i];
      const end = points[i + 1];
      let node = document.createTextNode(text.slice(start, end));
      const covering = entities
        .filter((e) => e.offset <= start && e.offset + e.length >= end)
        .sort((a, b) => a.length - b.length);
      for (const e of covering) node = wrapEntity(node, e, text, fromBot);
      fragment.append(node);
    }
    return fragment;
  }

  function wrapEntity(node, entity, text, fromBot) {
    const whole = text.slice(entity.offset, entity.offset + entity.length);
    const tags = {
      bold: "strong",
      italic: "em",
      underline: "u",
      strikethrough: "s",
      code: "code",
      pre: "pre",
      blockquote: "blockquote",
      expandable_blockquote: "blockquote",
    };
    let wrapper;
    if (tags[entity.type]) wrapper = el(tags[entity.type]);
    else if (entity.type === "spoiler") {
      wrapper = el("span", { class: "spoiler", tabindex: "0", title: "Spoiler: click to show" });
      wrapper.addEventListener("click", () => wrapper.classList.add("shown"));
    } else if (entity.type === "text_link" && safeUrl(entity.url || "")) {
      wrapper = el("a", { href: entity.url, target: "_blank", rel: "noopener noreferrer" });
    } else if (entity.type === "url") {
      const href = /^[a-z]+:/i.test(whole) ? whole : `https://${whole}`;
      wrapper = safeUrl(href) ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }) : el("span");
    } else if (entity.type === "email") {
      wrapper = el("a", { href: `mailto:${whole}` });
    } else if (entity.type === "bot_command" && fromBot) {
      wrapper = el("button", {
        type: "button",
        class: "command",
        title: `Send ${whole}`,
        onclick: () => sendText(whole, null),
      });
    } else {
      return node;
    }
    wrapper.append(node);
    return wrapper;
  }

  function scrollToMessage(id) {
    const target = document.getElementById(`m${id}`);
    if (!target) return;
    target.scrollIntoView({ block: "center", behavior: "smooth" });
    target.classList.add("flash");
    setTimeout(() => target.classList.remove("flash"), 1200);
  }

  // Re-rendering replaces elements; give focus back to the element with the same data-key.
  function keepFocus(render) {
    const active = document.activeElement;
    const key = active && active.dataset ? active.dataset.key : null;
    render();
    if (key) {
      const again = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  // --- acting as the person ------------------------------------------------------------------

  function setReply(messageId) {
    state.replyTo = messageId;
    if (messageId === null) {
      els.replyBar.hidden = true;
      return;
    }
    const entry = state.chat && state.chat.entries.find((e) => e.kind === "message" && e.message_id === messageId);
    els.replyQuote.textContent = summary(entry) || "Message";
    els.replyBar.hidden = false;
    els.input.focus();
  }
  els.replyCancel.addEventListener("click", () => setReply(null));

  async function sendText(text, replyTo) {
    const id = state.current;
    if (id === null) return;
    await api(`/sandbox/people/${id}/messages`, {
      method: "POST",
      json: { text, reply_to_message_id: replyTo || undefined, bot: state.bot ? state.bot.id : undefined },
    }).catch((error) => toast(error.message, "error"));
  }

  els.composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = els.input.value;
    if (!text.trim()) return;
    els.input.value = "";
    autosize();
    const replyTo = state.replyTo;
    setReply(null);
    await sendText(text, replyTo);
    els.input.focus();
  });

  els.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      els.composer.requestSubmit();
    } else if (event.key === "Escape") {
      setReply(null);
    }
  });

  function autosize() {
    els.input.style.height = "auto";
    els.input.style.height = Math.min(els.input.scrollHeight, 160) + "px";
  }
  els.input.addEventListener("input", autosize);

  els.upload.addEventListener("change", async () => {
    const file = els.upload.files && els.upload.files[0];
    const id = state.current;
    if (!file || id === null) return;
    const form = new FormData();
    form.append("file", file, file.name);
    const caption = els.input.value.trim();
    if (caption) form.append("caption", caption);
    if (state.replyTo) form.append("reply_to_message_id", String(state.replyTo));
    if (state.bot) form.append("bot", String(state.bot.id));
    els.upload.value = "";
    els.input.value = "";
    autosize();
    setReply(null);
    await api(`/sandbox/people/${id}/photos`, { method: "POST", form }).catch((error) =>
      toast(error.message, "error"),
    );
  });

  async function tap(messageId, data) {
    const id = state.current;
    if (id === null) return;
    const key = `${messageId}:${data}`;
    clearTimeout(state.pending.get(key));
    state.pending.set(key, setTimeout(() => clearPending(key), 15000));
    if (state.chat) renderChat(false);
    try {
      await api(`/sandbox/people/${id}/taps`, {
        method: "POST",
        json: { message_id: messageId, data, bot: state.bot ? state.bot.id : undefined },
      });
    } catch (error) {
      clearPending(key);
      toast(error.message, "error");
    }
  }

  function clearPending(key) {
    if (!state.pending.has(key)) return;
    clearTimeout(state.pending.get(key));
    state.pending.delete(key);
    if (state.chat) renderChat(false);
  }

  function clearPendingFor(messageId) {
    for (const key of [...state.pending.keys()]) if (key.startsWith(`${messageId}:`)) clearPending(key);
  }

  els.startButton.addEventListener("click", () => sendText("/start", null));
  els.unblockButton.addEventListener("click", () => {
    if (state.current === null) return;
    api(`/sandbox/people/${state.current}/unblock`, { method: "POST", json: {} })
      .then(() => loadChat())
      .catch((error) => toast(error.message, "error"));
  });

  // --- live events ---------------------------------------------------------------------------

  const refreshTimers = new Map();
  function later(key, fn, delay = 60) {
    if (refreshTimers.has(key)) return;
    refreshTimers.set(key, setTimeout(() => {
      refreshTimers.delete(key);
      fn();
    }, delay));
  }

  function onEvent(event) {
    if (typeof event.id === "number" && event.id > state.lastEventId) state.lastEventId = event.id;
    switch (event.type) {
      case "hello":
        return;
      case "person":
        later("people", () => loadPeople());
        return;
      case "resync":
        state.lastEventId = event.id; // the server may have restarted with fewer events
      // falls through
      case "reset":
        later("people", () => loadPeople());
        later("chat", () => loadChat());
        return;
    }
    if (!state.bot || event.bot_id !== state.bot.id || event.chat_id === undefined) return;
    const chatId = event.chat_id;
    if (event.type === "callback_answer") {
      clearPendingFor(event.message_id);
      if (chatId === state.current && event.text) {
        if (event.show_alert) alertBox(event.text);
        else toast(event.text);
      }
    }
    if (chatId === state.current) {
      later("chat", () => loadChat());
    } else {
      if (event.type === "message" && event.sender === "bot") {
        state.unread.set(chatId, (state.unread.get(chatId) || 0) + 1);
      }
      later(`preview-${chatId}`, () => refreshPreview(chatId), 150);
      renderPeople();
    }
  }

  function setConnection(kind, text) {
    els.connection.dataset.state = kind;
    els.connectionText.textContent = text;
  }

  function connect() {
    if (!window.EventSource) return poll();
    let opened = false;
    let failures = 0;
    const source = new EventSource(`/sandbox/events?since=${state.lastEventId}`);
    source.onopen = () => {
      if (opened || failures) later("chat", () => loadChat());
      opened = true;
      failures = 0;
      setConnection("live", "live");
    };
    source.onmessage = (message) => {
      try {
        onEvent(JSON.parse(message.data));
      } catch (_) {
        /* a malformed event is ignored */
      }
    };
    source.onerror = () => {
      failures += 1;
      setConnection("reconnecting", "reconnecting…");
      // An EventSource retries by itself; one that never got through (a proxy that buffers
      // streams, say) is replaced by long polling.
      if (!opened && failures >= 3) {
        source.close();
        poll();
      }
    };
  }

  async function poll() {
    setConnection("polling", "live (polling)");
    for (;;) {
      try {
        const result = await api(`/sandbox/events/poll?since=${state.lastEventId}&timeout=25`);
        setConnection("polling", "live (polling)");
        for (const event of result.events) onEvent(event);
      } catch (_) {
        setConnection("reconnecting", "reconnecting…");
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  // --- start -------------------------------------------------------------------------------

  async function start() {
    try {
      const health = await api("/sandbox/health");
      state.bot = health.bots[0] || null;
      if (state.bot) state.bot.first_name = state.bot.first_name || state.bot.username;
      const latest = await api("/sandbox/events/poll?timeout=0");
      state.lastEventId = latest.last_id;
      state.clock = await api("/sandbox/clock").catch(() => null);
      showClock();
      setInterval(showClock, 1000);
    } catch (error) {
      setConnection("reconnecting", "sandbox not reachable");
      toast(`The sandbox is not reachable: ${error.message}`, "error");
      setTimeout(start, 3000);
      return;
    }
    connect();
    await loadPeople();
    const wanted = personFromHash();
    const first = wanted && personById(wanted) ? wanted : state.people.length ? state.people[0].id : null;
    if (first !== null) select(first);
  }

  start();
})();
