import {
  BadRequestException,
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError,
} from '@nestjs/common';
import { Matches, ValidateIf } from 'class-validator';

/** At most this many problems are listed in one answer. */
const MAX_MESSAGES = 50;

/**
 * One message per problem, naming the field by its full path (`profile.faq.0.question must be a
 * string`). Values are never echoed: they may be credentials.
 */
export function validationMessages(errors: ValidationError[], parent = ''): string[] {
  const messages: string[] = [];
  for (const error of errors) {
    const path = parent ? `${parent}.${error.property}` : error.property;
    for (const [constraint, message] of Object.entries(typeFirst(error.constraints ?? {}))) {
      if (constraint === 'whitelistValidation') {
        messages.push(`${path} is not an accepted field`);
      } else if (message.startsWith(`${error.property} `)) {
        messages.push(`${path}${message.slice(error.property.length)}`);
      } else {
        messages.push(`${path}: ${message}`);
      }
    }
    if (error.children && error.children.length > 0) {
      messages.push(...validationMessages(error.children, path));
    }
  }
  return messages;
}

/** Constraints that say what type a value must have: when one fails, the others are noise. */
const TYPE_CONSTRAINTS = ['isString', 'isInt', 'isNumber', 'isBoolean', 'isArray', 'isObject'];

function typeFirst(constraints: Record<string, string>): Record<string, string> {
  const type = TYPE_CONSTRAINTS.find((name) => name in constraints);
  return type === undefined ? constraints : { [type]: constraints[type] };
}

/** The messages of validationMessages, cut to a readable number. */
export function limitMessages(messages: string[]): string[] {
  if (messages.length <= MAX_MESSAGES) return messages;
  return [
    ...messages.slice(0, MAX_MESSAGES),
    `and ${messages.length - MAX_MESSAGES} more problems`,
  ];
}

/**
 * The global pipe: DTOs are validated with class-validator, unknown fields are refused, query
 * strings are converted where the DTO says so (`@Type`). A DTO body that is not a JSON object
 * (an array, a string) is refused; a missing body counts as `{}`.
 */
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors: ValidationError[]) =>
        new BadRequestException(limitMessages(validationMessages(errors))),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    let input = value;
    if (metadata.type === 'body' && this.toValidate(metadata)) {
      if (input === undefined || input === null || input === '') input = {};
      else if (typeof input !== 'object' || Array.isArray(input) || Buffer.isBuffer(input)) {
        throw new BadRequestException('the request body must be a JSON object');
      }
    }
    return (await super.transform(input, metadata)) as unknown;
  }
}

/**
 * The field may be left out, but not set to null (class-validator's IsOptional lets null through,
 * which a NOT NULL column would then refuse with a 500).
 */
export function OptionalField(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

/** A string with at least one non-space character. */
export function NotBlank(): PropertyDecorator {
  return Matches(/\S/, { message: '$property must not be blank' });
}
