import { checkMessageWindow } from 'src/delivery/message-window';

const HOUR = 3_600_000;
const now = Date.UTC(2026, 0, 10, 12);
const ago = (hours: number) => new Date(now - hours * HOUR);

describe('checkMessageWindow', () => {
  it('lets anyone send without a tag within 24 hours', () => {
    expect(checkMessageWindow(ago(1), 'bot', now)).toEqual({ open: true });
    expect(checkMessageWindow(ago(24), 'bot', now)).toEqual({ open: true });
    expect(checkMessageWindow(ago(23), 'human', now)).toEqual({ open: true });
  });

  it('lets only a person send, tagged HUMAN_AGENT, from 24 hours to 7 days', () => {
    expect(checkMessageWindow(ago(72), 'human', now)).toEqual({ open: true, tag: 'HUMAN_AGENT' });
    expect(checkMessageWindow(ago(168), 'human', now)).toEqual({ open: true, tag: 'HUMAN_AGENT' });
    expect(checkMessageWindow(ago(25), 'bot', now)).toMatchObject({
      open: false,
      reason: 'window_closed',
    });
  });

  it('allows nothing after 7 days, or before the customer ever wrote', () => {
    expect(checkMessageWindow(ago(8 * 24), 'human', now)).toMatchObject({
      open: false,
      detail: expect.stringContaining('7 days') as unknown,
    });
    expect(checkMessageWindow(null, 'human', now)).toMatchObject({ open: false });
  });
});
