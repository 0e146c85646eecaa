import {
  customerWords,
  describeMessage,
  turnLanguage,
  type TurnMessage,
} from 'src/ai/instagram-ai.service';

let seq = 0;

function message(overrides: Partial<TurnMessage>): TurnMessage {
  seq += 1;
  return {
    id: `m-${seq}`,
    direction: 'in',
    sender: 'customer',
    type: 'text',
    text: null,
    attachments: [],
    meta: {},
    occurredAt: new Date(1_764_000_000_000 + seq * 1000),
    ...overrides,
  };
}

const arabicComment = message({
  type: 'comment',
  text: 'بكم الفستان؟',
  meta: { media: { id: '17900000000000001', productType: 'FEED' } },
});
const storyReply = message({
  text: 'بيش هذا؟',
  meta: { replyTo: { story: { url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1' } } },
});
const photo = message({
  type: 'image',
  attachments: [{ type: 'image', url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=2' }],
});

describe('customerWords', () => {
  it('keeps what the customer wrote and leaves out the framing the model is shown', () => {
    expect(describeMessage(arabicComment)).toContain("[comment on the shop's feed");
    expect(customerWords([arabicComment])).toBe('بكم الفستان؟');
    expect(customerWords([storyReply, photo, message({ text: '  يوصل للبصرة؟ ' })])).toBe(
      'بيش هذا؟\nيوصل للبصرة؟',
    );
    expect(customerWords([photo])).toBe('');
  });
});

describe('turnLanguage', () => {
  it("answers in the language of the customer's words, not of the framing around them", () => {
    expect(turnLanguage([arabicComment], [])).toBe('ar');
    expect(turnLanguage([storyReply], [])).toBe('ar');
    expect(turnLanguage([message({ type: 'comment', text: 'How much is it?' })], [])).toBe('en');
    expect(turnLanguage([message({ text: 'shgad si3ra?' })], [])).toBe('ar');
  });

  it('answers a turn without words in the language the customer last wrote, else in Arabic', () => {
    const english = message({ text: 'Do you have this in blue?' });
    const botReply = message({ direction: 'out', sender: 'bot', text: 'هلا بيك' });
    expect(turnLanguage([photo], [english, botReply])).toBe('en');
    expect(turnLanguage([photo], [message({ text: 'عدكم قياس لارج؟' }), english])).toBe('en');
    expect(turnLanguage([photo], [english, message({ text: 'شكد سعره؟' })])).toBe('ar');
    expect(turnLanguage([photo], [botReply])).toBe('ar');
    expect(turnLanguage([photo], [])).toBe('ar');
  });
});
