import { createHmac } from 'node:crypto';
import type { Delivery } from 'bench/lib/webhook-sender';

/** A merchant of a run: its Instagram account and the customers who write to it. */
export interface Shop {
  merchantId: string;
  accountId: string;
  customers: ShopCustomer[];
}

export interface ShopCustomer {
  /** Instagram-scoped id (the webhook's sender.id). */
  igsid: string;
  /** ManyChat subscriber id (digits). */
  subscriberId: string;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * The tracking token of the n-th customer message: `rq` and letters only, so that it survives
 * every transformation of a reply (no digit for the price guard, no markdown character).
 */
export function trackingToken(n: number): string {
  let value = n;
  let letters = '';
  do {
    letters = LETTERS[value % 26] + letters;
    value = Math.floor(value / 26);
  } while (value > 0);
  return `rq${letters.padStart(4, 'a')}`;
}

/** What customers of an Iraqi clothes shop write (Arabic script, English, Arabizi). */
const TEXTS = [
  'شكد سعر القميص الأسود؟ وتوصلون للبصرة؟',
  'السلام عليكم، عدكم قياس لارج؟',
  'Hi, how much is the black shirt? Do you deliver to Basra?',
  'shgad si3ra el jacket? w el tawseel ila Erbil?',
  'أريد أطلب قطعتين، الدفع عند الاستلام',
  'Is this available in blue? My size is M',
  'هلا، اكو خصم على الطلب الكبير؟',
  'بيش التوصيل لأربيل؟',
];

/** JSON as Meta sends it: non-ASCII as \uXXXX escapes and slashes escaped. */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function signedDelivery(id: string, json: string, secret: string): Delivery {
  const body = Buffer.from(json);
  return {
    id,
    body,
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  };
}

function envelope(accountId: string, messaging: Record<string, unknown>): string {
  const time = Date.now();
  return metaJson({
    object: 'instagram',
    entry: [{ id: accountId, time, messaging: [{ timestamp: time, ...messaging }] }],
  });
}

/** The n-th customer message: a signed Instagram text DM whose text ends with its token. */
export function customerDm(
  shop: Shop,
  customer: ShopCustomer,
  n: number,
  secret: string,
  runTag: string,
): { mid: string; token: string; delivery: Delivery } {
  const token = trackingToken(n);
  const mid = Buffer.from(`ig_item:1:IGMessageThread:${shop.accountId}:${runTag}:${n}`).toString(
    'base64url',
  );
  const text = `${TEXTS[n % TEXTS.length]} ${token}`;
  const json = envelope(shop.accountId, {
    sender: { id: customer.igsid },
    recipient: { id: shop.accountId },
    message: { mid, text },
  });
  return { mid, token, delivery: signedDelivery(mid, json, secret) };
}

/** Meta's echo of a message the shop sent to the customer (through any app). */
export function echoDm(
  shop: Shop,
  customer: ShopCustomer,
  mid: string,
  text: string,
  secret: string,
): Delivery {
  const json = envelope(shop.accountId, {
    sender: { id: shop.accountId },
    recipient: { id: customer.igsid },
    message: { mid, text, is_echo: true },
  });
  return signedDelivery(mid, json, secret);
}
