import { asciiDigits } from 'src/ai/arabic';

const THOUSAND = /^(?:الف|ألف|آلاف|الاف|آلف|الآف|ألفا|الفا|ألفاً|الفاً|k|K|thousand|alf)$/;
const MILLION = /^(?:مليون|ملايين|million|m)$/;
const CURRENCY = /^(?:دينار|دنانير|د\.?ع\.?|iqd|IQD|dinar|dinars|ID)$/i;
/** Dollars: stated as they are, so that only a product priced in dollars grounds them. */
const DOLLAR = /^(?:دولار|دولارات|\$|usd|dollars?)$/i;
/** Fractions of a million, as people say them. */
const FRACTIONS_OF_A_MILLION: Array<[RegExp, number]> = [
  [/ربع\s+مليون/gu, 250_000],
  [/(?:نص|نصف)\s+مليون/gu, 500_000],
];
/** "سعره 25": a price word before a bare small number means thousands (iraq-commerce, Money). */
const PRICE_WORD = /^(?:ب?(?:ال)?سعر\S{0,3}|price|priced)$/i;
/** Words after which a bare number is an id, a year or a size, not money. */
const NOT_MONEY_BEFORE =
  /^(?:رقم|موديل|سنة|عام|قياس|طلبك|طلبكم|الطلب|الاوردر|اوردر|الفاتورة|كود|model|year|no\.?|number|order|invoice|code|#|size)$/i;
const NOT_MONEY_AFTER = /^(?:قطعة|قطعه|قطع|حبة|حبه|pcs|pieces|سم|cm|%)$/i;
/** Iraqi mobile numbers, spaced or not: 07XX XXX XXXX, +964 7XX XXX XXXX. */
const PHONE = /(?:\+?964[\s-]?|0)7\d{2}[\s-]?\d{3}[\s-]?\d{4}/g;
/** Dates such as 15/12/2025 or 2025-12-15. */
const DATE = /\b\d{1,4}[/-]\d{1,2}[/-]\d{1,4}\b/g;
/** At most this many pieces of one product in an order total. */
const MAX_QUANTITY = 5;
/** An order total is checked against at most this many other amounts of the same reply. */
const MAX_PARTS = 12;

/**
 * Every amount of money a text states, in whole units: "25,000", "٢٥٬٠٠٠", "٤٥،٠٠٠", "25 ألف",
 * "25k", "1.5 مليون", "ربع مليون", "25000 دينار", "سعره 25", and dollars ("$35", "35 دولار") as
 * they are. A bare number counts as money from 1,000 up, or when a currency or thousands word
 * follows it; small bare numbers (sizes, days, counts), phone numbers, dates, ids, years of a
 * model and counts of pieces do not.
 */
export function statedAmounts(text: string): number[] {
  const normalized = asciiDigits(text)
    .replace(PHONE, ' ')
    .replace(DATE, ' ')
    .replace(/(\d)\s*([kK])\b/g, '$1 $2');
  const pattern =
    /(?:([^\s\d]+)\s*)?(?<!\d)(\d{1,3}(?:[,٬.،]\d{3})+|\d+(?:\.\d+)?)(\s*)([^\s\d]*)/g;
  const amounts: number[] = [];
  for (const [words, value] of FRACTIONS_OF_A_MILLION) {
    amounts.push(...[...normalized.matchAll(words)].map(() => value));
  }
  for (const match of normalized.matchAll(pattern)) {
    const [, before = '', digits, , following] = match;
    const word = following.replace(/[؟?!.,،:;)]+$/u, '');
    const previous = before.replace(/^[(«"']+|[:،,]+$/gu, '');
    if (DOLLAR.test(word) || previous.endsWith('$')) {
      const dollars = Number(digits.replace(/[,٬،]/g, ''));
      if (Number.isFinite(dollars)) amounts.push(dollars);
      continue;
    }
    const named = THOUSAND.test(word) || MILLION.test(word) || CURRENCY.test(word);
    if (!named && (NOT_MONEY_BEFORE.test(previous) || NOT_MONEY_AFTER.test(word))) continue;
    const grouped = /[,٬.،]\d{3}(?!\d)/.test(digits) && !/^\d+\.\d{1,2}$/.test(digits);
    let value = grouped ? Number(digits.replace(/[,٬.،]/g, '')) : Number(digits);
    if (!Number.isFinite(value)) continue;
    if (THOUSAND.test(word)) value *= 1_000;
    else if (MILLION.test(word)) value *= 1_000_000;
    else if (!CURRENCY.test(word) && value < 1_000) {
      if (!PRICE_WORD.test(previous.replace(/^[وف]/, '')) || value < 1) continue;
      value *= 1_000;
    }
    // Ids and long numbers are not prices.
    if (!grouped && digits.length >= 8) continue;
    amounts.push(Math.round(value));
  }
  return amounts;
}

/** The amounts of money in the merchant's own words (delivery fees, offers in the profile or FAQ). */
export function figuresIn(text: string): number[] {
  return [...new Set(statedAmounts(text))];
}

/** What the merchant's data holds, as the price guard reads it. */
export interface GroundedFigures {
  /** Prices of products (and offers in their descriptions): a reply may multiply them. */
  prices: ReadonlySet<number>;
  /** Other figures (delivery fees, amounts in the profile and FAQ): one may be added to a price. */
  extras: readonly number[];
}

/**
 * A catalogue's prices and the offers its descriptions state ("قطعتين بـ 45 الف"), read once per
 * catalogue version (CatalogueCache), not on every reply.
 */
export function catalogueFigures(
  products: ReadonlyArray<{ price: number; description: string | null }>,
): ReadonlySet<number> {
  const figures = new Set<number>();
  for (const product of products) {
    figures.add(product.price);
    if (product.description) {
      for (const figure of statedAmounts(product.description)) figures.add(figure);
    }
  }
  return figures;
}

/**
 * The price guard: amounts the reply states that the merchant's data does not hold. Grounded are
 * a price or figure the merchant gave; up to five pieces of one product, with or without one of the
 * other figures (a delivery fee) added; and a total of other grounded amounts the same reply
 * states ("25 الف + 5 الاف = 30 الف"). Two figures the reply does not state are never added:
 * with a catalogue's prices and fees, almost any round amount would be such a sum.
 */
export function ungroundedAmounts(reply: string, figures: GroundedFigures): number[] {
  const { prices, extras } = figures;
  const pieces = (amount: number) => {
    for (let quantity = 1; quantity <= MAX_QUANTITY; quantity += 1) {
      if (amount % quantity === 0 && prices.has(amount / quantity)) return true;
    }
    return false;
  };
  const ofOrder = (amount: number) =>
    extras.includes(amount) || pieces(amount) || extras.some((extra) => pieces(amount - extra));

  const stated = statedAmounts(reply);
  const inData = stated.map(ofOrder);
  const grounded = stated.filter((_, i) => inData[i]);
  return stated.filter((amount, i) => !inData[i] && !isTotalOf(amount, grounded));
}

/** Whether `amount` is the sum of two or more of `parts` (each used once). */
function isTotalOf(amount: number, parts: readonly number[]): boolean {
  const candidates = parts.filter((part) => part < amount).slice(0, MAX_PARTS);
  for (let subset = 1; subset < 1 << candidates.length; subset += 1) {
    if ((subset & (subset - 1)) === 0) continue; // one part alone is not a total
    let sum = 0;
    for (let i = 0; i < candidates.length; i += 1) {
      if (subset & (1 << i)) sum += candidates[i];
    }
    if (sum === amount) return true;
  }
  return false;
}
