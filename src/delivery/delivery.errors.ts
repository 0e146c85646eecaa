import { DomainError } from 'src/common/domain-error';

export class RecipientNotGivenError extends DomainError {
  constructor() {
    super('invalid', 'give either recipientId or conversationId');
  }
}

export class RecipientNotFoundError extends DomainError {
  constructor() {
    super('not_found', 'no conversation with this customer');
  }
}

/** Instagram allows nothing now (INTERFACE §3.7): the reason is the message. */
export class MessagingWindowClosedError extends DomainError {
  constructor(reason: string) {
    super('unprocessable', reason);
  }
}

export class ChannelUnavailableError extends DomainError {
  constructor(reason: string) {
    super('unprocessable', reason);
  }
}

/** The message is stored but could not be queued (Redis is away): it is marked failed. */
export class DeliveryQueueUnavailableError extends Error {
  constructor() {
    super('delivery queue unavailable');
    this.name = 'DeliveryQueueUnavailableError';
  }
}
