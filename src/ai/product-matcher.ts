import { normalizeText, tokens } from 'src/ai/arabic';

/** A catalogue item as the AI sees it: names exactly as the merchant wrote them. */
export interface CatalogueProduct {
  sku: string;
  name: string;
  description: string | null;
  price: number;
  currency: string;
  inStock: boolean;
  imageUrl: string | null;
}

/** Products put in front of the model at most, however large the catalogue. */
export const MAX_CONTEXT_PRODUCTS = 8;

interface Indexed {
  product: CatalogueProduct;
  nameTokens: Set<string>;
  allTokens: Set<string>;
  sku: string;
}

/** Consonant skeleton of a Latin (Arabizi) or Arabic word, so "qamees" can meet "قميص". */
function skeleton(word: string): string {
  const arabic: Record<string, string> = {
    ب: 'b',
    ت: 't',
    ث: 't',
    ج: 'j',
    ح: 'h',
    خ: 'k',
    د: 'd',
    ذ: 'd',
    ر: 'r',
    ز: 'z',
    س: 's',
    ش: 'sh',
    ص: 's',
    ض: 'd',
    ط: 't',
    ظ: 'd',
    ع: '',
    غ: 'g',
    ف: 'f',
    ق: 'k',
    ك: 'k',
    ل: 'l',
    م: 'm',
    ن: 'n',
    ه: 'h',
    و: '',
    ي: '',
    ا: '',
  };
  if (/[\u0600-\u06ff]/.test(word)) {
    return [...word].map((letter) => arabic[letter] ?? '').join('');
  }
  return word
    .toLowerCase()
    .replace(/kh/g, 'k')
    .replace(/q|g/g, 'k')
    .replace(/ch/g, 'k')
    .replace(/th|dh/g, 't')
    .replace(/[3]/g, '')
    .replace(/7/g, 'h')
    .replace(/5/g, 'k')
    .replace(/6/g, 't')
    .replace(/9/g, 's')
    .replace(/[aeiouyw2\d]/g, '')
    .replace(/(.)\1+/g, '$1');
}

/**
 * Finds the products a customer's words are about: token overlap on names (then descriptions and
 * SKUs) after normalisation and synonyms, with an Arabizi skeleton match as a weaker signal.
 * Cheap enough to run over a 5,000-item catalogue per turn.
 */
export class ProductMatcher {
  private readonly indexed: Indexed[];

  constructor(products: readonly CatalogueProduct[]) {
    this.indexed = products.map((product) => ({
      product,
      nameTokens: new Set(tokens(product.name)),
      allTokens: new Set([
        ...tokens(product.name),
        ...tokens(product.description ?? ''),
        ...tokens(product.sku),
      ]),
      sku: normalizeText(product.sku),
    }));
  }

  /** The best matches for the text, best first, at most `limit`. */
  match(text: string, limit = MAX_CONTEXT_PRODUCTS): CatalogueProduct[] {
    const words = tokens(text);
    if (words.length === 0) return [];
    const skeletons = words
      .filter((word) => /^[a-z]/.test(word))
      .map(skeleton)
      .filter((s) => s.length >= 2);
    const normalized = normalizeText(text);
    const scored: Array<{ product: CatalogueProduct; score: number }> = [];
    for (const item of this.indexed) {
      let score = 0;
      if (item.sku && normalized.split(' ').includes(item.sku)) score += 10;
      for (const word of words) {
        if (item.nameTokens.has(word)) score += 3;
        else if (item.allTokens.has(word)) score += 1;
        else if (
          word.length >= 3 &&
          [...item.nameTokens].some(
            (token) => token.length >= 3 && (token.startsWith(word) || word.startsWith(token)),
          )
        ) {
          score += 1.5;
        }
      }
      if (skeletons.length > 0) {
        for (const token of item.nameTokens) {
          if (skeletons.includes(skeleton(token))) score += 2;
        }
      }
      if (score > 0) scored.push({ product: item.product, score });
    }
    scored.sort(
      (a, b) => b.score - a.score || Number(b.product.inStock) - Number(a.product.inStock),
    );
    return scored.slice(0, limit).map((entry) => entry.product);
  }
}
