// The front ends' only way to the server: GraphQL over HTTP, and subscriptions over one shared
// WebSocket speaking graphql-transport-ws. No dependencies, no build step.
//
//   const api = new GraphQLClient({ token });
//   const data = await api.request(QUERY, { id });          // throws GraphQLRequestError
//   const stop = api.subscribe(SUBSCRIPTION, () => ({ after: lastSeenId }), {
//     next: (data) => ..., error: (errors) => ..., });
//   api.onStatus((status) => ...);                            // "connecting" | "live" | "offline"
//
// Subscriptions survive a lost connection: the client reconnects with backoff and re-subscribes,
// asking the variables function again so the feed resumes `after` the last event the page saw
// (the server replays what was missed, with no gap and no duplicate). A live connection the
// server closes with 4403 (token expired, groups changed, session ended) is reconnected once with
// the current token; when that connection_init is refused too, a client that can `renew` asks once
// for a fresh token (a page whose session ended then goes to its sign-in), else the subscriptions
// get an error.

export class GraphQLRequestError extends Error {
  constructor(errors, status) {
    super(errors.map((e) => e.message).join("; ") || `HTTP ${status}`);
    this.errors = errors;
    this.status = status;
    this.code = errors[0]?.extensions?.code ?? null;
  }
}

const TOKEN_KEY = "casegraph.token";

export function storedToken(scope) {
  return window.localStorage.getItem(`${TOKEN_KEY}.${scope}`);
}

export function storeToken(scope, token) {
  if (token) window.localStorage.setItem(`${TOKEN_KEY}.${scope}`, token);
  else window.localStorage.removeItem(`${TOKEN_KEY}.${scope}`);
}

/** The claims of a JWT, unverified: only to show who is signed in (the server verifies). */
export function tokenClaims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(payload))));
  } catch {
    return null;
  }
}

/**
 * A browser session started by a mailed sign-in link. Its refresh token is an HttpOnly cookie
 * scoped to /auth that no script can read; the access token it buys lives only in memory (never
 * in storage) and is renewed a minute before it expires, and again after a reload via the cookie.
 *
 *   const session = new CookieSession({ onToken: (token) => ... });
 *   const token = await session.refresh();   // null: no session (or it ended)
 *   await session.signOut();
 */
// The tabs of one browser share the refresh cookie, and each refresh retires the token it sends:
// a tab refreshing with a token another tab has just retired would look like a stolen copy. So the
// tabs take turns (Web Locks: the next tab's request carries the cookie the previous one got);
// the server forgives a retired token for a few seconds too, for browsers without Web Locks.
const REFRESH_LOCK = "casegraph-session-refresh";

function refreshOneTabAtATime() {
  const post = () => fetch("/auth/refresh", { method: "POST", credentials: "same-origin" });
  if (!navigator.locks) return post();
  return navigator.locks.request(REFRESH_LOCK, post);
}

// How soon a page asks again when a refresh failed for a reason that is not the session's (the
// server answered 5xx or 429, the network dropped): the session is kept meanwhile.
const REFRESH_RETRY_MS = 15_000;

export class CookieSession {
  constructor({ onToken = () => {}, onEnded = () => {} } = {}) {
    this.onToken = onToken;
    this.onEnded = onEnded;
    this.timer = null;
    this.signedIn = false; // this page holds a session from the cookie
    this.pending = null; // the refresh under way, shared by every caller meanwhile
  }

  /**
   * A fresh access token, or null. Callers at the same time (several requests refused together)
   * share one refresh: each refresh retires the token it sends, so N parallel ones would rotate
   * the session N times for nothing.
   */
  refresh() {
    this.pending ??= this._refresh().finally(() => { this.pending = null; });
    return this.pending;
  }

  async _refresh() {
    window.clearTimeout(this.timer);
    let response;
    try {
      response = await refreshOneTabAtATime();
    } catch {
      return this._retryLater(); // the network, not the session
    }
    // 401: the session ended (signed out, revoked, expired). 204: no session cookie at all; gone
    // while this page held a session, it was cleared by a sign-out in another tab.
    if (response.status === 401 || (response.status === 204 && this.signedIn)) {
      this.signedIn = false;
      this.onEnded();
      return null;
    }
    if (response.status !== 200) return this._retryLater(); // 5xx, 429, a proxy's 502: not an ending
    let answer;
    try {
      answer = await response.json();
    } catch {
      return this._retryLater();
    }
    this.signedIn = true;
    const { accessToken, expiresIn } = answer;
    this._schedule(Math.max(expiresIn - 60, 10) * 1000);
    this.onToken(accessToken);
    return accessToken;
  }

  /** A failed refresh that says nothing about the session: ask again soon, keep what we hold. */
  _retryLater() {
    if (this.signedIn) this._schedule(REFRESH_RETRY_MS);
    return null;
  }

  _schedule(delay) {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => { this.refresh().catch(() => null); }, delay);
  }

  async signOut() {
    window.clearTimeout(this.timer);
    this.signedIn = false;
    await fetch("/auth/signout", { method: "POST", credentials: "same-origin" });
  }
}

let signInOptionsAnswer = null;

/**
 * What sign-in this server offers besides its own (`GET /auth/config`), asked once per page:
 * `{ oidc: { name, start } }` when people may sign in with the agency's identity provider
 * (a link to `start?next=<this page>`), `{ oidc: null }` otherwise or when it cannot be told.
 */
export function signInOptions() {
  signInOptionsAnswer ??= fetch("/auth/config", { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : { oidc: null }))
    .catch(() => ({ oidc: null }));
  return signInOptionsAnswer;
}

/** Where the identity provider's sign-in starts, coming back to `next` (a path on this site). */
export function identityProviderLink(oidc, next) {
  return `${oidc.start}?next=${encodeURIComponent(next)}`;
}

// Where a page signed in with a pasted token gets (POST) and gives back (DELETE) the download
// cookie (casegraph/download_cookie.py).
const FILE_PASS = "/attachments/session";

/** Forget this browser's download cookie: files stop opening by link here (signing out). */
export async function forgetFileLinks() {
  await fetch(FILE_PASS, { method: "DELETE" });
}

export class GraphQLClient {
  // `renew`: an async function answering a fresh token (or null), asked once when the server
  // refuses the current one, e.g. after a laptop slept through the scheduled refresh.
  constructor({ token, url = "/graphql", renew = null }) {
    this.token = token;
    this.renew = renew;
    this.url = url;
    this.socket = null;
    this.acknowledged = false;
    this.subscriptions = new Map(); // id -> { query, variables: () => object, sink }
    this.nextId = 1;
    this.retryDelay = 500;
    this.statusListeners = new Set();
    this.status = "offline";
    this.closed = false;
    this.renewedForSocket = false; // a refused connection_init asked `renew` already
    this.inFlight = new Set(); // requests sent and not yet answered
  }

  /**
   * Resolves once the client is quiet: every request sent is answered (or failed), including the
   * ones those answers set off (a chained report, a follow-up load), up to a few rounds. Signing
   * out waits for it before ending the session on the server: a request still on its way (the last
   * report of a draft, a queue refresh) would otherwise arrive with the token of an ended session
   * and be refused.
   */
  async settled({ rounds = 10, timeout = 5000 } = {}) {
    const quiet = (async () => {
      for (let round = 0; round < rounds; round += 1) {
        // A task, not a microtask: requests queued by promise callbacks are sent by then.
        await new Promise((resolve) => { window.setTimeout(resolve, 0); });
        if (!this.inFlight.size) return;
        await Promise.allSettled([...this.inFlight]);
      }
    })();
    // A request hung on a half-open connection must not keep a sign-out from ending the session.
    const late = new Promise((resolve) => { window.setTimeout(resolve, timeout); });
    await Promise.race([quiet, late]);
  }

  request(query, variables = {}) {
    return this._tracked(this._renewing(() => this._post(query, variables)));
  }

  /**
   * A mutation carrying files, as the GraphQL multipart request spec says (what addAttachment
   * takes): `files` maps a variable's path ("input.file") to a File. The server refuses such a
   * request without the Authorization header, which this always sends.
   */
  upload(query, variables, files, { onProgress = null } = {}) {
    return this._tracked(this._renewing(() => {
      const form = new FormData();
      const map = {};
      Object.keys(files).forEach((path, index) => { map[String(index)] = [`variables.${path}`]; });
      form.append("operations", JSON.stringify({ query, variables }));
      form.append("map", JSON.stringify(map));
      Object.values(files).forEach((file, index) => form.append(String(index), file, file.name));
      return onProgress ? this._requestWithProgress(form, onProgress) : this._post(query, variables, form);
    }));
  }

  /**
   * The multipart request through XMLHttpRequest, whose upload events say how much of the body
   * has gone (fetch has no upload progress without streaming request bodies, which need HTTP/2).
   * onProgress(fraction) runs as bytes leave; the answer is read as _post reads it.
   */
  _requestWithProgress(form, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.url);
      xhr.setRequestHeader("Accept", "application/graphql-response+json, application/json;q=0.9");
      if (this.token) xhr.setRequestHeader("Authorization", `Bearer ${this.token}`);
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener("load", () => {
        let body;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          reject(new GraphQLRequestError([{ message: `The server answered ${xhr.status}.` }], xhr.status));
          return;
        }
        if (body.errors?.length) reject(new GraphQLRequestError(body.errors, xhr.status));
        else if (!body.data) {
          // Refused before GraphQL (413 over the size limit): {"error": {code, message}}.
          const error = body.error ?? {};
          reject(new GraphQLRequestError([{ message: error.message ?? `The server answered ${xhr.status}.`, extensions: { code: error.code } }], xhr.status));
        } else {
          onProgress(1);
          resolve(body.data);
        }
      });
      const failed = () => reject(new GraphQLRequestError([{ message: "The upload did not reach the server." }], 0));
      xhr.addEventListener("error", failed);
      xhr.addEventListener("abort", failed);
      xhr.send(form);
    });
  }

  /**
   * Let this browser open files by plain links while signed in with this (pasted) token: the
   * server sets its download cookie. A session from the sign-in cookie has one already.
   */
  async allowFileLinks() {
    await fetch(FILE_PASS, { method: "POST", headers: { Authorization: `Bearer ${this.token}` } });
  }

  async _renewing(send) {
    try {
      return await send();
    } catch (error) {
      if (!(this.renew && error instanceof GraphQLRequestError && error.code === "UNAUTHENTICATED")) throw error;
      const token = await this.renew();
      if (!token) throw error;
      this.token = token;
      return send();
    }
  }

  /**
   * `answer` counted as in flight until it settles. The whole exchange is counted (a renewal and
   * the retry after it, an upload's XHR), so settled() does not return between its steps.
   */
  _tracked(answer) {
    this.inFlight.add(answer);
    const forget = () => this.inFlight.delete(answer);
    answer.then(forget, forget);
    return answer;
  }

  async _post(query, variables, form = null) {
    const response = await fetch(this.url, {
      method: "POST",
      headers: {
        // A multipart body names its own boundary in Content-Type: the browser sets it.
        ...(form ? {} : { "Content-Type": "application/json" }),
        Accept: "application/graphql-response+json, application/json;q=0.9",
        // No token: only asking for a sign-in link works so.
        ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
      },
      body: form ?? JSON.stringify({ query, variables }),
    });
    let body;
    try {
      body = await response.json();
    } catch {
      throw new GraphQLRequestError([{ message: `The server answered ${response.status}.` }], response.status);
    }
    if (body.errors?.length) throw new GraphQLRequestError(body.errors, response.status);
    return body.data;
  }

  onStatus(listener) {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    const entry = { query, variables: typeof variables === "function" ? variables : () => variables, sink };
    this.subscriptions.set(id, entry);
    if (this.acknowledged) this._start(id, entry);
    else this._connect();
    return () => {
      this.subscriptions.delete(id);
      if (this.acknowledged) this._send({ id, type: "complete" });
    };
  }

  close() {
    this.closed = true;
    this.subscriptions.clear();
    this.socket?.close(1000, "bye");
  }

  _setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  _connect() {
    if (this.socket || this.closed) return;
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}${this.url}`, "graphql-transport-ws");
    this.socket = socket;
    this._setStatus("connecting");
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${this.token}` } }));
    };
    socket.onmessage = (event) => this._receive(JSON.parse(event.data));
    socket.onclose = (event) => {
      const wasAcknowledged = this.acknowledged;
      this.socket = null;
      this.acknowledged = false;
      if (this.closed) return;
      this._setStatus("offline");
      if (event.code === 4403) {
        // A live connection closed with 4403: the token expired or the user's groups changed.
        // Reconnect once, at once, with the current token; the subscriptions resume `after` the
        // last event seen. Only a refused connection_init is a refusal: retrying will not help.
        if (wasAcknowledged && this.subscriptions.size) {
          this._connect();
          return;
        }
        // The current token is refused too (its session ended, or it expired unrenewed): a page
        // that can renew asks once — a session that ended then takes the page to its sign-in.
        if (this.renew && !this.renewedForSocket && this.subscriptions.size) {
          this.renewedForSocket = true;
          this._renewSocket();
          return;
        }
        for (const { sink } of this.subscriptions.values()) sink.error?.([{ message: "Your sign-in was refused." }]);
        return;
      }
      if (this.subscriptions.size) {
        const delay = this.retryDelay;
        this.retryDelay = Math.min(this.retryDelay * 2, 10000);
        window.setTimeout(() => this._connect(), delay);
      }
    };
  }

  async _renewSocket() {
    let token = null;
    try {
      token = await this.renew();
    } catch {
      token = null;
    }
    if (this.closed) return;
    if (token) {
      this.token = token;
      this._connect();
      return;
    }
    for (const { sink } of this.subscriptions.values()) sink.error?.([{ message: "Your sign-in was refused." }]);
  }

  _receive(message) {
    switch (message.type) {
      case "connection_ack":
        this.acknowledged = true;
        this.renewedForSocket = false;
        this.retryDelay = 500;
        this._setStatus("live");
        for (const [id, entry] of this.subscriptions) this._start(id, entry);
        break;
      case "next":
        this.subscriptions.get(message.id)?.sink.next?.(message.payload.data, message.payload.errors);
        break;
      case "error":
        this.subscriptions.get(message.id)?.sink.error?.(message.payload);
        this.subscriptions.delete(message.id);
        break;
      case "complete":
        this.subscriptions.get(message.id)?.sink.complete?.();
        this.subscriptions.delete(message.id);
        break;
      case "ping":
        this._send({ type: "pong" });
        break;
      default:
        break;
    }
  }

  _start(id, entry) {
    this._send({ id, type: "subscribe", payload: { query: entry.query, variables: entry.variables() } });
  }

  _send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
