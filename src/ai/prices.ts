import { asciiDigits } from 'src/ai/arabic';

const THOUSAND = /^(?:الف|ألف|آلاف|الاف|آلف|k|K|thousand|alf)$/;
const MILLION = /^(?:مليون|ملايين|million|m)$/;
const CURRENCY = /^(?:دينار|دنانير|د\.?ع\.?|iqd|IQD|dinar|dinars|ID)$/i;

/**
 * Every amount of money a text states, in whole units: "25,000", "٢٥٬٠٠٠", "25 ألف", "25k",
 * "1.5 مليون", "25000 دينار". A bare number counts as money from 1,000 up, or when a currency or
 * thousands word follows it; small bare numbers (sizes, days, counts) do not.
 */
export function statedAmounts(text: string): number[] {
  const normalized = asciiDigits(text).replace(/(\d)\s*([kK])\b/g, '$1 $2');
  const pattern = /(\d{1,3}(?:[,٬.]\d{3})+|\d+(?:\.\d+)?)(\s*)([^\s\d]*)/g;
  const amounts: number[] = [];
  for (const match of normalized.matchAll(pattern)) {
    const [, digits, , following] = match;
    const word = following.replace(/[؟?!.,،:;)]+$/u, '');
    const grouped = /[,٬.]\d{3}(?!\d)/.test(digits) && !/^\d+\.\d{1,2}$/.test(digits);
    let value = grouped ? Number(digits.replace(/[,٬.]/g, '')) : Number(digits);
    if (!Number.isFinite(value)) continue;
    if (THOUSAND.test(word)) value *= 1_000;
    else if (MILLION.test(word)) value *= 1_000_000;
    else if (!CURRENCY.test(word) && value < 1_000) continue;
    // Phone numbers and ids are not prices.
    if (!grouped && digits.length >= 8) continue;
    amounts.push(Math.round(value));
  }
  return amounts;
}

/** The amounts of money in the merchant's own words (delivery fees, offers in the profile or FAQ). */
export function figuresIn(text: string): number[] {
  return [...new Set(statedAmounts(text))];
}

/**
 * The price guard: amounts the reply states that the merchant's data does not hold. Allowed are
 * the given figures and the sum of any two of them (a price plus a delivery fee).
 */
export function ungroundedAmounts(reply: string, allowed: readonly number[]): number[] {
  const known = new Set(allowed);
  // A sum of two known figures is grounded too; checked per amount, not by listing every sum.
  const grounded = (amount: number) =>
    known.has(amount) || allowed.some((figure) => known.has(amount - figure));
  return statedAmounts(reply).filter((amount) => !grounded(amount));
}
