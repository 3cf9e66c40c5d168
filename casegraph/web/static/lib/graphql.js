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
// server closes with 4403 (token expired, groups changed) is reconnected once with the current
// token; only when that connection_init is refused too do the subscriptions get an error.

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

export class GraphQLClient {
  constructor({ token, url = "/graphql" }) {
    this.token = token;
    this.url = url;
    this.socket = null;
    this.acknowledged = false;
    this.subscriptions = new Map(); // id -> { query, variables: () => object, sink }
    this.nextId = 1;
    this.retryDelay = 500;
    this.statusListeners = new Set();
    this.status = "offline";
    this.closed = false;
  }

  async request(query, variables = {}) {
    const response = await fetch(this.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json;q=0.9",
        Authorization: `Bearer ${this.token}`,
      },
      body: JSON.stringify({ query, variables }),
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

  _receive(message) {
    switch (message.type) {
      case "connection_ack":
        this.acknowledged = true;
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
