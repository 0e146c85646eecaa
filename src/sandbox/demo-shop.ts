import type { DataSource } from 'typeorm';
import type { CredentialCipher } from 'src/merchant/credential-cipher';
import { credentialContext } from 'src/merchant/merchant-directory';
import type { MerchantProfile } from 'src/merchant/merchant.entity';

/** `entry[].id` of the demo shop's Instagram account. */
export const DEMO_ACCOUNT_ID = '17841400000000042';
/** The demo shop's (pretend) Instagram-Login token: its requests go to the simulated Instagram. */
export const DEMO_INSTAGRAM_TOKEN = 'IGAA-sandbox-demo-shop-token';

export const DEMO_PROFILE: MerchantProfile = {
  displayName: 'بيت الأناقة',
  description: 'محل ملابس نسائية ورجالية في بغداد - المنصور، شارع 14 رمضان',
  tone: 'ودود، قصير، باللهجة العراقية',
  language: 'ar-IQ',
  workingHours: 'من السبت للخميس، 10 الصبح لـ 10 بالليل بتوقيت بغداد. الجمعة عطلة',
  deliveryInfo:
    'التوصيل لكل المحافظات خلال 1-3 ايام عن طريق المندوب والدفع عند الاستلام. اجور التوصيل لبغداد 5,000 دينار ولباقي المحافظات 8,000 دينار',
  returnPolicy: 'تكدر ترجع او تبدل القطعة خلال 3 ايام من الاستلام اذا بحالتها وبكارتها',
  faq: [
    { question: 'شنو طرق الدفع؟', answer: 'الدفع عند الاستلام، او زين كاش، او كي كارد' },
    {
      question: 'القياسات مضبوطة؟',
      answer: 'اي القياسات اوروبية، وإذا مو متأكد دزلنا طولك ووزنك ونساعدك',
    },
    { question: 'عدكم محل نزوره؟', answer: 'اي، محلنا بالمنصور شارع 14 رمضان، اهلاً بيك' },
  ],
  handoverMessage: 'هلا بيك 🌷 راح يرد عليك واحد من فريقنا بأقرب وقت.',
};

interface DemoProduct {
  sku: string;
  name: string;
  description: string;
  price: number;
  inStock: boolean;
  colour: string;
}

export const DEMO_PRODUCTS: DemoProduct[] = [
  {
    sku: 'DR-001',
    name: 'فستان سهرة اسود طويل',
    description: 'ساتان، قياسات S الى XL',
    price: 65000,
    inStock: true,
    colour: '#1f1f1f',
  },
  {
    sku: 'DR-002',
    name: 'فستان صيفي ورد',
    description: 'قطن خفيف، قياسات M و L',
    price: 35000,
    inStock: true,
    colour: '#f4a7b9',
  },
  {
    sku: 'DR-003',
    name: 'فستان احمر قصير',
    description: 'شيفون، قياس S فقط',
    price: 40000,
    inStock: false,
    colour: '#c0392b',
  },
  {
    sku: 'AB-001',
    name: 'عباية سوداء مطرزة',
    description: 'كريب ملكي مع تطريز يدوي',
    price: 75000,
    inStock: true,
    colour: '#2c2c2c',
  },
  {
    sku: 'AB-002',
    name: 'عباية كحلية سادة',
    description: 'قماش ندى، قياس واحد',
    price: 45000,
    inStock: true,
    colour: '#1b2a4a',
  },
  {
    sku: 'SH-001',
    name: 'قميص قطن ابيض رجالي',
    description: 'قطن 100%، قياسات M الى XXL',
    price: 25000,
    inStock: true,
    colour: '#f5f5f5',
  },
  {
    sku: 'SH-002',
    name: 'قميص كتان ازرق',
    description: 'كتان، قياسات L و XL',
    price: 30000,
    inStock: true,
    colour: '#5b8bd9',
  },
  {
    sku: 'TS-001',
    name: 'تيشيرت اسود بيسك',
    description: 'قطن، كل القياسات',
    price: 15000,
    inStock: true,
    colour: '#222222',
  },
  {
    sku: 'TS-002',
    name: 'تيشيرت ابيض اوفر سايز',
    description: 'قطن ثقيل',
    price: 18000,
    inStock: true,
    colour: '#fafafa',
  },
  {
    sku: 'JN-001',
    name: 'بنطلون جينز ازرق سلم فت',
    description: 'قياسات 30 الى 38',
    price: 35000,
    inStock: true,
    colour: '#3d5a80',
  },
  {
    sku: 'JN-002',
    name: 'بنطلون جينز اسود واسع',
    description: 'قياسات 28 الى 34',
    price: 38000,
    inStock: true,
    colour: '#303030',
  },
  {
    sku: 'PT-001',
    name: 'بنطلون قماش بيج',
    description: 'قماش رسمي',
    price: 32000,
    inStock: false,
    colour: '#d8c3a5',
  },
  {
    sku: 'JK-001',
    name: 'جاكيت جلد اسود',
    description: 'جلد صناعي مبطن',
    price: 85000,
    inStock: true,
    colour: '#111111',
  },
  {
    sku: 'JK-002',
    name: 'جاكيت جينز',
    description: 'جينز ازرق فاتح',
    price: 55000,
    inStock: true,
    colour: '#7aa5d2',
  },
  {
    sku: 'SU-001',
    name: 'قاط رجالي رمادي',
    description: 'قاط مع بنطلون، قياسات 48 الى 56',
    price: 150000,
    inStock: true,
    colour: '#808080',
  },
  {
    sku: 'SN-001',
    name: 'حذاء رياضي ابيض',
    description: 'قياسات 38 الى 45',
    price: 45000,
    inStock: true,
    colour: '#eeeeee',
  },
  {
    sku: 'SN-002',
    name: 'قندرة جلد بني رجالية',
    description: 'جلد طبيعي، قياسات 40 الى 45',
    price: 60000,
    inStock: true,
    colour: '#7b4a2a',
  },
  {
    sku: 'BG-001',
    name: 'جنطة يد نسائية سوداء',
    description: 'جلد صناعي',
    price: 28000,
    inStock: true,
    colour: '#1a1a1a',
  },
  {
    sku: 'CP-001',
    name: 'كلاو رياضي',
    description: 'قطن، لون اسود او ابيض',
    price: 10000,
    inStock: true,
    colour: '#444444',
  },
  {
    sku: 'SC-001',
    name: 'شال حرير',
    description: 'حرير صناعي، الوان متعددة',
    price: 12000,
    inStock: true,
    colour: '#b57edc',
  },
];

/** A product picture the sandbox serves itself (no outside host is ever needed). */
export function productImageSvg(sku: string): string | null {
  const product = DEMO_PRODUCTS.find((candidate) => candidate.sku === sku);
  if (!product) return null;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320" viewBox="0 0 320 320"><rect width="320" height="320" fill="${product.colour}"/><text x="160" y="170" font-family="sans-serif" font-size="28" text-anchor="middle" fill="#ffffff" stroke="#000000" stroke-width="0.6">${product.sku}</text></svg>`;
}

/** Creates (or refreshes) the demo shop and its catalogue; returns the merchant id. */
export async function seedDemoShop(
  dataSource: DataSource,
  cipher: CredentialCipher,
  imageBaseUrl: string,
): Promise<string> {
  const [merchant] = await dataSource.query<Array<{ id: string }>>(
    `INSERT INTO merchants (name, instagram_account_id, delivery_channel, profile)
     VALUES ('Bayt Al-Anaqa', $1, 'instagram', $2)
     ON CONFLICT (instagram_account_id) DO UPDATE SET profile = EXCLUDED.profile, needs_reauth = false
     RETURNING id`,
    [DEMO_ACCOUNT_ID, JSON.stringify(DEMO_PROFILE)],
  );
  const token = cipher.encrypt(
    DEMO_INSTAGRAM_TOKEN,
    credentialContext(merchant.id, 'instagramAccessToken'),
  );
  await dataSource.query(`UPDATE merchants SET instagram_access_token = $2 WHERE id = $1`, [
    merchant.id,
    token,
  ]);
  for (const product of DEMO_PRODUCTS) {
    await dataSource.query(
      `INSERT INTO products (merchant_id, sku, name, description, price, currency, in_stock, image_url)
       VALUES ($1, $2, $3, $4, $5, 'IQD', $6, $7)
       ON CONFLICT (merchant_id, sku) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
         price = EXCLUDED.price, in_stock = EXCLUDED.in_stock, image_url = EXCLUDED.image_url`,
      [
        merchant.id,
        product.sku,
        product.name,
        product.description,
        product.price,
        product.inStock,
        `${imageBaseUrl}/${product.sku}.svg`,
      ],
    );
  }
  return merchant.id;
}
