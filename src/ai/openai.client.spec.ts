import { answerLimit } from 'src/ai/openai.client';

describe('answerLimit', () => {
  it('bounds the answer with max_completion_tokens on OpenAI, which reasoning models require', () => {
    expect(answerLimit('https://api.openai.com/v1')).toEqual({ max_completion_tokens: 700 });
    expect(answerLimit(undefined)).toEqual({ max_completion_tokens: 700 });
  });

  it('keeps max_tokens for compatible servers, which mostly read only that', () => {
    expect(answerLimit('http://localhost:11434/v1/')).toEqual({ max_tokens: 700 });
    expect(answerLimit('https://openai.example.com/v1')).toEqual({ max_tokens: 700 });
  });
});
