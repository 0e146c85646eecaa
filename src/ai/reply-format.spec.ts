import { utf8Length } from 'src/ai/arabic';
import { capAtSentence, formatReply, stripMarkdown } from 'src/ai/reply-format';

describe('stripMarkdown', () => {
  it('removes emphasis, headings, code and link syntax', () => {
    expect(
      stripMarkdown(
        '## العروض\n**الفستان** متوفر بـ *25 الف*\n- احمر\n- اسود\n[شوف](https://x.example/p)',
      ),
    ).toBe('العروض\nالفستان متوفر بـ 25 الف\n• احمر\n• اسود\nشوف https://x.example/p');
  });

  it('leaves plain text as it is', () => {
    expect(stripMarkdown('هلا بيك 🌷 شلون اكدر اساعدك؟')).toBe('هلا بيك 🌷 شلون اكدر اساعدك؟');
  });
});

describe('capAtSentence', () => {
  it('cuts long Arabic text at a sentence end within the byte limit', () => {
    const sentence = 'هذا الفستان متوفر بكل القياسات والالوان. ';
    const text = sentence.repeat(100);
    const cut = capAtSentence(text, 3000);
    expect(utf8Length(cut)).toBeLessThanOrEqual(3000);
    expect(cut.endsWith('.')).toBe(true);
    expect(cut.length).toBeGreaterThan(1000);
  });

  it('cuts a text without sentence ends at a word boundary', () => {
    const text = 'كلمة '.repeat(1000);
    const cut = capAtSentence(text, 100);
    expect(utf8Length(cut)).toBeLessThanOrEqual(100);
    expect(cut.split(' ').every((word) => word === 'كلمة')).toBe(true);
  });

  it('keeps short text whole', () => {
    expect(formatReply('هلا 🌷')).toBe('هلا 🌷');
  });
});
