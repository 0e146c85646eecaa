/** One message as a provider receives it: a text part, or an image that follows the text. */
export type OutboundItem = { kind: 'text'; text: string } | { kind: 'image'; url: string };
