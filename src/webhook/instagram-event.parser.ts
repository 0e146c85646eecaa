import { createHash } from 'node:crypto';
import type {
  CommentEvent,
  EchoEvent,
  InstagramEvent,
  MentionEvent,
  MessageEvent,
  NormalizedAttachment,
  PostbackEvent,
  ReactionEvent,
  Referral,
  UnknownEvent,
} from 'src/webhook/instagram-events';

/*
 * Meta Instagram webhook payload → normalised events (meta-instagram spec §3, §4, §11).
 * Total: every JSON value gives an array, malformed parts become `unknown` events or are skipped.
 */

type JsonRecord = Record<string, unknown>;

/** Where an item sits: its entry's account and time, and whether it came under `standby`. */
interface Scope {
  accountId: string;
  entryTime: number | undefined;
  standby: boolean;
}

/** The fields every event has, except its key. */
interface Common {
  accountId: string;
  timestamp: number;
  standby: boolean;
  raw: unknown;
}

interface Thread {
  customerId: string;
  fromBusiness: boolean;
}

/** Messaging item keys in dispatch order (§3.1). */
const DISPATCH_KEYS = [
  'message',
  'reaction',
  'postback',
  'referral',
  'read',
  'message_edit',
  'message_edits',
] as const;
type DispatchKey = (typeof DISPATCH_KEYS)[number];

/** Messaging item keys that never name the event. */
const ENVELOPE_KEYS = new Set(['sender', 'recipient', 'timestamp', 'time']);

/** Below this an epoch value is taken to be in seconds (1e11 s is the year 5138). */
const SECONDS_LIMIT = 1e11;
/** The largest epoch ms a JavaScript Date can hold. */
const MAX_EPOCH_MS = 8.64e15;

// ---------------------------------------------------------------------------------------------
// Narrowing helpers

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property of a record (never an inherited one), else undefined. */
function own(value: unknown, key: string): unknown {
  return isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

/** Follows own properties: `dig(item, 'sender', 'id')`. */
function dig(value: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((current, key) => own(current, key), value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** An id sent as a non-empty string or as a number; always a string out. */
function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Drops the keys whose value is undefined, so optional fields are absent rather than undefined. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------
// Time, counts and keys

function scaleEpoch(value: number): number | undefined {
  if (!Number.isFinite(value) || value < 0) return undefined;
  const ms = Math.round(value < SECONDS_LIMIT ? value * 1000 : value);
  return ms <= MAX_EPOCH_MS ? ms : undefined;
}

/** Epoch ms from a number or numeric string (seconds or ms), or an ISO date string. */
function toEpochMs(value: unknown): number | undefined {
  if (typeof value === 'number') return scaleEpoch(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d{1,20}(\.\d{1,20})?$/.test(text)) return scaleEpoch(Number(text));
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  // "+0000" (no colon) is not ISO 8601 extended format; make it so before parsing.
  const parsed = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

/** A non-negative integer sent as a number or a numeric string. */
function toCount(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function scalarJson(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  return 'null';
}

/**
 * sha256 hex of a value's canonical JSON (object keys sorted). Iterative, so any nesting depth
 * hashes without exhausting the stack.
 */
function hashJson(value: unknown): string {
  const hash = createHash('sha256');
  const seen = new WeakSet<object>();
  const stack: ({ text: string } | { value: unknown })[] = [{ value }];
  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    if ('text' in task) {
      hash.update(task.text);
      continue;
    }
    const current = task.value;
    if (typeof current !== 'object' || current === null || seen.has(current)) {
      hash.update(scalarJson(current));
      continue;
    }
    seen.add(current);
    if (Array.isArray(current)) {
      hash.update('[');
      stack.push({ text: ']' });
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i] as unknown });
        if (i > 0) stack.push({ text: ',' });
      }
    } else {
      const keys = Object.keys(current).sort();
      hash.update('{');
      stack.push({ text: '}' });
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ value: own(current, keys[i]) });
        stack.push({ text: `${JSON.stringify(keys[i])}:` });
        if (i > 0) stack.push({ text: ',' });
      }
    }
  }
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Parts of messages

function parseReferral(value: unknown): Referral | undefined {
  if (!isRecord(value)) return undefined;
  return compact({
    ref: str(own(value, 'ref')),
    source: str(own(value, 'source')),
    type: str(own(value, 'type')),
    adId: idOf(own(value, 'ad_id')),
    adTitle: str(dig(value, 'ads_context_data', 'ad_title')),
  });
}

function parseAttachment(value: unknown): NormalizedAttachment | undefined {
  if (!isRecord(value)) return undefined;
  const payload = own(value, 'payload');
  const field = (key: string): unknown => own(payload, key);
  return compact({
    type: str(own(value, 'type')) ?? 'unknown',
    url: str(field('url')) ?? str(field('story_media_url')),
    title: str(field('title')),
    mediaId:
      idOf(field('ig_post_media_id')) ??
      idOf(field('reel_video_id')) ??
      idOf(field('story_media_id')) ??
      idOf(field('id')),
  });
}

/** Of two attachments for the same post, keeps the non-`share` one, filling its gaps from the other. */
function mergeDuplicate(
  kept: NormalizedAttachment,
  dup: NormalizedAttachment,
): NormalizedAttachment {
  const [first, second] = kept.type === 'share' && dup.type !== 'share' ? [dup, kept] : [kept, dup];
  return compact({
    type: first.type,
    url: first.url ?? second.url,
    title: first.title ?? second.title,
    mediaId: first.mediaId ?? second.mediaId,
  });
}

/** Attachments in order, one per post: the Nov-2025 `share` + `ig_post` pair becomes the ig_post. */
function parseAttachments(value: unknown): NormalizedAttachment[] {
  const out: NormalizedAttachment[] = [];
  const byMedia = new Map<string, number>();
  const byUrl = new Map<string, number>();
  for (const attachment of list(value).map(parseAttachment)) {
    if (attachment === undefined) continue;
    const index =
      (attachment.mediaId !== undefined ? byMedia.get(attachment.mediaId) : undefined) ??
      (attachment.url !== undefined ? byUrl.get(attachment.url) : undefined);
    const at = index ?? out.length;
    out[at] = index === undefined ? attachment : mergeDuplicate(out[index], attachment);
    if (out[at].mediaId !== undefined) byMedia.set(out[at].mediaId, at);
    if (out[at].url !== undefined) byUrl.set(out[at].url, at);
  }
  return out;
}

function parseReplyTo(value: unknown): MessageEvent['replyTo'] {
  if (!isRecord(value)) return undefined;
  const story = own(value, 'story');
  const replyTo = compact({
    mid: idOf(own(value, 'mid')),
    story: isRecord(story)
      ? compact({ id: idOf(own(story, 'id')), url: str(own(story, 'url')) })
      : undefined,
  });
  return Object.keys(replyTo).length > 0 ? replyTo : undefined;
}

// ---------------------------------------------------------------------------------------------
// Events

function unknownEvent(common: Common, field: string | undefined): UnknownEvent {
  const hash = hashJson(common.raw);
  return compact<UnknownEvent>({
    kind: 'unknown',
    key: field === undefined ? hash : `${field}:${hash}`,
    ...common,
    field,
  });
}

/**
 * The customer and who sent the item: the business when `sender.id` is the entry's account id,
 * or when an echo names neither party by it (`entry.id` may be the Page id or the Instagram
 * account id, §0: the business wrote under its other one, to the recipient).
 */
function threadOf(item: JsonRecord, accountId: string): Thread | undefined {
  const sender = idOf(dig(item, 'sender', 'id'));
  const recipient = idOf(dig(item, 'recipient', 'id'));
  const echoUnderOtherId =
    dig(item, 'message', 'is_echo') === true && sender !== accountId && recipient !== accountId;
  const fromBusiness = echoUnderOtherId || (sender !== undefined && sender === accountId);
  const customerId = fromBusiness ? recipient : sender;
  return customerId === undefined ? undefined : { customerId, fromBusiness };
}

function parseMessage(
  value: JsonRecord,
  common: Common,
  thread: Thread,
): InstagramEvent | undefined {
  const mid = idOf(own(value, 'mid'));
  if (mid === undefined) return undefined;
  const base = { key: mid, ...common, ...thread, mid };
  if (own(value, 'is_deleted') === true) return { kind: 'message_deleted', ...base };
  const text = str(own(value, 'text'));
  const attachments = parseAttachments(own(value, 'attachments'));
  if (own(value, 'is_echo') === true) {
    return compact<EchoEvent>({
      kind: 'echo',
      ...base,
      text,
      attachments,
      isSelf: own(value, 'is_self') === true,
    });
  }
  return compact<MessageEvent>({
    kind: 'message',
    ...base,
    text,
    attachments,
    replyTo: parseReplyTo(own(value, 'reply_to')),
    quickReplyPayload: str(dig(value, 'quick_reply', 'payload')),
    referral: parseReferral(own(value, 'referral')),
    isUnsupported: own(value, 'is_unsupported') === true,
  });
}

function parseReaction(
  value: JsonRecord,
  common: Common,
  thread: Thread,
): InstagramEvent | undefined {
  const mid = idOf(own(value, 'mid'));
  const action = own(value, 'action');
  if (mid === undefined || (action !== 'react' && action !== 'unreact')) return undefined;
  const reaction = str(own(value, 'reaction'));
  const emoji = str(own(value, 'emoji'));
  const key = `${mid}:${action}:${emoji ?? reaction ?? ''}:${common.timestamp}`;
  return compact<ReactionEvent>({
    kind: 'reaction',
    key,
    ...common,
    ...thread,
    mid,
    action,
    reaction,
    emoji,
  });
}

function parsePostback(value: JsonRecord, common: Common, thread: Thread): PostbackEvent {
  const mid = idOf(own(value, 'mid'));
  const title = str(own(value, 'title'));
  const payload = str(own(value, 'payload'));
  const key = mid ?? `${thread.customerId}:${common.timestamp}:${payload ?? title ?? ''}`;
  const referral = parseReferral(own(value, 'referral'));
  return compact<PostbackEvent>({
    kind: 'postback',
    key,
    ...common,
    ...thread,
    mid,
    title,
    payload,
    referral,
  });
}

function parseEdit(value: JsonRecord, common: Common, thread: Thread): InstagramEvent | undefined {
  const mid = idOf(own(value, 'mid'));
  if (mid === undefined) return undefined;
  const editCount = toCount(own(value, 'num_edit')) ?? 0;
  const text = str(own(value, 'text')) ?? '';
  return {
    kind: 'message_edit',
    key: `${mid}:${editCount}`,
    ...common,
    ...thread,
    mid,
    text,
    editCount,
  };
}

function parseThreadEvent(
  field: DispatchKey,
  value: JsonRecord,
  common: Common,
  thread: Thread,
): InstagramEvent | undefined {
  switch (field) {
    case 'message':
      return parseMessage(value, common, thread);
    case 'reaction':
      return parseReaction(value, common, thread);
    case 'postback':
      return parsePostback(value, common, thread);
    case 'referral': {
      const referral = parseReferral(value) ?? {};
      const key = `${thread.customerId}:${common.timestamp}:${referral.ref ?? ''}`;
      return { kind: 'referral', key, ...common, ...thread, referral };
    }
    case 'read': {
      const mid = idOf(own(value, 'mid'));
      return mid === undefined ? undefined : { kind: 'read', key: mid, ...common, ...thread, mid };
    }
    case 'message_edit':
    case 'message_edits':
      return parseEdit(value, common, thread);
  }
}

/** The first dispatch key the item carries with a non-null value. */
function dispatchKeyOf(item: JsonRecord): DispatchKey | undefined {
  return DISPATCH_KEYS.find((key) => own(item, key) !== undefined && own(item, key) !== null);
}

/** A `messaging[]` / `standby[]` item (or the `value` of a dashboard-test `messages` change). */
function parseMessagingItem(item: unknown, scope: Scope, raw: unknown = item): InstagramEvent {
  const timestamp =
    toEpochMs(own(item, 'timestamp')) ?? toEpochMs(own(item, 'time')) ?? scope.entryTime ?? 0;
  const common: Common = { accountId: scope.accountId, timestamp, standby: scope.standby, raw };
  if (!isRecord(item)) return unknownEvent(common, undefined);
  const field = dispatchKeyOf(item);
  if (field === undefined) {
    return unknownEvent(
      common,
      Object.keys(item).find((key) => !ENVELOPE_KEYS.has(key)),
    );
  }
  const value = item[field];
  const thread = threadOf(item, scope.accountId);
  const event =
    thread !== undefined && isRecord(value)
      ? parseThreadEvent(field, value, common, thread)
      : undefined;
  return event ?? unknownEvent(common, field);
}

function parseComment(
  kind: CommentEvent['kind'],
  value: JsonRecord,
  common: Common,
): CommentEvent | undefined {
  const commentId = idOf(own(value, 'id')) ?? idOf(own(value, 'comment_id'));
  if (commentId === undefined) return undefined;
  const from = own(value, 'from');
  const media = own(value, 'media');
  return compact<CommentEvent>({
    kind,
    key: commentId,
    ...common,
    commentId,
    text: str(own(value, 'text')),
    from: compact({
      id: idOf(own(from, 'id')),
      username: str(own(from, 'username')),
      selfIgScopedId: idOf(own(from, 'self_ig_scoped_id')),
    }),
    media: isRecord(media)
      ? compact({
          id: idOf(own(media, 'id')),
          productType: str(own(media, 'media_product_type')),
          adId: idOf(own(media, 'ad_id')),
          adTitle: str(own(media, 'ad_title')),
          originalMediaId: idOf(own(media, 'original_media_id')),
        })
      : undefined,
    parentId: idOf(own(value, 'parent_id')),
  });
}

function parseMention(value: JsonRecord, common: Common): MentionEvent | undefined {
  const mediaId = idOf(own(value, 'media_id'));
  const commentId = idOf(own(value, 'comment_id'));
  if (mediaId === undefined && commentId === undefined) return undefined;
  const key = `${mediaId ?? ''}:${commentId ?? ''}`;
  return compact<MentionEvent>({ kind: 'mention', key, ...common, mediaId, commentId });
}

function parseChangeValue(
  field: string,
  value: JsonRecord,
  common: Common,
): InstagramEvent | undefined {
  switch (field) {
    case 'comments':
      return parseComment('comment', value, common);
    case 'live_comments':
      return parseComment('live_comment', value, common);
    case 'mentions':
      return parseMention(value, common);
    default:
      return undefined;
  }
}

/** A `changes[]` item `{field, value}`; timed by the entry (changes carry no timestamp). */
function parseChange(change: unknown, scope: Scope): InstagramEvent {
  const common: Common = {
    accountId: scope.accountId,
    timestamp: scope.entryTime ?? 0,
    standby: scope.standby,
    raw: change,
  };
  const field = str(own(change, 'field'));
  const value = own(change, 'value');
  if (field === undefined || !isRecord(value)) return unknownEvent(common, field);
  // The dashboard "Test" button wraps a messaging item in a `messages` change (§3.12).
  if (field === 'messages') return parseMessagingItem(value, scope, change);
  return parseChangeValue(field, value, common) ?? unknownEvent(common, field);
}

function parseEntry(entry: unknown, out: InstagramEvent[]): void {
  if (!isRecord(entry)) return;
  const accountId = idOf(own(entry, 'id')) ?? '';
  const entryTime = toEpochMs(own(entry, 'time'));
  const scope = (standby: boolean): Scope => ({ accountId, entryTime, standby });
  for (const [name, standby] of [
    ['messaging', false],
    ['standby', true],
  ] as const) {
    for (const item of list(own(entry, name))) out.push(parseMessagingItem(item, scope(standby)));
  }
  const changes = own(entry, 'changes');
  if (Array.isArray(changes)) {
    for (const change of changes) out.push(parseChange(change, scope(false)));
  } else if (Object.hasOwn(entry, 'field')) {
    // Meta's doc variant puts `field`/`value` on the entry itself.
    out.push(parseChange({ field: own(entry, 'field'), value: own(entry, 'value') }, scope(false)));
  }
}

/**
 * Every event of an Instagram webhook body, sorted by timestamp (stable: equal timestamps keep
 * payload order). Never throws: unrecognised or malformed items come back as `unknown` events.
 * A top-level array of envelopes (as Meta's docs print some samples) is walked too.
 */
export function parseInstagramWebhook(body: unknown): InstagramEvent[] {
  const events: InstagramEvent[] = [];
  for (const envelope of Array.isArray(body) ? body : [body]) {
    for (const entry of list(own(envelope, 'entry'))) parseEntry(entry, events);
  }
  return events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => a.event.timestamp - b.event.timestamp || a.index - b.index)
    .map(({ event }) => event);
}
