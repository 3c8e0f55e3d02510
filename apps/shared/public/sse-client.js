// @sse/client, bundled for the sample apps' page by `pnpm -F @sse/client bundle`: do not edit (packages/client/src is the source).
// src/errors.ts
var SseClientError = class extends Error {
  code;
  /** The status of the response that ended the client, if one did. */
  status;
  /** That response's body as text (the server's explanation), `''` when it had none. */
  body;
  constructor(code, message, details = {}) {
    super(message, details.cause === void 0 ? void 0 : { cause: details.cause });
    this.name = "SseClientError";
    this.code = code;
    this.status = details.status;
    this.body = details.body;
  }
};

// src/parse.ts
var DIGITS = /^[0-9]+$/;
function createEventStreamParser(callbacks, lastEventId = "") {
  const decoder = new TextDecoder("utf-8");
  let pending = "";
  let skipLf = false;
  let data = "";
  let hasData = false;
  let type = "";
  let id = lastEventId;
  function dispatch() {
    if (!hasData) {
      type = "";
      return;
    }
    const event = { type: type === "" ? "message" : type, data, lastEventId: id };
    data = "";
    hasData = false;
    type = "";
    callbacks.onEvent(event);
  }
  function line(text) {
    if (text === "") return dispatch();
    if (text.charCodeAt(0) === 58) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case "data":
        data = hasData ? `${data}
${value}` : value;
        hasData = true;
        break;
      case "event":
        type = value;
        break;
      case "id":
        if (!value.includes("\0")) {
          id = value;
          callbacks.onId?.(id);
        }
        break;
      case "retry":
        if (DIGITS.test(value)) callbacks.onRetry(Number(value));
        break;
      default:
        break;
    }
  }
  function feed(text) {
    let start = 0;
    if (skipLf && text.length > 0) {
      if (text.charCodeAt(0) === 10) start = 1;
      skipLf = false;
    }
    const input = pending + text.slice(start);
    let from = 0;
    for (let i = pending.length; i < input.length; i++) {
      const code = input.charCodeAt(i);
      if (code !== 10 && code !== 13) continue;
      line(input.slice(from, i));
      if (code === 13) {
        if (i + 1 === input.length) skipLf = true;
        else if (input.charCodeAt(i + 1) === 10) i++;
      }
      from = i + 1;
    }
    pending = input.slice(from);
  }
  return {
    push(chunk) {
      feed(decoder.decode(chunk, { stream: true }));
    },
    end() {
      feed(decoder.decode());
      pending = "";
      data = "";
      hasData = false;
      type = "";
    }
  };
}

// src/client.ts
var GAP_EVENT = "sse-gap";
var DEFAULT_INITIAL_RETRY_MS = 1e3;
var DEFAULT_MAX_RETRY_MS = 3e4;
var RETRY_STATUSES = [408, 429, 500, 502, 503, 504];
var defaultParse = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};
function checkNumber(name, value, fallback, allowInfinity = false) {
  if (value === void 0) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0 || !allowInfinity && !Number.isFinite(value)) {
    throw new TypeError(`@sse/client: ${name} must be a non-negative number of ${name === "maxRetries" ? "attempts" : "ms"}, got ${String(value)}`);
  }
  return value;
}
function isEventStream(response) {
  const type = response.headers.get("content-type") ?? "";
  return type.split(";", 1)[0].trim().toLowerCase() === "text/event-stream";
}
function retryAfterMs(response) {
  const value = response.headers.get("retry-after");
  if (value === null) return 0;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1e3;
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}
var MAX_BODY_BYTES = 65536;
var ITERATOR_HIGH_WATER = 1e3;
var ITERATOR_LOW_WATER = 500;
async function readBody(response) {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < MAX_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      const room = MAX_BODY_BYTES - bytes;
      const chunk = value.byteLength > room ? value.subarray(0, room) : value;
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
    await reader.cancel().catch(() => {
    });
    return text + decoder.decode();
  } catch {
    return text;
  }
}
function report(error) {
  const global = globalThis;
  if (typeof global.reportError === "function") global.reportError(error);
  else
    queueMicrotask(() => {
      throw error;
    });
}
function asTopicEvent(data) {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return void 0;
  const keys = Object.keys(data);
  const { topic } = data;
  return keys.length === 2 && typeof topic === "string" && "data" in data ? data : void 0;
}
function asGap(data, id) {
  if (data === null || typeof data !== "object") return void 0;
  const { reason, topics, lastEventId } = data;
  if (typeof reason !== "string") return void 0;
  const gap = { reason, id };
  if (Array.isArray(topics)) gap.topics = topics.filter((topic) => typeof topic === "string");
  if (typeof lastEventId === "string") gap.lastEventId = lastEventId;
  return gap;
}
function createClient(url, options = {}) {
  const base = globalThis.location?.href;
  const target = new URL(url, base);
  const method = options.method ?? "GET";
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const initialRetryMs = checkNumber("initialRetryMs", options.initialRetryMs, DEFAULT_INITIAL_RETRY_MS);
  const maxRetryMs = checkNumber("maxRetryMs", options.maxRetryMs, DEFAULT_MAX_RETRY_MS);
  const maxRetries = checkNumber("maxRetries", options.maxRetries, Number.POSITIVE_INFINITY, true);
  const random = options.random ?? Math.random;
  const gapEventName = options.gapEvent ?? GAP_EVENT;
  const parse = options.parse ?? defaultParse;
  const topicsParam = options.topicsParam ?? "topics";
  const listeners = /* @__PURE__ */ new Map();
  const topicListeners = /* @__PURE__ */ new Map();
  const gapListeners = /* @__PURE__ */ new Set();
  const iterators = /* @__PURE__ */ new Set();
  let resumeReading;
  const wakeReader = () => {
    const resume = resumeReading;
    resumeReading = void 0;
    resume?.();
  };
  let state = "connecting";
  let lastEventId = options.lastEventId ?? "";
  let serverRetryMs;
  let topics = [...options.topics ?? []];
  let closeInfo;
  let resolveClosed;
  const closed = new Promise((resolve) => resolveClosed = resolve);
  let current;
  let cut;
  let wake;
  let paused = false;
  let progressed = false;
  const emit = (item) => {
    for (const iterator of iterators) iterator.push(item);
  };
  async function waitForIterators(signal) {
    const behind = () => {
      for (const iterator of iterators) if (iterator.queued >= ITERATOR_HIGH_WATER) return true;
      return false;
    };
    while (behind() && !signal.aborted) await new Promise((resolve) => resumeReading = resolve);
  }
  function call(set, data, event) {
    if (set === void 0) return;
    for (const listener of [...set]) {
      try {
        listener(data, event);
      } catch (error) {
        report(error);
      }
    }
  }
  function dispatch(parsed) {
    const data = parse(parsed.data, parsed.type);
    if (parsed.type === gapEventName) {
      const gap = asGap(data, parsed.lastEventId);
      if (gap !== void 0) {
        call(gapListeners, gap, gap);
        emit({ kind: "gap", gap });
        return;
      }
    }
    const topic = asTopicEvent(data);
    if (topic !== void 0) {
      const event2 = { type: parsed.type, topic: topic.topic, data: topic.data, id: parsed.lastEventId };
      call(topicListeners.get(parsed.type), topic.data, event2);
      emit({ kind: "topic", ...event2 });
      return;
    }
    const event = { type: parsed.type, data, text: parsed.data, id: parsed.lastEventId };
    call(listeners.get(parsed.type), data, event);
    emit({ kind: "event", ...event });
  }
  function finish(info) {
    if (closeInfo !== void 0) return;
    closeInfo = info;
    state = "closed";
    cut = "stop";
    current?.abort();
    wake?.();
    wakeReader();
    options.signal?.removeEventListener("abort", onAbort);
    stopVisibility?.();
    for (const iterator of iterators) iterator.push(null);
    try {
      options.onClose?.(info);
    } catch (error) {
      report(error);
    }
    resolveClosed(info);
  }
  const onAbort = () => finish({ reason: "aborted" });
  function interrupt(why) {
    if (closeInfo !== void 0) return;
    cut = why;
    current?.abort();
    wake?.();
    wakeReader();
  }
  let stopVisibility;
  const doc = globalThis.document;
  if (options.pauseWhenHidden === true && typeof doc?.addEventListener === "function") {
    const onVisibility = () => {
      if (doc.visibilityState === "hidden") {
        paused = true;
        interrupt("pause");
      } else if (paused) {
        paused = false;
        interrupt("reconnect");
      }
    };
    doc.addEventListener("visibilitychange", onVisibility);
    stopVisibility = () => doc.removeEventListener?.("visibilitychange", onVisibility);
    paused = doc.visibilityState === "hidden";
  }
  const sleep = (ms) => new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      wake = void 0;
      resolve();
    }
    wake = done;
  });
  function requestUrl() {
    if (topics.length === 0) return target;
    const withTopics = new URL(target);
    withTopics.searchParams.delete(topicsParam);
    const query = `${encodeURIComponent(topicsParam)}=${topics.map(encodeURIComponent).join(",")}`;
    withTopics.search = withTopics.search === "" ? `?${query}` : `${withTopics.search}&${query}`;
    return withTopics;
  }
  async function attempt(info) {
    const controller = new AbortController();
    current = controller;
    let init;
    try {
      const headers = new Headers(typeof options.headers === "function" ? await options.headers(info) : options.headers);
      headers.set("accept", "text/event-stream");
      if (lastEventId !== "") headers.set("last-event-id", lastEventId);
      else headers.delete("last-event-id");
      const body = typeof options.body === "function" ? await options.body(info) : options.body;
      init = { method, headers, signal: controller.signal };
      if (body !== void 0 && body !== null) init.body = body;
      if (options.credentials !== void 0) init.credentials = options.credentials;
    } catch (error) {
      const failure = new SseClientError("ERR_SSE_CLIENT_REQUEST", `@sse/client: the request could not be built: ${String(error)}`, { cause: error });
      return { kind: "fatal", info: { reason: "request", error: failure } };
    }
    if (controller.signal.aborted) return { kind: "cut" };
    let response;
    try {
      response = await fetchImpl(requestUrl(), init);
    } catch (error) {
      return controller.signal.aborted ? { kind: "cut" } : { kind: "network", error };
    }
    const { status } = response;
    if (status !== 200) {
      const body = await readBody(response);
      if (controller.signal.aborted) return { kind: "cut" };
      if (RETRY_STATUSES.includes(status)) return { kind: "status", status, waitMs: retryAfterMs(response) };
      if (status === 204) return { kind: "fatal", info: { reason: "no-content", status, body, headers: response.headers } };
      const error = new SseClientError("ERR_SSE_CLIENT_STATUS", `@sse/client: the server answered ${status}${body === "" ? "" : `: ${body.slice(0, 200)}`}`, { status, body });
      return { kind: "fatal", info: { reason: "status", status, body, headers: response.headers, error } };
    }
    if (!isEventStream(response) || response.body === null) {
      const body = await readBody(response);
      const type = response.headers.get("content-type") ?? "none";
      const error = new SseClientError("ERR_SSE_CLIENT_CONTENT_TYPE", `@sse/client: the server answered 200 with content-type ${type}, not text/event-stream`, { status, body });
      return { kind: "fatal", info: { reason: "content-type", status, body, headers: response.headers, error } };
    }
    if (controller.signal.aborted) {
      await response.body.cancel().catch(() => {
      });
      return { kind: "cut" };
    }
    state = "open";
    try {
      options.onOpen?.(response);
    } catch (error) {
      report(error);
    }
    const parser = createEventStreamParser(
      {
        // Once cut (close(), reconnect(), a listener that stopped the client), the rest of a chunk
        // is neither dispatched nor counted: the id stays that of the last event delivered.
        onEvent: (event) => {
          if (controller.signal.aborted) return;
          progressed = true;
          dispatch(event);
        },
        onRetry: (ms) => {
          if (!controller.signal.aborted) serverRetryMs = ms;
        },
        onId: (id) => {
          if (controller.signal.aborted) return;
          progressed = true;
          lastEventId = id;
        }
      },
      lastEventId
    );
    const reader = response.body.getReader();
    try {
      for (; ; ) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.push(value);
        if (controller.signal.aborted) break;
        await waitForIterators(controller.signal);
        if (controller.signal.aborted) break;
      }
    } catch (error) {
      if (!controller.signal.aborted) return { kind: "network", error };
    }
    if (controller.signal.aborted) {
      await reader.cancel().catch(() => {
      });
      return { kind: "cut" };
    }
    parser.end();
    return { kind: "ended" };
  }
  async function run() {
    let attemptNumber = 0;
    let failures = 0;
    let previousStatus;
    while (closeInfo === void 0) {
      if (paused) {
        state = "paused";
        await new Promise((resolve) => wake = resolve);
        wake = void 0;
        cut = void 0;
        continue;
      }
      state = "connecting";
      const outcome = await attempt({ attempt: attemptNumber, lastEventId, previousStatus });
      attemptNumber++;
      if (closeInfo !== void 0) return;
      if (outcome.kind === "fatal") return finish(outcome.info);
      if (outcome.kind === "cut") {
        cut = void 0;
        failures = 0;
        continue;
      }
      const opened = progressed;
      progressed = false;
      failures = opened ? 1 : failures + 1;
      previousStatus = outcome.kind === "status" ? outcome.status : void 0;
      if (!opened && failures > maxRetries) {
        const error = new SseClientError("ERR_SSE_CLIENT_RETRIES", `@sse/client: gave up after ${failures} failed attempts`, {
          status: previousStatus,
          cause: outcome.kind === "network" ? outcome.error : void 0
        });
        return finish({ reason: "retries", status: previousStatus, error });
      }
      const cap = serverRetryMs ?? maxRetryMs;
      const backoff = Math.min(cap, initialRetryMs * 2 ** (failures - 1));
      let delayMs = Math.round(backoff / 2 + random() * (backoff / 2));
      if (outcome.kind === "status") delayMs = Math.max(delayMs, outcome.waitMs);
      state = "retrying";
      try {
        options.onRetry?.({
          attempt: attemptNumber,
          failures,
          delayMs,
          cause: outcome.kind,
          status: previousStatus,
          error: outcome.kind === "network" ? outcome.error : void 0
        });
      } catch (error) {
        report(error);
      }
      await sleep(delayMs);
      if (cut === "reconnect") failures = 0;
      cut = void 0;
    }
  }
  if (options.signal?.aborted === true) queueMicrotask(onAbort);
  else {
    options.signal?.addEventListener("abort", onAbort, { once: true });
    queueMicrotask(() => {
      if (closeInfo === void 0) void run();
    });
  }
  const add = (map, type, listener) => {
    let set = map.get(type);
    if (set === void 0) map.set(type, set = /* @__PURE__ */ new Set());
    set.add(listener);
    return () => void set.delete(listener);
  };
  return {
    on: (type, listener) => add(listeners, type, listener),
    onTopic: (type, listener) => add(topicListeners, type, listener),
    onGap(listener) {
      gapListeners.add(listener);
      return () => void gapListeners.delete(listener);
    },
    get state() {
      return state;
    },
    get lastEventId() {
      return lastEventId;
    },
    get serverRetryMs() {
      return serverRetryMs;
    },
    get topics() {
      return topics;
    },
    closed,
    setTopics(next) {
      topics = [...next];
      interrupt("reconnect");
    },
    reconnect: () => interrupt("reconnect"),
    close: () => finish({ reason: "closed" }),
    [Symbol.asyncIterator]() {
      const queue = [];
      let waiting;
      const iterator = {
        push(item) {
          if (waiting !== void 0) {
            const resolve = waiting;
            waiting = void 0;
            resolve(item);
          } else queue.push(item);
        },
        get queued() {
          return queue.length;
        }
      };
      if (closeInfo === void 0) iterators.add(iterator);
      else queue.push(null);
      const done = () => {
        iterators.delete(iterator);
        wakeReader();
        return { done: true, value: void 0 };
      };
      return {
        async next() {
          const item = queue.length > 0 ? queue.shift() : await new Promise((resolve) => waiting = resolve);
          if (queue.length <= ITERATOR_LOW_WATER) wakeReader();
          if (item !== null) return { done: false, value: item };
          const error = closeInfo?.error;
          done();
          if (error !== void 0) throw error;
          return { done: true, value: void 0 };
        },
        // `break` out of a `for await` loop: the loop was the client's reader, so the client stops.
        async return() {
          finish({ reason: "closed" });
          return done();
        }
      };
    }
  };
}
export {
  DEFAULT_INITIAL_RETRY_MS,
  DEFAULT_MAX_RETRY_MS,
  GAP_EVENT,
  RETRY_STATUSES,
  SseClientError,
  createClient
};
