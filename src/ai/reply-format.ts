import { utf8Length } from 'src/ai/arabic';

/** A reply is at most this many UTF-8 bytes in all; delivery splits it into parts of ≤1000. */
export const MAX_REPLY_BYTES = 3_000;

/** Instagram shows plain text: markdown marks are removed, links kept as bare URLs. */
export function stripMarkdown(text: string): string {
  return text
    .replace(/```[a-z]*\n?/gi, '')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/!\[([^\]]*)\]\(([^)]+)\)/g, '$2')
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 $2')
    .replace(/^\s{0,3}#{1,6}\s+/gm, '')
    .replace(/^\s{0,3}>\s?/gm, '')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?!\w)/g, '$1$2')
    .replace(/^\s*[-*+]\s+/gm, '• ')
    .replace(/^\s*(-{3,}|\*{3,}|_{3,})\s*$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Cuts the text to at most `maxBytes` UTF-8 bytes, at the last sentence end that fits. */
export function capAtSentence(text: string, maxBytes = MAX_REPLY_BYTES): string {
  if (utf8Length(text) <= maxBytes) return text;
  let cut = '';
  for (const sentence of text.match(/[^.!?؟。\n]+[.!?؟。\n]*|[.!?؟。\n]+/gu) ?? [text]) {
    if (utf8Length(cut + sentence) > maxBytes) break;
    cut += sentence;
  }
  if (cut.trim() === '') {
    // One endless sentence: cut at the last word that fits, never inside a character.
    for (const word of text.split(/(\s+)/)) {
      if (utf8Length(cut + word) > maxBytes) break;
      cut += word;
    }
  }
  return cut.trim();
}

/** What the customer finally reads: plain text within the size limit. */
export function formatReply(text: string): string {
  return capAtSentence(stripMarkdown(text));
}
