import { createHmac, randomBytes } from 'node:crypto';
import type { PreparedRequest } from 'bench/lib/load';

export interface PayloadSettings {
  /** The Instagram account the messages are sent to (entry.id, recipient.id). */
  accountId: string;
  /** Meta app secret the bodies are signed with. */
  secret: string;
  /** Distinct customers writing in. */
  customers: number;
  /** Share of messages written in Arabic script. */
  arabicShare: number;
  /** Body size aimed at, in bytes; each body lands within ±8% of it. */
  targetBytes: number;
  /** Same seed, same sequence of customers, texts and message shapes. */
  seed: number;
}

/** What customers of an Iraqi clothes shop write, in Latin script (English and Arabizi). */
const LATIN_TEXTS = [
  'Hi, how much is the black shirt? Do you deliver to Basra?',
  'Salam alaikum, is size L still available?',
  'shgad si3ra el jacket? w el tawseel ila Erbil b shgad?',
  'I want to order 2 pieces, one black and one white, cash on delivery please',
  'Hello, when will the new collection arrive?',
  'Is this available in blue? My size is M',
  'hala, aku khasm 3al order el kabeer?',
  'Can you send me the price list please',
];

/** The same, in Iraqi Arabic. */
const ARABIC_TEXTS = [
  'شكد سعر القميص الأسود؟ وتوصلون للبصرة؟',
  'السلام عليكم، عدكم قياس لارج؟',
  'أريد أطلب قطعتين، الدفع عند الاستلام',
  'بيش التوصيل لأربيل؟ ويوصل باجر لو عقب باجر؟',
  'هلا، اكو خصم على الطلب الكبير؟',
  'هذا الموديل اكو منه لون أزرق؟',
];

const LATIN_CAPTIONS = [
  'New arrivals: summer shirts, sizes S to XXL, delivery to all governorates',
  'Winter jackets are back in stock. Order by DM, cash on delivery',
];
const ARABIC_CAPTIONS = [
  'وصلت التشكيلة الجديدة: قمصان صيفية بكل القياسات، توصيل لكل المحافظات',
  'رجعت الجاكيتات الشتوية، اطلب بالخاص والدفع عند الاستلام',
];

type Shape = (message: MessageParts, fill: () => string) => Record<string, unknown>;

interface MessageParts {
  mid: string;
  text: string;
  caption: string;
  mediaId: string;
}

/** A story reply: the story's CDN URL is long. */
const storyReply: Shape = (m, fill) => ({
  mid: m.mid,
  text: m.text,
  reply_to: {
    story: {
      url: `https://scontent.cdninstagram.com/v/t51.29350-15/${m.mediaId}_n.jpg?stp=dst-jpg_e35&_nc_ht=scontent.cdninstagram.com&_nc_cat=1&oh=00_${fill()}&oe=6A1F2C3D`,
      id: m.mediaId,
    },
  },
});

/** The first message of a Click-to-DM ad. */
const adReferral: Shape = (m, fill) => ({
  mid: m.mid,
  text: m.text,
  referral: {
    ref: 'summer_sale',
    ad_id: m.mediaId,
    source: 'ADS',
    type: 'OPEN_THREAD',
    ads_context_data: {
      ad_title: m.caption,
      photo_url: `https://scontent.xx.fbcdn.net/v/t45.1600-4/${m.mediaId}_n.jpg?_nc_cat=1&oh=00_${fill()}&oe=6A1F2C3D`,
      video_url: `https://video.xx.fbcdn.net/v/t42.1790-2/${m.mediaId}_n.mp4?_nc_cat=1&oh=00_${fill()}&oe=6A1F2C3D`,
    },
  },
});

/** A shared post with a question, as sent since Nov 2025 (`share` and `ig_post` together). */
const postShare: Shape = (m, fill) => {
  const payload = () => ({
    url: `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${m.mediaId}&signature=${fill()}`,
    ig_post_media_id: m.mediaId,
    title: m.caption,
  });
  return {
    mid: m.mid,
    text: m.text,
    attachments: [
      { type: 'share', payload: payload() },
      { type: 'ig_post', payload: payload() },
    ],
  };
};

const SHAPES: Shape[] = [storyReply, storyReply, adReferral, postShare];

/** Deterministic PRNG (mulberry32): comparable runs without storing payloads. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON as Meta sends it: non-ASCII as \uXXXX escapes and slashes escaped. */
function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Digits of an Instagram-scoped id of the given length. */
function digits(random: () => number, length: number): string {
  let out = String(1 + Math.floor(random() * 9));
  while (out.length < length) out += String(Math.floor(random() * 10));
  return out;
}

/**
 * Signed Instagram `messages` webhooks, one message per POST, each with a new `mid`. Bodies are
 * padded to the target size with the long CDN URLs real payloads carry.
 */
export function instagramMessages(settings: PayloadSettings): () => PreparedRequest {
  const random = prng(settings.seed);
  const customers = Array.from({ length: settings.customers }, () => digits(random, 16));
  // Random URL-safe characters, sliced for URL signatures (cheaper than drawing each one).
  const pool = randomBytes(48 * 1024).toString('base64url');
  const runTag = randomBytes(6).toString('hex');
  let sequence = 0;

  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const slice = (length: number): string => {
    const start = Math.floor(random() * (pool.length - length));
    return pool.slice(start, start + length);
  };

  return () => {
    sequence += 1;
    const arabic = random() < settings.arabicShare;
    const parts: MessageParts = {
      mid: Buffer.from(
        `ig_item:1:IGMessageThread:${settings.accountId}:${runTag}${sequence}`,
      ).toString('base64url'),
      text: pick(arabic ? ARABIC_TEXTS : LATIN_TEXTS),
      caption: pick(arabic ? ARABIC_CAPTIONS : LATIN_CAPTIONS),
      mediaId: digits(random, 17),
    };
    const shape = pick(SHAPES);
    const customer = pick(customers);
    const sentAt = Date.now();
    const timestamp = sentAt - Math.floor(random() * 1500);
    let fills = 0;
    const envelope = (fillLength: number): string => {
      fills = 0;
      const message = shape(parts, () => {
        fills += 1;
        return slice(fillLength);
      });
      return metaJson({
        object: 'instagram',
        entry: [
          {
            id: settings.accountId,
            time: sentAt,
            messaging: [
              {
                sender: { id: customer },
                recipient: { id: settings.accountId },
                timestamp,
                message,
              },
            ],
          },
        ],
      });
    };
    const target = settings.targetBytes * (0.92 + random() * 0.16);
    const bare = envelope(0).length;
    const body = Buffer.from(envelope(Math.max(16, Math.floor((target - bare) / fills))));
    const signature = createHmac('sha256', settings.secret).update(body).digest('hex');
    return {
      id: parts.mid,
      body,
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${signature}`,
      },
    };
  };
}
