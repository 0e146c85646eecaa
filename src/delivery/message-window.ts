import type { MessageSender } from 'src/conversation/message.entity';

export const STANDARD_WINDOW_MS = 24 * 3_600_000;
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * 3_600_000;

/** The only message tag Instagram accepts, and only on a message a person wrote. */
export type MessageTag = 'HUMAN_AGENT';

export type WindowDecision =
  { open: true; tag?: MessageTag } | { open: false; reason: 'window_closed'; detail: string };

/**
 * What Instagram allows now (meta-instagram §6, manychat-openai A.5), from the customer's last
 * message: anything within 24 hours; then, up to 7 days, only a person's message tagged
 * HUMAN_AGENT; after that nothing until the customer writes again. The bot never uses a tag.
 */
export function checkMessageWindow(
  lastCustomerMessageAt: Date | null,
  sender: MessageSender,
  now = Date.now(),
): WindowDecision {
  if (!lastCustomerMessageAt) {
    return {
      open: false,
      reason: 'window_closed',
      detail: 'the customer has not written to the shop (a comment allows one private reply only)',
    };
  }
  const age = now - lastCustomerMessageAt.getTime();
  if (age <= STANDARD_WINDOW_MS) return { open: true };
  if (sender === 'human' && age <= HUMAN_AGENT_WINDOW_MS) return { open: true, tag: 'HUMAN_AGENT' };
  return {
    open: false,
    reason: 'window_closed',
    detail:
      sender === 'human'
        ? "the customer's last message is more than 7 days old: nothing may be sent until they write again"
        : "the customer's last message is more than 24 hours old: the bot may not send",
  };
}
