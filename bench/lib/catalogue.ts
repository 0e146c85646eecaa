/** A product as the catalogue holds it (the shape of src/ai/product-matcher's CatalogueProduct). */
export interface BenchProduct {
  sku: string;
  name: string;
  description: string | null;
  price: number;
  currency: string;
  inStock: boolean;
  imageUrl: string | null;
}

const ITEMS = [
  ['قميص', 'shirt'],
  ['تيشيرت', 't-shirt'],
  ['بنطلون', 'trousers'],
  ['جاكيت', 'jacket'],
  ['فستان', 'dress'],
  ['عباية', 'abaya'],
  ['حذاء رياضي', 'sneakers'],
  ['حقيبة', 'bag'],
  ['شال', 'scarf'],
  ['بيجامة', 'pyjamas'],
  ['كنزة', 'sweater'],
  ['تنورة', 'skirt'],
] as const;
const COLOURS = [
  ['أسود', 'black'],
  ['أبيض', 'white'],
  ['أزرق', 'blue'],
  ['أحمر', 'red'],
  ['بيج', 'beige'],
  ['زيتوني', 'olive'],
  ['رصاصي', 'grey'],
  ['وردي', 'pink'],
] as const;
const MATERIALS = ['قطن', 'كتان', 'جينز', 'صوف', 'جلد', 'حرير', 'بوليستر'];

/**
 * A clothes shop's catalogue of `count` products, the same for the same count: Arabic names made
 * of item, colour and material (so that a customer's words match a handful of them), prices in
 * Iraqi dinars, one in nine out of stock.
 */
export function clothesCatalogue(count: number): BenchProduct[] {
  return Array.from({ length: count }, (_, i) => {
    const [item, itemEn] = ITEMS[i % ITEMS.length];
    const [colour, colourEn] = COLOURS[Math.floor(i / ITEMS.length) % COLOURS.length];
    const material = MATERIALS[Math.floor(i / (ITEMS.length * COLOURS.length)) % MATERIALS.length];
    const model = Math.floor(i / (ITEMS.length * COLOURS.length * MATERIALS.length)) + 1;
    return {
      sku: `SKU-${String(i + 1).padStart(5, '0')}`,
      name: `${item} ${colour} ${material} موديل ${model}`,
      description: `${itemEn} in ${colourEn}, ${material}; sizes S to XXL; model ${model}`,
      price: 10_000 + ((i * 2_500) % 90_000),
      currency: 'IQD',
      inStock: i % 9 !== 0,
      imageUrl: null,
    };
  });
}
