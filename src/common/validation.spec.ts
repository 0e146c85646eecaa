import { BadRequestException, type ArgumentMetadata } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min, ValidateNested } from 'class-validator';
import { ApiValidationPipe } from 'src/common/validation';

class Entry {
  @IsString() question!: string;
}

class Body {
  @IsInt() @Min(0) @Max(10) count!: number;
  @ValidateNested({ each: true }) @Type(() => Entry) entries!: Entry[];
}

const metadata: ArgumentMetadata = { type: 'body', metatype: Body, data: undefined };

async function messagesOf(value: unknown): Promise<string[]> {
  try {
    await new ApiValidationPipe().transform(value, metadata);
  } catch (error) {
    if (error instanceof BadRequestException) {
      const response = error.getResponse() as { message: string | string[] };
      return Array.isArray(response.message) ? response.message : [response.message];
    }
    throw error;
  }
  throw new Error('the value was accepted');
}

describe('ApiValidationPipe', () => {
  it('names nested fields by their path and says only the type when the type is wrong', async () => {
    expect(
      await messagesOf({ count: 'many', entries: [{ question: 'ok' }, { question: 3, extra: 1 }] }),
    ).toEqual([
      'count must be an integer number',
      'entries.1.extra is not an accepted field',
      'entries.1.question must be a string',
    ]);
  });

  it('refuses bodies that are not JSON objects, and treats a missing body as {}', async () => {
    expect(await messagesOf([{ count: 1 }])).toEqual(['the request body must be a JSON object']);
    expect(await messagesOf('text')).toEqual(['the request body must be a JSON object']);
    expect(await messagesOf(undefined)).toEqual(['count must be an integer number']);
  });

  it('never echoes the value it refused', async () => {
    const messages = await messagesOf({ count: 'IGAA-secret-token', entries: [] });
    expect(messages.join(' ')).not.toContain('IGAA');
  });
});
