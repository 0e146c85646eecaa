import { normalizeText, replyLanguage, tokens } from 'src/ai/arabic';
import { detectIntent, type Intent } from 'src/ai/intents';
import type { ModelAnswer } from 'src/ai/model-answer';
import type { CatalogueProduct } from 'src/ai/product-matcher';
import type { MerchantProfile } from 'src/merchant/merchant.entity';

export interface ShopContext {
  name: string;
  profile: MerchantProfile;
}

export const DEFAULT_HANDOVER_AR = 'هلا بيك 🌷 راح يتواصل وياك واحد من فريقنا بأقرب وقت.';
export const DEFAULT_HANDOVER_EN =
  'Thanks for your message! Someone from our team will get back to you shortly.';
export const HOLDING_REPLY_AR = 'هلا بيك 🌷 وصلت رسالتك، وراح يرد عليك واحد من فريقنا بأقرب وقت.';

const HOURS = /(دوام|تفتحون|تفتح|تسدون|تسكرون|اوقات|ساعات|الدوام|open|opening|close|hours)/;
const PRICE = /(شكد|بيش|بكم|بكد|سعر|السعر|سعره|سعرها|كم|price|how much|cost)/;
const LOCATION = /(وين مكانكم|العنوان|عنوانكم|موقعكم|location|address)/;
const RETURNS = /(ترجيع|ارجاع|استرجاع|استبدال|تبديل|ابدل|ارجع|return|exchange)/;
/** Colours as `tokens` spells them (سودة and black are اسود). */
const COLOURS = new Set(
  tokens('اسود ابيض احمر ازرق اخضر اصفر وردي بني رمادي بيج نيلي برتقالي بنفسجي ذهبي فضي كحلي'),
);

/**
 * The colour the customer asks for when the product comes in other colours only: its name and
 * description name colours, and not that one ("فستان احمر" against "فستان سهرة اسود").
 */
function missingColour(text: string, product: CatalogueProduct): boolean {
  const asked = tokens(text).filter((token) => COLOURS.has(token));
  if (asked.length === 0) return false;
  const has = new Set(tokens(`${product.name} ${product.description ?? ''}`));
  const named = [...has].filter((token) => COLOURS.has(token));
  return named.length > 0 && !asked.some((colour) => has.has(colour));
}

export function formatPrice(product: CatalogueProduct, language: 'ar' | 'en'): string {
  const amount = product.price.toLocaleString('en-US');
  if (product.currency === 'IQD') return language === 'ar' ? `${amount} دينار` : `${amount} IQD`;
  return `${amount} ${product.currency}`;
}

/**
 * The deterministic replier: a local intent detector and answers built only from the merchant's
 * own data (prices, stock, delivery, hours, FAQ). Used without a model key, and as the fallback
 * when a model answer cannot be sent as written. What it cannot answer goes to a person.
 */
export function offlineReply(
  text: string,
  shop: ShopContext,
  matched: readonly CatalogueProduct[],
  known: { intent?: Intent; language?: 'ar' | 'en' } = {},
): ModelAnswer {
  const language = known.language ?? replyLanguage(text);
  const knownIntent = known.intent;
  const detected = detectIntent(text, matched.length > 0);
  const intent = knownIntent ?? detected.intent;
  const confidence = knownIntent ? 0.7 : detected.confidence;
  const answer = (reply: string, skus: string[] = [], sure = confidence): ModelAnswer => ({
    reply,
    intent,
    confidence: sure,
    needsHuman: false,
    productSkus: skus,
    language: language === 'ar' ? 'ar-IQ' : 'en',
  });
  const handover = (): ModelAnswer => ({
    ...answer(
      shop.profile.handoverMessage?.trim() ||
        (language === 'ar' ? DEFAULT_HANDOVER_AR : DEFAULT_HANDOVER_EN),
    ),
    needsHuman: true,
  });
  const ar = language === 'ar';
  const product = matched[0];
  const normalized = normalizeText(text);

  const fromFaq = faqAnswer(text, shop.profile);
  const selling = ['price_inquiry', 'availability', 'product_inquiry', 'order'].includes(intent);
  if (selling && product && missingColour(text, product)) {
    // Not the colour asked for: say so, and offer what there is, without taking an order for it.
    const price = formatPrice(product, ar ? 'ar' : 'en');
    return answer(
      ar
        ? `ما عدنا هذا اللون 🌷 الموجود ${product.name} بسعر ${price}، يناسبك؟`
        : `We don't have that colour. We have ${product.name} for ${price}. Would that suit you?`,
      [product.sku],
      0.6,
    );
  }
  switch (intent) {
    case 'human_request':
    case 'complaint':
    case 'order_status':
      return handover();
    case 'greeting': {
      const name = shop.profile.displayName ?? shop.name;
      return answer(
        ar
          ? `هلا بيك بـ${name} 🌷 شلون اكدر اساعدك؟`
          : `Hi, welcome to ${name}! How can I help you?`,
      );
    }
    case 'thanks':
      return answer(ar ? 'تدلل، بالخدمة دائماً 🌷' : "You're welcome! Happy to help.");
    case 'price_inquiry':
    case 'availability':
    case 'product_inquiry':
      if (!product) {
        if (fromFaq) return answer(fromFaq);
        return answer(
          ar
            ? 'ممكن تكلي اسم القطعة او ترسل صورتها حتى اكلك التفاصيل؟'
            : 'Which item do you mean? Send me its name or a photo and I will check.',
          [],
          0.6,
        );
      }
      return answer(describe(product, intent, ar), [product.sku]);
    case 'order':
      if (!product) {
        return answer(
          ar ? 'حاضرين 🌷 شنو القطعة اللي تريدها؟' : 'Sure! Which item would you like?',
          [],
          0.6,
        );
      }
      if (!product.inStock) return answer(describe(product, 'availability', ar), [product.sku]);
      return answer(
        ar
          ? `حاضرين 🌷 ${product.name} بسعر ${formatPrice(product, 'ar')}. حتى نثبت الطلب دزلنا الاسم الكامل والمحافظة والعنوان ورقم الموبايل.`
          : `Great choice! ${product.name} is ${formatPrice(product, 'en')}. To confirm, please send your full name, city, address and phone number.`,
        [product.sku],
      );
    case 'delivery': {
      if (!shop.profile.deliveryInfo) {
        const about = fromFaq ?? faqAbout('delivery', shop.profile);
        return about ? answer(about) : handover();
      }
      const delivery = ar
        ? `بالنسبة للتوصيل: ${shop.profile.deliveryInfo}`
        : `Delivery: ${shop.profile.deliveryInfo}`;
      // "How much is X, and do you deliver to Basra?": both answers, one message.
      if (product && PRICE.test(normalized)) {
        return answer(`${describe(product, 'price_inquiry', ar)}\n${delivery}`, [product.sku]);
      }
      return answer(delivery);
    }
    case 'payment': {
      // "الدفع عند الاستلام؟": the FAQ entry about payment, else delivery info that says how.
      const delivery = shop.profile.deliveryInfo;
      const about =
        fromFaq ??
        faqAbout('payment', shop.profile) ??
        (delivery && detectIntent(delivery).intent === 'payment' ? delivery : null);
      return about ? answer(about) : handover();
    }
    case 'other':
      if (HOURS.test(normalized) && shop.profile.workingHours) {
        return answer(
          ar
            ? `اوقات الدوام: ${shop.profile.workingHours}`
            : `Our hours: ${shop.profile.workingHours}`,
          [],
          0.7,
        );
      }
      if (RETURNS.test(normalized) && shop.profile.returnPolicy) {
        return answer(
          ar
            ? `سياسة الاسترجاع: ${shop.profile.returnPolicy}`
            : `Returns: ${shop.profile.returnPolicy}`,
          [],
          0.7,
        );
      }
      if (fromFaq) return answer(fromFaq, [], 0.7);
      if (LOCATION.test(normalized) && shop.profile.description) {
        return answer(shop.profile.description, [], 0.6);
      }
      return handover();
  }
}

function describe(product: CatalogueProduct, intent: Intent, ar: boolean): string {
  if (!product.inStock) {
    return ar
      ? `للأسف ${product.name} مو متوفر هسه. تحب اشوفلك شي قريب منه؟`
      : `Sorry, ${product.name} is out of stock right now. Shall I suggest something similar?`;
  }
  const price = formatPrice(product, ar ? 'ar' : 'en');
  if (intent === 'product_inquiry' && product.description) {
    return ar
      ? `${product.name}: ${product.description}. السعر ${price}.`
      : `${product.name}: ${product.description}. Price: ${price}.`;
  }
  if (intent === 'availability') {
    return ar
      ? `اي متوفر 🌷 ${product.name} سعره ${price}.`
      : `Yes, ${product.name} is available for ${price}.`;
  }
  return ar
    ? `سعر ${product.name} هو ${price}، ومتوفر حالياً 🌷`
    : `${product.name} is ${price} and in stock.`;
}

/** The first FAQ answer whose question (or, failing that, answer) is about `intent`. */
function faqAbout(intent: Intent, profile: MerchantProfile): string | null {
  const faq = profile.faq ?? [];
  const entry =
    faq.find((candidate) => detectIntent(candidate.question).intent === intent) ??
    faq.find((candidate) => detectIntent(candidate.answer).intent === intent);
  return entry?.answer ?? null;
}

/** The FAQ answer whose question shares the most words with the message (two at least). */
function faqAnswer(text: string, profile: MerchantProfile): string | null {
  const words = new Set(tokens(text));
  let best: { answer: string; overlap: number } | null = null;
  for (const entry of profile.faq ?? []) {
    const overlap = tokens(entry.question).filter((word) => words.has(word)).length;
    if (overlap >= 2 && (!best || overlap > best.overlap)) best = { answer: entry.answer, overlap };
  }
  return best?.answer ?? null;
}
