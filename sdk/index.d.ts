// Types of the PaiPai chat SDK (plain CommonJS JavaScript; these describe it for TypeScript and editors).
// The adapters: require("./adapters/wechat.js") | ("./adapters/browser.js") | ("./adapters/node.js").

export type ConnectionState = "connecting" | "live" | "offline";

export type MessageType = "txt" | "img" | "audio" | "video" | "location" | "file" | "custom" | "offer" | "system";

export interface UserSummary { id: number; nickname: string; avatar_url: string | null }

export interface User extends UserSummary { username: string; role?: string; bio?: string | null; created_at?: string }

export interface Message {
  id: number;
  group_id: number;
  seq: number;
  sender: UserSummary | null;  // null: a system message
  type: MessageType;
  body: Record<string, any>;   // txt {text}, img {url, width?, height?}, audio {url, duration_ms}, ...
  ext: Record<string, any> | null;
  client_id: string | null;
  created_at: string;
  recalled: boolean;
  /** The message this one answers, as it was (`recalled`, with an empty preview, once that one is recalled). */
  reply_to: Quote | null;
  /** User ids mentioned, or "all". */
  mentions: number[] | "all" | null;
  edited_at: string | null;
  /** How many times it was edited. */
  revision: number;
  /** History pages (and after a `reaction` event): each emoji, how many, and whether you are among them. */
  reactions?: Reaction[];
}

export interface Quote {
  id: number;
  seq: number;
  sender: { id: number; nickname: string } | null;
  type: MessageType;
  preview: string;
  recalled: boolean;
}

export interface Reaction { emoji: string; count: number; me: boolean }

/** A message's reactions now; `change` on live events only (a replay after a reconnect has none). */
export interface ReactionEvent {
  group_id: number;
  message_id: number;
  seq: number;
  reactions: Reaction[];
  change?: { user_id: number; emoji: string; action: "add" | "remove" };
}

export interface SendOptions {
  /** The id of the message of this group being answered. */
  replyTo?: number;
  /** Members to mention (user groups and rooms), or "all" (owner and admins). */
  mentions?: number[] | "all";
}

export interface Conversation {
  group_id: number;
  kind: "item" | "direct" | "room";
  listing: { id: number; title: string; price_cents: number; kind: string; status: string; cover_url: string | null } | null;
  peer: (UserSummary & { online: boolean }) | null;
  role: string;
  last_message: { id: number; seq: number; type: MessageType; preview: string; sender_id: number | null; created_at: string } | null;
  unread_count: number;
  updated_at: string;
  read_only?: boolean;
  /** Left out of the badge (`unreadTotal()`) and never notified. */
  muted: boolean;
  /** Heads the list (pinned chats by activity among themselves). */
  pinned: boolean;
  /** A message after your read marker mentions you (user groups and rooms). */
  mentioned?: boolean;
  /** The other party's read marker: your messages up to this seq are "已读" (null in rooms). */
  peer_read_seq: number | null;
}

/** PUT /conversations/{id}'s answer. */
export interface ConversationFlags { group_id: number; muted: boolean; pinned: boolean }

/** POST /me/subscriptions's answer: how many notifications the server may still send with this template. */
export interface SubscriptionState { template_id: string; remaining: number }

export interface CursorPage<T> { items: T[]; next_cursor: string | null }

/** GET /conversations: a page and the badge, with its version (one more with each change of the total). */
export interface ConversationPage extends CursorPage<Conversation> { unread_total: number; unread_version: number }

export interface SendFrame {
  op: "send";
  client_id: string;
  group_id: number;
  type: MessageType;
  body: Record<string, any>;
  ext?: Record<string, any>;
  reply_to?: { id: number };
  mentions?: number[] | "all";
}

/** A send waiting in the persisted outbox, with the promise of this run (restored ones too). */
export interface PendingSend extends SendFrame { promise: Promise<Message> }

/** The promise of a send: resolves with the stored message, rejects with an ApiError; `clientId` at once. */
export type SendPromise = Promise<Message> & { clientId: string };

export declare class ApiError extends Error {
  /** HTTP status; 0 when the network failed; undefined for a refusal on the WebSocket. */
  status: number | undefined;
  /** The contract's stable code: "validation_error", "forbidden", "not_found", "banned", "network_error", ... */
  code: string;
  details: Record<string, any>;
  /** The send this refusal is about (WebSocket error frames). */
  clientId?: string;
  /** The session is over (4401 unauthorized, 4403 banned): log in again; the client will not reconnect. */
  fatal?: boolean;
}

export interface ClientOptions {
  /** The API's origin, e.g. "https://api.example.com" (a mini-program's request domain); "" = the page's host. */
  baseUrl?: string;
  /** The WebSocket URL; default: baseUrl with ws(s):// and /ws. */
  wsUrl?: string;
  /** Prefix of every storage key (default "paipai"). */
  storagePrefix?: string;
  /** Messages kept per conversation (default 200). */
  cacheLimit?: number;
  /** Size of the conversation list's first page (default 50). */
  conversationsLimit?: number;
  /** Close the socket this long after the app is hidden, resume on show (WeChat default 5000; null: never). */
  hideGraceMs?: number | null;
  /** Ping interval; default the server's heartbeat_s from hello. */
  pingIntervalMs?: number | null;
  /** No frame this long after a ping: the socket is dead, reconnect (default 10000). */
  pingTimeoutMs?: number;
  helloTimeoutMs?: number;
  /** Reconnect delays: exponential from baseMs to maxMs, with jitter (default 500 / 30000). */
  backoff?: { baseMs: number; maxMs: number };
}

export interface HistoryQuery { beforeSeq?: number; afterSeq?: number; limit?: number }

export interface ConversationsQuery { kind?: string; listing_id?: number; archived?: boolean; limit?: number; cursor?: string }

export type Credentials = { username: string; password: string } | { code: string };

export interface ClientEvents {
  message: (message: Message, info: { own: boolean; replay: boolean }) => void;
  ack: (message: Message, clientId: string) => void;
  recall: (message: Message) => void;
  /** A message was edited (the cached copy is replaced by seq); once per revision. */
  edit: (message: Message) => void;
  reaction: (data: ReactionEvent) => void;
  read: (data: { group_id: number; user_id: number; seq: number }) => void;
  typing: (data: { group_id: number; user_id: number }) => void;
  presence: (data: { user_id: number; online: boolean }) => void;
  conversations: (items: Conversation[]) => void;
  /** The tab badge changed (messages, reads on any device, mute): e.g. wx.setTabBarBadge. */
  unread: (unreadTotal: number) => void;
  state: (state: ConnectionState, reason: string) => void;
  error: (error: ApiError) => void;
  /** Other server events (listing, group, member): the conversation list reloads itself. */
  event: (event: { type: string; data: Record<string, any> }) => void;
}

/** The old IM SDK's handler names (conn.listen({...})). Message handlers get the old shape plus `message`. */
export interface OldMessage {
  id: string; type: MessageType; from: string; to: string; data: string; url?: string; ext: Record<string, any>;
  time: string; groupId: number; seq: number; body: Record<string, any>; sender: UserSummary | null;
  message: Message; own?: boolean; customExts?: { event: string; data: any };
}

export interface CompatHandlers {
  onOpened?: (info: { reason: string }) => void;
  onClosed?: (info: { reason: string }) => void;
  onError?: (error: { type: string; message: string; error: ApiError }) => void;
  onPresence?: (presence: { type: string; from?: string; userId?: number; gid?: string; data: any }) => void;
  onTextMessage?: (message: OldMessage) => void;
  onPictureMessage?: (message: OldMessage) => void;
  onAudioMessage?: (message: OldMessage) => void;
  onVideoMessage?: (message: OldMessage) => void;
  onLocationMessage?: (message: OldMessage) => void;
  onFileMessage?: (message: OldMessage) => void;
  onCustomMessage?: (message: OldMessage) => void;
  onRecallMessage?: (message: OldMessage) => void;
}

/** A browser File or Blob (typed structurally, so these types need no DOM library). */
export interface BlobLike { readonly size: number; readonly type: string }

/** What an upload takes: a temp file path (WeChat, Node) or a File/Blob (browser). */
export type UploadFile = string | BlobLike;

export declare class Client {
  readonly token: string | null;
  readonly user: User | null;
  readonly userId: number | null;
  readonly state: ConnectionState;
  readonly cursor: string | null;

  login(credentials: Credentials): Promise<User>;
  useToken(accessToken: string, user: User): void;
  /** Revoke the token and forget the session; the list, cached messages and badge are emptied at once. */
  logout(): Promise<void>;

  connect(): this;
  close(): void;
  destroy(): void;
  on<K extends keyof ClientEvents>(name: K, listener: ClientEvents[K]): () => void;
  off<K extends keyof ClientEvents>(name: K, listener: ClientEvents[K]): void;
  listen(handlers: CompatHandlers): () => void;

  send(groupId: number, type: MessageType, body: Record<string, any>, ext?: Record<string, any>,
       options?: SendOptions): SendPromise;
  sendText(groupId: number, text: string, ext?: Record<string, any>, options?: SendOptions): SendPromise;
  sendLocation(groupId: number, location: { lat: number; lng: number; address?: string }, ext?: Record<string, any>): SendPromise;
  sendCustom(groupId: number, event: string, data: any, ext?: Record<string, any>): SendPromise;
  sendImage(groupId: number, file: UploadFile, size?: { width?: number; height?: number }, ext?: Record<string, any>): Promise<Message>;
  sendAudio(groupId: number, file: UploadFile, durationMs: number, ext?: Record<string, any>): Promise<Message>;
  sendVideo(groupId: number, file: UploadFile, durationMs: number, extra?: { thumbUrl?: string }, ext?: Record<string, any>): Promise<Message>;
  pendingSends(): PendingSend[];
  typing(groupId: number): boolean;
  markRead(groupId: number, seq?: number): Promise<void>;
  setActiveConversation(groupId: number | null): void;

  loadConversations(query?: ConversationsQuery): Promise<ConversationPage>;
  conversations(): Conversation[];
  /** Unread messages of every chat that is not muted (the server's `unread_total`, kept current). */
  unreadTotal(): number;
  /** PUT /conversations/{id} {muted}; then the list and the badge are read again. */
  mute(groupId: number, muted?: boolean): Promise<ConversationFlags>;
  /** PUT /conversations/{id} {pinned} (at most 10: `pin_limit`); pinned chats head the list. */
  pin(groupId: number, pinned?: boolean): Promise<ConversationFlags>;
  /** DELETE /conversations/{id} (删除聊天): out of the list and the badge until its next message; history stays. */
  hideConversation(groupId: number): Promise<void>;
  /** POST /me/wechat: bind the WeChat user of a wx.login code to this account. */
  bindWechat(code: string): Promise<null>;
  /** POST /me/subscriptions after wx.requestSubscribeMessage: each acceptance is one offline notification. */
  recordSubscription(templateId: string, accepted: boolean): Promise<SubscriptionState>;
  history(groupId: number, query?: HistoryQuery): Promise<CursorPage<Message>>;
  messages(groupId: number): Message[];
  openInquiry(listingId: number): Promise<{ id: number; kind: string; [key: string]: any }>;
  openDirect(userId: number): Promise<{ id: number; kind: string; [key: string]: any }>;
  recall(groupId: number, messageId: number): Promise<Message>;
  /** PATCH the text of your message (within the server's edit window); every member's devices hear `edit`. */
  editMessage(groupId: number, messageId: number, text: string): Promise<Message>;
  react(groupId: number, messageId: number, emoji: string): Promise<{ group_id: number; message_id: number; seq: number; reactions: Reaction[] }>;
  unreact(groupId: number, messageId: number, emoji: string): Promise<null>;
  upload(file: UploadFile): Promise<{ url: string; content_type: string; size: number }>;
}

export interface Platform {
  name: string;
  socketHeaders: boolean;
  wsUrl(base: string): string;
  isOnline?(): boolean;
  openSocket(url: string, headers: Record<string, string>, on: {
    open(): void; message(text: string): void; close(code: number, reason: string): void;
  }): { send(text: string): void; close(code: number, reason?: string): void };
  /** status 0 (and `error`) when the network failed. */
  request(req: { method: string; url: string; headers: Record<string, string>; json?: any }): Promise<{ status: number; data: any; error?: string }>;
  upload(req: { url: string; headers: Record<string, string>; file: UploadFile }): Promise<{ status: number; data: any; error?: string }>;
  storage: { get(key: string): any; set(key: string, value: any): void; remove(key: string): void };
  onShow(fn: () => void): () => void;
  onHide(fn: () => void): () => void;
  onNetwork(fn: (online: boolean) => void): () => void;
}

export declare function createClient(platform: Platform, options?: ClientOptions): Client;
export declare function listen(client: Client, handlers: CompatHandlers): () => void;
export declare function newClientId(): string;
export declare function preview(message: Message): string;
export declare const State: { CONNECTING: "connecting"; LIVE: "live"; OFFLINE: "offline" };
export declare const HANDLER_BY_TYPE: Record<MessageType, keyof CompatHandlers>;
