import fc from 'fast-check';
import { parseInstagramWebhook } from 'src/webhook/instagram-event.parser';
import type { InstagramEvent } from 'src/webhook/instagram-events';

// Sample payloads of meta-instagram spec §11, byte for byte.
const F1 =
  '{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"message":{"text":"Hello World","mid":"external_id"},"recipient":{"id":"1234567890"},"sender":{"id":"5678"},"timestamp":1459991487970}],"time":1459991487970}]}';
const F3 =
  '{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"recipient":{"id":"1234567890"},"sender":{"id":"5678"},"timestamp":1459991487970,"message":{"is_echo":true,"mid":"qT7ywaK"}}]}]}';
const F5 =
  '{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"sender":{"id":"5678"},"recipient":{"id":"1234567890"},"timestamp":1459991487970,"message":{"mid":"external_id","attachments":[{"type":"like_heart"}]}}],"time":1459991487970}]}';
const F7 =
  '{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"postback":{"title":"icebreaker question","payload":"get_started"},"recipient":{"id":"1234567890"},"sender":{"id":"5678"},"timestamp":1459991487970}],"time":1459991487970}]}';
const F8 =
  '{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"message":{"mid":"external_id","attachments":[{"type":"image","payload":{"url":"https://image-url/foo.png"}}]},"recipient":{"id":"1234567890"},"sender":{"id":"5678"},"timestamp":1459991487970}],"time":1459991487970}]}';
const F9 =
  '{"entry":[{"id":"instagram-message-id-123","time":"2021-09-08T06:34:04+0000","messaging":[{"sender":{"id":"Sender-id-1"},"recipient":{"id":"chatwoot-app-user-id-1"},"timestamp":"2021-09-08T06:34:04+0000","message":{"mid":"message-id-1","text":"This is the story reply","reply_to":{"story":{"id":"chatwoot-app-user-id-1","url":"https://chatwoot-assets.local/sample.png"}}}}]}]}';
const F11 =
  '{"entry":[{"id":"instagram-message-id-1234","time":"2021-09-08T06:34:04+0000","messaging":[{"sender":{"id":"Sender-id-1"},"recipient":{"id":"chatwoot-app-user-id-1"},"timestamp":"2021-09-08T06:34:04+0000","message":{"mid":"message-id-1","attachments":[{"type":"ig_reel","payload":{"reel_video_id":"1234","title":"Reel title","url":"https://www.example.com/test.jpeg"}}]}}]}]}';
const F16 =
  '{"object":"instagram","entry":[{"id":"0","time":1785108996,"changes":[{"field":"comments","value":{"id":"17865799348089039","text":"This is an example.","from":{"id":"232323232","username":"test","self_ig_scoped_id":"232323232"},"media":{"id":"123123123","media_product_type":"FEED"},"parent_id":"1231231234"}}]}]}';

// §3.9 `mentions` samples as Meta's docs print them (a top-level array), byte for byte.
const MENTION_MEDIA =
  '[{"entry":[{"changes":[{"field":"mentions","value":{"media_id":"17918195224117851"}}],"id":"17841405726653026","time":1520622968}],"object":"instagram"}]';
const MENTION_COMMENT =
  '[{"entry":[{"changes":[{"field":"mentions","value":{"comment_id":"17894227972186120","media_id":"17918195224117851"}}],"id":"17841405726653026","time":1520622968}],"object":"instagram"}]';

/** 2021-09-08T06:34:04Z, the time of the chatwoot-derived samples. */
const F9_TIME = Date.UTC(2021, 8, 8, 6, 34, 4);

const ACCOUNT = '17841400000000001';
const CUSTOMER = '9876543210123456';
const ENTRY_TIME = 1_760_000_000_500;
const TS = 1_760_000_000_000;

type Json = Record<string, unknown>;

/** A messaging item from the customer to the account, with `extra` as the event key(s). */
function fromCustomer(extra: Json, timestamp: unknown = TS): Json {
  return { sender: { id: CUSTOMER }, recipient: { id: ACCOUNT }, timestamp, ...extra };
}

/** A messaging item from the account to the customer. */
function fromBusiness(extra: Json, timestamp: unknown = TS): Json {
  return { sender: { id: ACCOUNT }, recipient: { id: CUSTOMER }, timestamp, ...extra };
}

function messaging(items: unknown[], entry: Json = {}): Json {
  return {
    object: 'instagram',
    entry: [{ id: ACCOUNT, time: ENTRY_TIME, messaging: items, ...entry }],
  };
}

function changes(items: unknown[], entry: Json = {}): Json {
  return {
    object: 'instagram',
    entry: [{ id: ACCOUNT, time: 1520622968, changes: items, ...entry }],
  };
}

/** The event type(s) whose `kind` can be K (CommentEvent has two kinds). */
type WithKind<E, K> = E extends { kind: infer EK } ? (K extends EK ? E : never) : never;
type EventOf<K extends InstagramEvent['kind']> = WithKind<InstagramEvent, K>;

/** Parses and expects exactly one event, of the given kind. */
function only<K extends InstagramEvent['kind']>(body: unknown, kind: K): EventOf<K> {
  const events = parseInstagramWebhook(body);
  expect(events).toHaveLength(1);
  expect(events[0].kind).toBe(kind);
  return events[0] as EventOf<K>;
}

function attachmentsOf(...attachments: unknown[]) {
  const body = messaging([fromCustomer({ message: { mid: 'm-att', attachments } })]);
  return only(body, 'message').attachments;
}

describe('parseInstagramWebhook', () => {
  describe('sample payloads (spec §11)', () => {
    it('F1: plain text DM', () => {
      const body: unknown = JSON.parse(F1);
      const event = only(body, 'message');
      expect(event).toStrictEqual({
        kind: 'message',
        key: 'external_id',
        accountId: '1234567890',
        timestamp: 1459991487970,
        standby: false,
        raw: (body as { entry: { messaging: unknown[] }[] }).entry[0].messaging[0],
        customerId: '5678',
        fromBusiness: false,
        mid: 'external_id',
        text: 'Hello World',
        attachments: [],
        isUnsupported: false,
      });
    });

    it('F3: echo fixture keeping the customer as sender', () => {
      const event = only(JSON.parse(F3), 'echo');
      expect(event).toMatchObject({
        key: 'qT7ywaK',
        mid: 'qT7ywaK',
        accountId: '1234567890',
        customerId: '5678',
        fromBusiness: false,
        isSelf: false,
        attachments: [],
        timestamp: 1459991487970,
      });
      expect(event.text).toBeUndefined();
    });

    it('F5: heart sticker without payload', () => {
      const event = only(JSON.parse(F5), 'message');
      expect(event.attachments).toStrictEqual([{ type: 'like_heart' }]);
      expect(event.text).toBeUndefined();
      expect(event.customerId).toBe('5678');
    });

    it('F7: icebreaker postback without mid', () => {
      const event = only(JSON.parse(F7), 'postback');
      expect(event).toMatchObject({
        title: 'icebreaker question',
        payload: 'get_started',
        customerId: '5678',
        fromBusiness: false,
        timestamp: 1459991487970,
        key: '5678:1459991487970:get_started',
      });
      expect(event.mid).toBeUndefined();
    });

    it('F8: image attachment', () => {
      const event = only(JSON.parse(F8), 'message');
      expect(event.attachments).toStrictEqual([
        { type: 'image', url: 'https://image-url/foo.png' },
      ]);
      expect(event.key).toBe('external_id');
    });

    it('F9: story reply with ISO timestamps', () => {
      const event = only({ object: 'instagram', ...(JSON.parse(F9) as Json) }, 'message');
      expect(event).toMatchObject({
        accountId: 'instagram-message-id-123',
        customerId: 'Sender-id-1',
        fromBusiness: false,
        mid: 'message-id-1',
        text: 'This is the story reply',
        timestamp: F9_TIME,
        replyTo: {
          story: { id: 'chatwoot-app-user-id-1', url: 'https://chatwoot-assets.local/sample.png' },
        },
      });
      expect(event.replyTo?.mid).toBeUndefined();
    });

    it('F11: shared reel', () => {
      const event = only({ object: 'instagram', ...(JSON.parse(F11) as Json) }, 'message');
      expect(event.timestamp).toBe(F9_TIME);
      expect(event.attachments).toStrictEqual([
        {
          type: 'ig_reel',
          url: 'https://www.example.com/test.jpeg',
          title: 'Reel title',
          mediaId: '1234',
        },
      ]);
    });

    it('F16: dashboard comment sample', () => {
      const body = JSON.parse(F16) as { entry: { changes: unknown[] }[] };
      const event = only(body, 'comment');
      expect(event).toStrictEqual({
        kind: 'comment',
        key: '17865799348089039',
        accountId: '0',
        timestamp: 1785108996000,
        standby: false,
        raw: body.entry[0].changes[0],
        commentId: '17865799348089039',
        text: 'This is an example.',
        from: { id: '232323232', username: 'test', selfIgScopedId: '232323232' },
        media: { id: '123123123', productType: 'FEED' },
        parentId: '1231231234',
      });
    });
  });

  describe('messages (spec §3.2)', () => {
    it('text from the customer', () => {
      const item = fromCustomer({ message: { mid: 'm1', text: 'شكد سعره؟' } });
      const event = only(messaging([item]), 'message');
      expect(event).toMatchObject({
        key: 'm1',
        mid: 'm1',
        text: 'شكد سعره؟',
        accountId: ACCOUNT,
        customerId: CUSTOMER,
        fromBusiness: false,
        timestamp: TS,
        standby: false,
        isUnsupported: false,
      });
      expect(event.raw).toBe(item);
    });

    it.each([
      ['image', { url: 'https://cdn/i.jpg' }, { type: 'image', url: 'https://cdn/i.jpg' }],
      ['video', { url: 'https://cdn/v.mp4' }, { type: 'video', url: 'https://cdn/v.mp4' }],
      ['audio', { url: 'https://cdn/a.m4a' }, { type: 'audio', url: 'https://cdn/a.m4a' }],
      ['file', { url: 'https://cdn/f.pdf' }, { type: 'file', url: 'https://cdn/f.pdf' }],
      ['media', { url: 'https://cdn/m' }, { type: 'media', url: 'https://cdn/m' }],
      [
        'share',
        { url: 'https://cdn/p', ig_post_media_id: '111', title: 'Post' },
        { type: 'share', url: 'https://cdn/p', title: 'Post', mediaId: '111' },
      ],
      [
        'ig_post',
        { url: 'https://cdn/p', ig_post_media_id: '111', title: 'Post' },
        { type: 'ig_post', url: 'https://cdn/p', title: 'Post', mediaId: '111' },
      ],
      [
        'ig_reel',
        { url: 'https://cdn/r', reel_video_id: '222', title: 'Reel' },
        { type: 'ig_reel', url: 'https://cdn/r', title: 'Reel', mediaId: '222' },
      ],
      ['reel', { url: 'https://cdn/r2' }, { type: 'reel', url: 'https://cdn/r2' }],
      ['story', { url: 'https://cdn/s' }, { type: 'story', url: 'https://cdn/s' }],
      [
        'ig_story',
        { story_media_id: '333', story_media_url: 'https://cdn/st' },
        { type: 'ig_story', url: 'https://cdn/st', mediaId: '333' },
      ],
      [
        'story_mention',
        { url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1' },
        { type: 'story_mention', url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1' },
      ],
      ['template', { id: 444 }, { type: 'template', mediaId: '444' }],
    ])('attachment %s', (type, payload, expected) => {
      expect(attachmentsOf({ type, payload })).toStrictEqual([expected]);
    });

    it('like_heart attachment has no payload', () => {
      expect(attachmentsOf({ type: 'like_heart' })).toStrictEqual([{ type: 'like_heart' }]);
    });

    it('the Nov-2025 share + ig_post pair becomes one ig_post attachment', () => {
      const payload = { ig_post_media_id: '1799', title: 'فستان', url: 'https://cdn/post' };
      expect(attachmentsOf({ type: 'share', payload }, { type: 'ig_post', payload })).toStrictEqual(
        [{ type: 'ig_post', url: 'https://cdn/post', title: 'فستان', mediaId: '1799' }],
      );
      expect(attachmentsOf({ type: 'ig_post', payload }, { type: 'share', payload })).toStrictEqual(
        [{ type: 'ig_post', url: 'https://cdn/post', title: 'فستان', mediaId: '1799' }],
      );
    });

    it('dedupes by url alone and keeps distinct attachments apart', () => {
      expect(
        attachmentsOf(
          { type: 'share', payload: { url: 'https://cdn/x', title: 'T' } },
          { type: 'image', payload: { url: 'https://cdn/a' } },
          { type: 'ig_post', payload: { url: 'https://cdn/x', ig_post_media_id: '5' } },
          { type: 'image', payload: { url: 'https://cdn/b' } },
          { type: 'like_heart' },
          { type: 'like_heart' },
        ),
      ).toStrictEqual([
        { type: 'ig_post', url: 'https://cdn/x', title: 'T', mediaId: '5' },
        { type: 'image', url: 'https://cdn/a' },
        { type: 'image', url: 'https://cdn/b' },
        { type: 'like_heart' },
        { type: 'like_heart' },
      ]);
    });

    it('skips attachments that are not objects and names a missing type unknown', () => {
      expect(attachmentsOf(null, 'x', 3, [], { payload: { url: 'https://cdn/n' } })).toStrictEqual([
        { type: 'unknown', url: 'https://cdn/n' },
      ]);
    });

    it('reply_to a story', () => {
      const reply = { story: { url: 'https://cdn/story', id: '1790' } };
      const item = fromCustomer({ message: { mid: 'm2', text: 'بكم؟', reply_to: reply } });
      expect(only(messaging([item]), 'message').replyTo).toStrictEqual({
        story: { id: '1790', url: 'https://cdn/story' },
      });
    });

    it('reply_to a message', () => {
      const item = fromCustomer({ message: { mid: 'm3', text: 'yes', reply_to: { mid: 'm0' } } });
      expect(only(messaging([item]), 'message').replyTo).toStrictEqual({ mid: 'm0' });
    });

    it('quick reply', () => {
      const message = { mid: 'm4', text: 'أحمر', quick_reply: { payload: 'COLOR_RED' } };
      const event = only(messaging([fromCustomer({ message })]), 'message');
      expect(event.quickReplyPayload).toBe('COLOR_RED');
      expect(event.text).toBe('أحمر');
    });

    it('click-to-DM ad referral inside a message', () => {
      const referral = {
        ref: 'summer',
        ad_id: 6060,
        source: 'ADS',
        type: 'OPEN_THREAD',
        ads_context_data: { ad_title: 'تخفيضات', photo_url: 'https://cdn/ad.jpg' },
      };
      const event = only(
        messaging([fromCustomer({ message: { mid: 'm5', text: 'hi', referral } })]),
        'message',
      );
      expect(event.referral).toStrictEqual({
        ref: 'summer',
        source: 'ADS',
        type: 'OPEN_THREAD',
        adId: '6060',
        adTitle: 'تخفيضات',
      });
    });

    it('is_echo sent by the business', () => {
      const message = {
        mid: 'm6',
        text: 'أهلاً',
        is_echo: true,
        attachments: [{ type: 'image', payload: { url: 'https://cdn/e.jpg' } }],
      };
      const event = only(messaging([fromBusiness({ message })]), 'echo');
      expect(event).toMatchObject({
        key: 'm6',
        mid: 'm6',
        text: 'أهلاً',
        customerId: CUSTOMER,
        fromBusiness: true,
        isSelf: false,
        attachments: [{ type: 'image', url: 'https://cdn/e.jpg' }],
      });
    });

    it('is_echo sent under the business’s other id (Page id in sender, account id in entry)', () => {
      const message = { mid: 'm6b', text: 'هلا', is_echo: true };
      const item = {
        sender: { id: '1122334455' },
        recipient: { id: CUSTOMER },
        timestamp: TS,
        message,
      };
      expect(only(messaging([item]), 'echo')).toMatchObject({
        customerId: CUSTOMER,
        fromBusiness: true,
      });
    });

    it('is_self test message', () => {
      const message = { mid: 'm7', text: 'test', is_echo: true, is_self: true };
      const item = { sender: { id: ACCOUNT }, recipient: { id: ACCOUNT }, timestamp: TS, message };
      const event = only(messaging([item]), 'echo');
      expect(event.isSelf).toBe(true);
      expect(event.fromBusiness).toBe(true);
      expect(event.customerId).toBe(ACCOUNT);
    });

    it('is_deleted (checked before is_echo)', () => {
      const deleted = only(
        messaging([fromCustomer({ message: { mid: 'm8', is_deleted: true } })]),
        'message_deleted',
      );
      expect(deleted).toStrictEqual({
        kind: 'message_deleted',
        key: 'm8',
        accountId: ACCOUNT,
        timestamp: TS,
        standby: false,
        raw: fromCustomer({ message: { mid: 'm8', is_deleted: true } }),
        customerId: CUSTOMER,
        fromBusiness: false,
        mid: 'm8',
      });
      const echoDeleted = fromBusiness({ message: { mid: 'm9', is_deleted: true, is_echo: true } });
      expect(only(messaging([echoDeleted]), 'message_deleted').fromBusiness).toBe(true);
    });

    it('is_unsupported', () => {
      const event = only(
        messaging([fromCustomer({ message: { mid: 'm10', is_unsupported: true } })]),
        'message',
      );
      expect(event.isUnsupported).toBe(true);
      expect(event.attachments).toStrictEqual([]);
    });

    it('a message without mid is unknown', () => {
      const item = fromCustomer({ message: { text: 'no id' } });
      const event = only(messaging([item]), 'unknown');
      expect(event.field).toBe('message');
      expect(event.raw).toBe(item);
      expect(event.key).toMatch(/^message:[0-9a-f]{64}$/);
    });

    it('a message without any sender is unknown', () => {
      const item = { recipient: { id: ACCOUNT }, timestamp: TS, message: { mid: 'm11' } };
      expect(only(messaging([item]), 'unknown').field).toBe('message');
    });
  });

  describe('other messaging events (spec §3.3–3.7)', () => {
    it('reaction react', () => {
      const reaction = { mid: 'm1', action: 'react', reaction: 'love', emoji: '❤️' };
      const event = only(messaging([fromCustomer({ reaction })]), 'reaction');
      expect(event).toMatchObject({
        mid: 'm1',
        action: 'react',
        reaction: 'love',
        emoji: '❤️',
        customerId: CUSTOMER,
        key: `m1:react:❤️:${TS}`,
      });
    });

    it('reaction unreact', () => {
      const event = only(
        messaging([fromCustomer({ reaction: { mid: 'm1', action: 'unreact' } })]),
        'reaction',
      );
      expect(event.action).toBe('unreact');
      expect(event.reaction).toBeUndefined();
      expect(event.emoji).toBeUndefined();
      expect(event.key).toBe(`m1:unreact::${TS}`);
    });

    it('a reaction with an unknown action is unknown', () => {
      const body = messaging([fromCustomer({ reaction: { mid: 'm1', action: 'wave' } })]);
      expect(only(body, 'unknown').field).toBe('reaction');
    });

    it('postback with mid and referral', () => {
      const postback = {
        mid: 'pb1',
        title: 'شنو الأسعار؟',
        payload: 'PRICES',
        referral: { ref: 'ig', source: 'SHORTLINK', type: 'OPEN_THREAD' },
      };
      const event = only(messaging([fromCustomer({ postback })]), 'postback');
      expect(event).toMatchObject({
        key: 'pb1',
        mid: 'pb1',
        title: 'شنو الأسعار؟',
        payload: 'PRICES',
        referral: { ref: 'ig', source: 'SHORTLINK', type: 'OPEN_THREAD' },
      });
    });

    it('postback without payload keys on the title', () => {
      const event = only(messaging([fromCustomer({ postback: { title: 'Hi' } })]), 'postback');
      expect(event.key).toBe(`${CUSTOMER}:${TS}:Hi`);
    });

    it('messaging_referral', () => {
      const referral = { ref: 'spring', source: 'IGME_SOURCE_LINK', type: 'OPEN_THREAD' };
      const event = only(messaging([fromCustomer({ referral })]), 'referral');
      expect(event.referral).toStrictEqual({
        ref: 'spring',
        source: 'IGME_SOURCE_LINK',
        type: 'OPEN_THREAD',
      });
      expect(event.key).toBe(`${CUSTOMER}:${TS}:spring`);
      expect(event.customerId).toBe(CUSTOMER);
    });

    it('read', () => {
      const event = only(messaging([fromCustomer({ read: { mid: 'm1' } })]), 'read');
      expect(event).toMatchObject({ key: 'm1', mid: 'm1', customerId: CUSTOMER });
    });

    it('message_edit with string num_edit and a placeholder timestamp', () => {
      const item = fromCustomer(
        { message_edit: { mid: 'm1', text: 'edited', num_edit: '2' } },
        '<TIME>',
      );
      const event = only(messaging([item]), 'message_edit');
      expect(event).toMatchObject({
        key: 'm1:2',
        mid: 'm1',
        text: 'edited',
        editCount: 2,
        timestamp: ENTRY_TIME,
      });
    });

    it('message_edits with a numeric count, and a default count of 0', () => {
      const first = fromCustomer({ message_edits: { mid: 'm1', text: 'a', num_edit: 1 } });
      const second = fromCustomer({ message_edits: { mid: 'm2', text: 'b' } }, TS + 1);
      const events = parseInstagramWebhook(messaging([first, second]));
      expect(events.map((e) => [e.kind, e.key])).toStrictEqual([
        ['message_edit', 'm1:1'],
        ['message_edit', 'm2:0'],
      ]);
    });

    it('unrecognised messaging keys are unknown, named after the first non-envelope key', () => {
      const optin = fromCustomer({ optin: { type: 'notification_messages' } });
      const event = only(messaging([optin]), 'unknown');
      expect(event.field).toBe('optin');
      expect(event.key).toMatch(/^optin:[0-9a-f]{64}$/);
      expect(event.timestamp).toBe(TS);
    });

    it('an item that is not an object is unknown without field', () => {
      const events = parseInstagramWebhook(messaging([null, 7, 'x']));
      expect(events.map((e) => e.kind)).toStrictEqual(['unknown', 'unknown', 'unknown']);
      expect(events.every((e) => e.kind === 'unknown' && e.field === undefined)).toBe(true);
      expect(events.every((e) => e.timestamp === ENTRY_TIME)).toBe(true);
      expect(new Set(events.map((e) => e.key)).size).toBe(3);
    });

    it('standby items are flagged', () => {
      const body = {
        object: 'instagram',
        entry: [
          {
            id: ACCOUNT,
            time: ENTRY_TIME,
            standby: [fromCustomer({ message: { mid: 'sb1', text: 'hi' } })],
          },
        ],
      };
      const event = only(body, 'message');
      expect(event.standby).toBe(true);
      expect(event.mid).toBe('sb1');
    });
  });

  describe('changes (spec §3.8–3.12)', () => {
    it('comments inside changes[]', () => {
      const value = {
        id: '1801',
        from: { id: '555', username: 'zahraa' },
        text: 'بكم؟',
        media: {
          id: '1790',
          media_product_type: 'AD',
          ad_id: 987,
          ad_title: 'Ad',
          original_media_id: '1789',
        },
      };
      const change = { field: 'comments', value };
      const event = only(changes([change]), 'comment');
      expect(event).toStrictEqual({
        kind: 'comment',
        key: '1801',
        accountId: ACCOUNT,
        timestamp: 1520622968000,
        standby: false,
        raw: change,
        commentId: '1801',
        text: 'بكم؟',
        from: { id: '555', username: 'zahraa' },
        media: {
          id: '1790',
          productType: 'AD',
          adId: '987',
          adTitle: 'Ad',
          originalMediaId: '1789',
        },
      });
    });

    it('comments with field/value directly on the entry (doc variant)', () => {
      const body = {
        object: 'instagram',
        entry: [
          {
            id: ACCOUNT,
            time: 1520622968,
            field: 'comments',
            value: { id: '1802', text: 'hi', from: { id: '556', username: 'ali' } },
          },
        ],
      };
      const event = only(body, 'comment');
      expect(event).toMatchObject({ commentId: '1802', key: '1802', timestamp: 1520622968000 });
      expect(event.raw).toStrictEqual({ field: 'comments', value: body.entry[0].value });
      expect(event.media).toBeUndefined();
    });

    it('comment_id variant', () => {
      const value = { comment_id: '1803', media: { id: '1790' }, text: 'x' };
      expect(only(changes([{ field: 'comments', value }]), 'comment').commentId).toBe('1803');
    });

    it('a comment without id is unknown', () => {
      const body = changes([{ field: 'comments', value: { text: 'x' } }]);
      expect(only(body, 'unknown').field).toBe('comments');
    });

    it('live_comments', () => {
      const value = {
        id: '1804',
        from: { id: '557', username: 'noor' },
        text: 'live!',
        media: { id: '1791', media_product_type: 'LIVE' },
      };
      const event = only(changes([{ field: 'live_comments', value }]), 'live_comment');
      expect(event).toMatchObject({
        commentId: '1804',
        key: '1804',
        media: { id: '1791', productType: 'LIVE' },
        from: { id: '557', username: 'noor' },
      });
    });

    it('mentions (both §3.9 samples, as Meta prints them)', () => {
      const media = only(JSON.parse(MENTION_MEDIA), 'mention');
      expect(media).toMatchObject({
        accountId: '17841405726653026',
        mediaId: '17918195224117851',
        key: '17918195224117851:',
        timestamp: 1520622968000,
      });
      expect(media.commentId).toBeUndefined();
      const comment = only(JSON.parse(MENTION_COMMENT), 'mention');
      expect(comment).toMatchObject({
        mediaId: '17918195224117851',
        commentId: '17894227972186120',
        key: '17918195224117851:17894227972186120',
      });
    });

    it('story_insights is unknown', () => {
      const change = {
        field: 'story_insights',
        value: { media_id: '17887498072083520', impressions: 444, reach: 44, replies: 0 },
      };
      const event = only(changes([change]), 'unknown');
      expect(event.field).toBe('story_insights');
      expect(event.raw).toBe(change);
      expect(event.key).toMatch(/^story_insights:[0-9a-f]{64}$/);
    });

    it('dashboard test `messages` change with entry id "0"', () => {
      const body: unknown = JSON.parse(
        '{"object":"instagram","entry":[{"id":"0","changes":[{"field":"messages","value":{"sender":{"id":"12334"},"recipient":{"id":"23245"},"timestamp":"1527459824","message":{"mid":"random_mid","text":"random_text"}}}]}]}',
      );
      const event = only(body, 'message');
      expect(event).toMatchObject({
        accountId: '0',
        customerId: '12334',
        fromBusiness: false,
        mid: 'random_mid',
        text: 'random_text',
        timestamp: 1527459824000,
        standby: false,
      });
      expect(event.raw).toStrictEqual({
        field: 'messages',
        value: (body as { entry: { changes: { value: unknown }[] }[] }).entry[0].changes[0].value,
      });
    });

    it('changes without field or with a non-object value are unknown', () => {
      const events = parseInstagramWebhook(
        changes([{ value: { id: '1' } }, { field: 'comments', value: 'x' }, null]),
      );
      expect(events.map((e) => (e.kind === 'unknown' ? e.field : e.kind))).toStrictEqual([
        undefined,
        'comments',
        undefined,
      ]);
    });
  });

  describe('envelope', () => {
    it('walks every entry and every list, sorted by timestamp, stable on ties', () => {
      const body = {
        object: 'instagram',
        entry: [
          {
            id: ACCOUNT,
            time: 1_700_000_000_000,
            messaging: [
              fromCustomer({ message: { mid: 'c', text: '3' } }, 1_700_000_000_300),
              fromCustomer({ message: { mid: 'a', text: '1' } }, 1_700_000_000_100),
              fromCustomer({ message: { mid: 'b1', text: '2' } }, 1_700_000_000_200),
            ],
            changes: [{ field: 'comments', value: { id: 'cm' } }],
          },
          {
            id: '17841400000000002',
            messaging: [
              fromCustomer({ message: { mid: 'b2', text: '2' } }, 1_700_000_000_200),
              fromCustomer({ message: { mid: 'z', text: '0' } }, 1_699_999_999_000),
            ],
          },
        ],
      };
      const events = parseInstagramWebhook(body);
      expect(events.map((e) => e.key)).toStrictEqual(['z', 'cm', 'a', 'b1', 'b2', 'c']);
      expect(events.map((e) => e.accountId)).toStrictEqual([
        '17841400000000002',
        ACCOUNT,
        ACCOUNT,
        ACCOUNT,
        '17841400000000002',
        ACCOUNT,
      ]);
    });

    it('turns numeric ids into strings', () => {
      const body = {
        object: 'instagram',
        entry: [
          {
            id: 1234567890,
            time: 1459991487,
            messaging: [
              {
                sender: { id: 5678 },
                recipient: { id: 1234567890 },
                timestamp: 1459991487970,
                message: {
                  mid: 'm',
                  attachments: [{ type: 'ig_post', payload: { ig_post_media_id: 42 } }],
                },
              },
              {
                sender: { id: 1234567890 },
                recipient: { id: 5678 },
                timestamp: 1459991487971,
                message: { mid: 'e', is_echo: true },
              },
            ],
            changes: [
              { field: 'comments', value: { id: 1801, from: { id: 555 }, media: { id: 9 } } },
            ],
          },
        ],
      };
      const [comment, message, echo] = parseInstagramWebhook(body);
      expect(message).toMatchObject({ accountId: '1234567890', customerId: '5678' });
      expect(message.kind === 'message' && message.attachments[0].mediaId).toBe('42');
      expect(echo).toMatchObject({ kind: 'echo', customerId: '5678', fromBusiness: true });
      expect(comment).toMatchObject({
        kind: 'comment',
        commentId: '1801',
        from: { id: '555' },
        media: { id: '9' },
      });
    });

    it('an entry without id still yields events, with accountId ""', () => {
      const body = {
        object: 'instagram',
        entry: [{ messaging: [fromCustomer({ read: { mid: 'r' } })] }],
      };
      const event = only(body, 'read');
      expect(event.accountId).toBe('');
      expect(event.customerId).toBe(CUSTOMER);
    });

    it('timestamps: seconds, numeric strings, `time`, entry time, else 0', () => {
      const body = {
        object: 'instagram',
        entry: [
          {
            id: ACCOUNT,
            time: 1_500_000_000,
            messaging: [
              fromCustomer({ read: { mid: 'seconds' } }, 1_600_000_000),
              fromCustomer({ read: { mid: 'string-ms' } }, '1600000000001'),
              { sender: { id: CUSTOMER }, read: { mid: 'time' }, time: 1_600_000_000_002 },
              fromCustomer({ read: { mid: 'entry' } }, null),
              fromCustomer({ read: { mid: 'negative' } }, -5),
            ],
          },
          { id: ACCOUNT, messaging: [fromCustomer({ read: { mid: 'zero' } }, 'soon')] },
        ],
      };
      const events = parseInstagramWebhook(body);
      expect(events.map((e) => [e.key, e.timestamp])).toStrictEqual([
        ['zero', 0],
        ['entry', 1_500_000_000_000],
        ['negative', 1_500_000_000_000],
        ['seconds', 1_600_000_000_000],
        ['string-ms', 1_600_000_000_001],
        ['time', 1_600_000_000_002],
      ]);
    });

    it.each([
      null,
      0,
      'instagram',
      [],
      {},
      { entry: null },
      { entry: {} },
      { entry: [null, 1, []] },
    ])('gives no events for %p', (body) => {
      expect(parseInstagramWebhook(body)).toStrictEqual([]);
    });

    it('ignores inherited and __proto__-like keys', () => {
      const body: unknown = JSON.parse(
        '{"object":"instagram","__proto__":{"entry":[1]},"entry":[{"id":"1","__proto__":{"messaging":[1]},"messaging":[{"__proto__":{"message":{"mid":"x"}},"sender":{"id":"2"},"constructor":{"mid":"y"}}]}]}',
      );
      const event = only(body, 'unknown');
      expect(event.field).toBe('__proto__');
      expect(({} as Json).message).toBeUndefined();
    });

    it('survives very deep nesting', () => {
      let deep: unknown = 'bottom';
      for (let i = 0; i < 200_000; i++) deep = i % 2 === 0 ? [deep] : { d: deep };
      const events = parseInstagramWebhook(
        messaging([fromCustomer({ optin: deep }), fromCustomer({ message: deep })], {
          changes: [{ field: 'story_insights', value: deep }, deep],
        }),
      );
      expect(events.map((e) => e.kind)).toStrictEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    });
  });

  describe('dedupe keys', () => {
    const payload = (): Json =>
      messaging(
        [
          fromCustomer({ message: { mid: 'm1', text: 'hi' } }, TS),
          fromCustomer({ message: { mid: 'm1', is_deleted: true } }, TS + 1),
          fromCustomer({ reaction: { mid: 'm1', action: 'react', emoji: '👍' } }, TS + 2),
          fromCustomer({ reaction: { mid: 'm1', action: 'unreact' } }, TS + 3),
          fromCustomer({ read: { mid: 'm1' } }, TS + 4),
          fromCustomer({ message_edit: { mid: 'm1', text: 'hey', num_edit: 1 } }, TS + 5),
          fromCustomer({ postback: { title: 'Start', payload: 'GO' } }, TS + 6),
          fromCustomer({ referral: { ref: 'r' } }, TS + 7),
          fromCustomer({ optin: { type: 'x' } }, TS + 8),
        ],
        { changes: [{ field: 'story_insights', value: { media_id: '1' } }] },
      );

    it('are equal when the same payload is parsed again (a redelivery)', () => {
      const first = parseInstagramWebhook(payload());
      const second = parseInstagramWebhook(JSON.parse(JSON.stringify(payload())));
      expect(second.map((e) => [e.kind, e.key])).toStrictEqual(first.map((e) => [e.kind, e.key]));
    });

    it('tell a message from its deletion, reactions, read and edit by kind or key', () => {
      const events = parseInstagramWebhook(payload());
      const ids = events.map((e) => `${e.kind}|${e.accountId}|${e.key}`);
      expect(new Set(ids).size).toBe(ids.length);
      const message = events.find((e) => e.kind === 'message');
      const deleted = events.find((e) => e.kind === 'message_deleted');
      expect(message?.key).toBe('m1');
      expect(deleted?.key).toBe('m1');
      expect(events.filter((e) => e.key === 'm1').map((e) => e.kind)).toStrictEqual([
        'message',
        'message_deleted',
        'read',
      ]);
    });

    it('unknown keys depend on content, not on key order', () => {
      const a = only(messaging([{ optin: { a: 1, b: [1, 2] }, sender: { id: '1' } }]), 'unknown');
      const b = only(messaging([{ sender: { id: '1' }, optin: { b: [1, 2], a: 1 } }]), 'unknown');
      const c = only(messaging([{ sender: { id: '1' }, optin: { b: [2, 1], a: 1 } }]), 'unknown');
      expect(a.key).toBe(b.key);
      expect(a.key).not.toBe(c.key);
    });
  });

  describe('never throws (property-based)', () => {
    const check = (wrap: (v: unknown) => unknown): void => {
      fc.assert(
        fc.property(fc.jsonValue(), (v) => {
          const events = parseInstagramWebhook(wrap(v));
          expect(Array.isArray(events)).toBe(true);
          for (let i = 0; i < events.length; i++) {
            const e = events[i];
            expect(typeof e.key).toBe('string');
            expect(typeof e.accountId).toBe('string');
            expect(Number.isFinite(e.timestamp)).toBe(true);
            if (i > 0) expect(events[i - 1].timestamp).toBeLessThanOrEqual(e.timestamp);
          }
        }),
        { numRuns: 500 },
      );
    };

    it('for any JSON value as the body', () => {
      check((v) => v);
    });

    it('for any JSON value as a messaging item', () => {
      check((v) => ({ object: 'instagram', entry: [{ id: ACCOUNT, messaging: [v] }] }));
    });

    it('for any JSON value as a standby item', () => {
      check((v) => ({ object: 'instagram', entry: [{ id: ACCOUNT, standby: [v] }] }));
    });

    it('for any JSON value as a change', () => {
      check((v) => ({ object: 'instagram', entry: [{ id: ACCOUNT, changes: [v] }] }));
    });

    it('for any JSON value as an entry or the value of a known change', () => {
      check((v) => ({
        object: 'instagram',
        entry: [
          v,
          {
            id: ACCOUNT,
            time: v,
            changes: ['comments', 'live_comments', 'mentions', 'messages'].map((field) => ({
              field,
              value: v,
            })),
          },
        ],
      }));
    });

    it('for any JSON value inside each messaging event key', () => {
      const keys = ['message', 'reaction', 'postback', 'referral', 'read', 'message_edit'];
      check((v) => messaging(keys.map((key) => fromCustomer({ [key]: v }, v))));
    });
  });
});
