/**
 * Instagram webhook events in Radd's normalised form: one object per `messaging`, `standby` or
 * `changes` item of any entry, whatever Meta's envelope looked like (meta-instagram spec §3).
 */

/** An attachment as Meta described it; `share` and `ig_post` of the same post are one attachment. */
export interface NormalizedAttachment {
  /** Meta's type as sent: image, video, audio, file, share, ig_post, ig_reel, reel, ig_story, story, story_mention, like_heart, media, … */
  type: string;
  /** CDN URL (for ig_story, `story_media_url`). Stored, never downloaded. */
  url?: string;
  title?: string;
  /** ig_post_media_id, reel_video_id, story_media_id or payload.id when present. */
  mediaId?: string;
}

export interface Referral {
  ref?: string;
  source?: string;
  type?: string;
  adId?: string;
  adTitle?: string;
}

interface EventBase {
  /**
   * With `kind` and `accountId`, identifies the event: the same event delivered again (a retry, or
   * twice in one POST) has the same key; a message and the later deletion, edit, reaction or read of
   * it share a mid but differ in kind (or key).
   */
  key: string;
  /** `entry[].id`: the merchant's Instagram account (or Page) id. `"0"` for dashboard tests. */
  accountId: string;
  /** When it happened, epoch milliseconds (Meta's item timestamp, else the entry's time, else 0). */
  timestamp: number;
  /** Arrived under `standby`: another app owns the thread. */
  standby: boolean;
  /** The item exactly as it was in the payload. */
  raw: unknown;
}

/** Events of a direct-message thread between the account and one customer. */
interface ThreadEventBase extends EventBase {
  /** The customer's IGSID: the sender, or the recipient when the business is the sender. */
  customerId: string;
  /** The business (the account) is the sender. */
  fromBusiness: boolean;
}

/** A message from the customer (text, attachments, story reply, quick reply, ad referral…). */
export interface MessageEvent extends ThreadEventBase {
  kind: 'message';
  mid: string;
  text?: string;
  attachments: NormalizedAttachment[];
  replyTo?: { mid?: string; story?: { id?: string; url?: string } };
  quickReplyPayload?: string;
  referral?: Referral;
  isUnsupported: boolean;
}

/** A message the business sent (through Radd, another app, or the Instagram app): `is_echo`. */
export interface EchoEvent extends ThreadEventBase {
  kind: 'echo';
  mid: string;
  text?: string;
  attachments: NormalizedAttachment[];
  /** A test message to the account itself (`is_self`). */
  isSelf: boolean;
}

/** A message was unsent (`is_deleted`). */
export interface MessageDeletedEvent extends ThreadEventBase {
  kind: 'message_deleted';
  mid: string;
}

/** A message's text was edited (`message_edit` / `message_edits`). */
export interface MessageEditEvent extends ThreadEventBase {
  kind: 'message_edit';
  mid: string;
  text: string;
  editCount: number;
}

export interface ReactionEvent extends ThreadEventBase {
  kind: 'reaction';
  mid: string;
  action: 'react' | 'unreact';
  reaction?: string;
  emoji?: string;
}

/** `messaging_seen`: the customer has read up to this message. */
export interface ReadEvent extends ThreadEventBase {
  kind: 'read';
  mid: string;
}

/** Icebreaker, button or ad quick-reply tap. */
export interface PostbackEvent extends ThreadEventBase {
  kind: 'postback';
  mid?: string;
  title?: string;
  payload?: string;
  referral?: Referral;
}

/** The customer opened the thread through an ig.me link or an ad. */
export interface ReferralEvent extends ThreadEventBase {
  kind: 'referral';
  referral: Referral;
}

/** A comment (or a Live comment) on one of the account's media. */
export interface CommentEvent extends EventBase {
  kind: 'comment' | 'live_comment';
  commentId: string;
  text?: string;
  from: { id?: string; username?: string; selfIgScopedId?: string };
  media?: {
    id?: string;
    productType?: string;
    adId?: string;
    adTitle?: string;
    originalMediaId?: string;
  };
  /** Set when the comment replies to another comment. */
  parentId?: string;
}

/** The account was @mentioned in a caption or comment. */
export interface MentionEvent extends EventBase {
  kind: 'mention';
  mediaId?: string;
  commentId?: string;
}

/** Anything else (story_insights, optins, handover, a new field): kept raw, never acted on. */
export interface UnknownEvent extends EventBase {
  kind: 'unknown';
  /** The messaging key or `changes[].field` that was not recognised, when there was one. */
  field?: string;
}

export type InstagramEvent =
  | MessageEvent
  | EchoEvent
  | MessageDeletedEvent
  | MessageEditEvent
  | ReactionEvent
  | ReadEvent
  | PostbackEvent
  | ReferralEvent
  | CommentEvent
  | MentionEvent
  | UnknownEvent;

export type InstagramEventKind = InstagramEvent['kind'];
