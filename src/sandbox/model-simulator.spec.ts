import { InstagramAIService, type TurnMessage } from 'src/ai/instagram-ai.service';
import { parseModelAnswer } from 'src/ai/model-answer';
import { catalogueFigures, ungroundedAmounts } from 'src/ai/prices';
import { ProductMatcher } from 'src/ai/product-matcher';
import { allowedFigures } from 'src/ai/conversation-ai.orchestrator';
import { DEMO_PRODUCTS, DEMO_PROFILE } from 'src/sandbox/demo-shop';
import { simulatedAnswer } from 'src/sandbox/model-simulator';

const catalogue = DEMO_PRODUCTS.map((product) => ({
  sku: product.sku,
  name: product.name,
  description: product.description,
  price: product.price,
  currency: 'IQD',
  inStock: product.inStock,
  imageUrl: null,
}));
const shop = { name: 'بيت الأناقة', profile: DEMO_PROFILE };

function customer(text: string, overrides: Partial<TurnMessage> = {}): TurnMessage {
  return {
    id: 'm-1',
    direction: 'in',
    sender: 'customer',
    type: 'text',
    text,
    attachments: [],
    meta: {},
    occurredAt: new Date(),
    ...overrides,
  };
}

/** What the simulator answers to the prompt Radd builds for this turn. */
function answerTo(turn: TurnMessage) {
  const prompt = new InstagramAIService().build({
    shop,
    matcher: new ProductMatcher(catalogue),
    history: [],
    turn: [turn],
  });
  return parseModelAnswer(JSON.stringify(simulatedAnswer(prompt.messages)));
}

describe('simulatedAnswer', () => {
  it("answers Radd's prompt with the structured answer, grounded in the shop data it was given", () => {
    const answer = answerTo(customer('شكد سعر الفستان الاسود الطويل؟'));
    expect(answer).toMatchObject({
      intent: 'price_inquiry',
      needsHuman: false,
      productSkus: ['DR-001'],
      language: 'ar-IQ',
    });
    expect(answer?.reply).toContain('65,000 دينار');
    expect(
      ungroundedAmounts(
        answer?.reply ?? '',
        allowedFigures(DEMO_PROFILE, catalogueFigures(catalogue)),
      ),
    ).toEqual([]);
  });

  it("reads the customer's words, not the framing of a comment", () => {
    const answer = answerTo(
      customer('بكم الفستان الاسود الطويل؟', {
        type: 'comment',
        meta: { media: { id: '17900000000000001', productType: 'REELS' } },
      }),
    );
    expect(answer).toMatchObject({ language: 'ar-IQ', productSkus: ['DR-001'] });
  });

  it('hands over what the shop data does not answer', () => {
    expect(answerTo(customer('اريد احچي ويا موظف'))).toMatchObject({
      intent: 'human_request',
      needsHuman: true,
    });
  });
});
