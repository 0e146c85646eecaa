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

/**
 * `message-delivery`: send one stored outbound message (direction `out`, delivery status `queued`)
 * to the customer, through ManyChat or the Instagram Send API. The job id is the message id.
 */
export interface MessageDeliveryJob {
  merchantId: string;
  messageId: string;
  /**
   * A reply its own job handed over: the conversation it answers. The reply's store does not wait
   * for the disk, and a crash of PostgreSQL may lose it; a job that then finds no message has the
   * conversation's turn read again at once, instead of after the reply sweeper's grace.
   */
  conversationId?: string;
}
