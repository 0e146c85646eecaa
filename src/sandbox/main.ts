import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { runChat, sayAndShow } from 'src/sandbox/chat';
import { customerNamed } from 'src/sandbox/customers';
import { startSandbox } from 'src/sandbox/sandbox';

function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/**
 * `npm run sandbox`: Radd on this machine with simulated Instagram and ManyChat, a demo shop, a
 * terminal chat and a web page. `-- --say "…"` sends one message, prints the reply and exits.
 */
async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      say: { type: 'string' },
      customer: { type: 'string' },
      'no-chat': { type: 'boolean' },
    },
  });
  const sandbox = await startSandbox();

  if (args.say !== undefined) {
    const customer = customerNamed(args.customer ?? `زبون-${Date.now().toString(36)}`);
    print(`${customer.name} > ${args.say}`);
    const answered = await sayAndShow(sandbox.customers, customer, {
      kind: 'text',
      text: args.say,
    });
    await sandbox.close();
    process.exit(answered ? 0 : 1);
  }

  const { env, url } = sandbox;
  print('');
  print(`Radd sandbox is running at ${url}`);
  print(`  web page:  ${url}/sandbox`);
  print(`  health:    ${url}/health`);
  print(
    `  model:     ${sandbox.simulatedModel ? 'simulated: answers from the shop data in the prompt (set OPENAI_API_KEY to use a real one)' : `${env.OPENAI_MODEL} (${env.OPENAI_BASE_URL ?? 'OpenAI'})`}`,
  );
  print(`  demo shop: بيت الأناقة (merchant ${sandbox.merchantId}), 20 products`);
  print('');

  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (!process.stdin.isTTY || args['no-chat']) {
    print(
      'Chat from the web page, or run `npm run sandbox -- --say "شكد سعر الفستان الاسود؟"`. Ctrl+C stops.',
    );
    return;
  }
  await runChat(sandbox);
  await sandbox.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
