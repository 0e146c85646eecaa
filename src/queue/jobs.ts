/** Job payloads: ids only; workers load everything else from PostgreSQL (never text or tokens). */

/** `process-webhook`: turn one stored webhook body into customers, conversations and messages. */
export interface ProcessWebhookJob {
  webhookEventId: string;
}

/** `ai-response`: answer what the customer has said in this conversation since the last answer. */
export interface AiResponseJob {
  merchantId: string;
  conversationId: string;
}
