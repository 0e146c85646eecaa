import { DomainError } from 'src/common/domain-error';

export class ConversationNotFoundError extends DomainError {
  constructor() {
    super('not_found', 'conversation not found');
  }
}
