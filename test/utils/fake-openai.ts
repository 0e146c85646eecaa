import {
  FakeHttpServer,
  type FakeResponse,
  type RecordedRequest,
} from 'test/utils/fake-http-server';

/** What the fake model answers to one request. */
export type ModelBehaviour =
  | { answer: Record<string, unknown>; delayMs?: number }
  | { content: string | null; finishReason?: 'stop' | 'length' | 'content_filter' }
  | { refusal: string }
  | { status: number; error?: Record<string, unknown>; headers?: Record<string, string> }
  | { hang: true };

interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  response_format?: {
    type: string;
    json_schema?: { name: string; strict?: boolean; schema: unknown };
  };
}

/**
 * An OpenAI-compatible chat-completions server on loopback, answering in the real wire format
 * (manychat-openai spec B.8). Point OPENAI_BASE_URL at `baseUrl`.
 */
export class FakeOpenAi {
  private behave: (request: ChatRequest) => ModelBehaviour = () => ({
    answer: {
      reply: 'هلا بيك 🌷',
      intent: 'greeting',
      confidence: 0.9,
      needsHuman: false,
      productSkus: [],
      language: 'ar-IQ',
    },
  });

  private constructor(readonly server: FakeHttpServer) {
    server.on('POST', '/v1/chat/completions', (request) => this.respond(request));
  }

  static async start(): Promise<FakeOpenAi> {
    return new FakeOpenAi(await FakeHttpServer.start());
  }

  get baseUrl(): string {
    return `${this.server.url}/v1`;
  }

  /** Sets how the model answers from now on. */
  answer(behaviour: (request: ChatRequest) => ModelBehaviour): void {
    this.behave = behaviour;
  }

  /** The chat requests received so far, parsed. */
  get calls(): ChatRequest[] {
    return this.server
      .received('POST', '/v1/chat/completions')
      .map((request) => request.json as ChatRequest);
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  reset(): void {
    this.server.requests.length = 0;
  }

  private respond(request: RecordedRequest): FakeResponse {
    const body = request.json as ChatRequest;
    const behaviour = this.behave(body);
    const headers = { 'x-request-id': `req_${this.server.requests.length}` };
    if ('hang' in behaviour) return { hang: true };
    if ('status' in behaviour) {
      return {
        status: behaviour.status,
        headers: { ...headers, ...behaviour.headers },
        body: {
          error: behaviour.error ?? {
            message: 'The server had an error',
            type: 'server_error',
            param: null,
            code: null,
          },
        },
      };
    }
    const content =
      'answer' in behaviour
        ? JSON.stringify(behaviour.answer)
        : 'content' in behaviour
          ? behaviour.content
          : null;
    // A refusal comes with no content (structured outputs: message.refusal).
    const refusal = 'refusal' in behaviour ? behaviour.refusal : null;
    const finishReason = 'content' in behaviour ? (behaviour.finishReason ?? 'stop') : 'stop';
    return {
      delayMs: 'answer' in behaviour ? behaviour.delayMs : undefined,
      headers,
      body: {
        id: `chatcmpl-${this.server.requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: `${body.model}-2024-07-18`,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal, annotations: [] },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage: {
          prompt_tokens: 420,
          completion_tokens: 38,
          total_tokens: 458,
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
          completion_tokens_details: {
            reasoning_tokens: 0,
            audio_tokens: 0,
            accepted_prediction_tokens: 0,
            rejected_prediction_tokens: 0,
          },
        },
        service_tier: 'default',
      },
    };
  }
}
