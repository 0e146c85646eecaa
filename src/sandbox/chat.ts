import { createInterface } from 'node:readline/promises';
import type { DataSource } from 'typeorm';
import {
  customerNamed,
  describeTimeline,
  type CustomerAction,
  type SandboxCustomer,
  type SandboxCustomers,
} from 'src/sandbox/customers';

const HELP = `Type a message as the customer and press Enter. Commands:
  /image <url> [caption]   send a photo            /story <text>   reply to the shop's story
  /comment <text>          comment on a post        /like           send a heart
  /customer <name>         switch customer          /pause [min]    pause the bot   /resume
  /help                    this help                /quit           stop the sandbox`;

function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Sends one action and prints the reply as the simulated Instagram received it. */
export async function sayAndShow(
  customers: SandboxCustomers,
  customer: SandboxCustomer,
  action: CustomerAction,
): Promise<boolean> {
  const sent = await customers.act(customer, action);
  const reply = await customers.reply(customer, sent, action.kind === 'like' ? 3_000 : 30_000);
  if (!reply) {
    print(
      action.kind === 'like' ? '  (no reply: likes are not answered)' : '  (no reply within 30 s)',
    );
    return false;
  }
  for (const part of reply.parts) {
    print(
      `  ${part.commentId ? '[private reply] ' : ''}بيت الأناقة: ${part.text ?? ''}${part.imageUrl ? ` [image ${part.imageUrl}]` : ''}`,
    );
  }
  print(`  ${describeTimeline(reply.timeline)}`);
  return true;
}

/** The terminal chat: each line becomes a signed Instagram webhook from the current customer. */
export async function runChat(deps: {
  customers: SandboxCustomers;
  dataSource: DataSource;
  merchantId: string;
}): Promise<void> {
  let customer = customerNamed('زهراء');
  print(HELP);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (;;) {
      const line = (await rl.question(`${customer.name} > `)).trim();
      if (!line) continue;
      const [command, ...rest] = line.split(' ');
      const argument = rest.join(' ').trim();
      try {
        switch (command) {
          case '/quit':
          case '/exit':
            return;
          case '/help':
            print(HELP);
            break;
          case '/customer':
            if (argument) customer = customerNamed(argument);
            print(`  now writing as ${customer.name}`);
            break;
          case '/pause':
          case '/resume':
            await deps.dataSource.query(
              `UPDATE conversations c SET bot_paused_until = $3, needs_human = false
                 FROM customers cu WHERE cu.id = c.customer_id AND cu.merchant_id = $1 AND cu.igsid = $2`,
              [
                deps.merchantId,
                customer.igsid,
                command === '/pause'
                  ? new Date(Date.now() + (Number(argument) || 60) * 60_000)
                  : null,
              ],
            );
            print(command === '/pause' ? '  bot paused in this conversation' : '  bot resumed');
            break;
          case '/image': {
            const [url, ...caption] = rest;
            await sayAndShow(deps.customers, customer, {
              kind: 'image',
              url: url || 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1',
              text: caption.join(' ') || undefined,
            });
            break;
          }
          case '/story':
            await sayAndShow(deps.customers, customer, {
              kind: 'story_reply',
              text: argument || 'حلو 😍 بيش؟',
            });
            break;
          case '/comment':
            await sayAndShow(deps.customers, customer, {
              kind: 'comment',
              text: argument || 'بكم هذا؟',
            });
            break;
          case '/like':
            await sayAndShow(deps.customers, customer, { kind: 'like' });
            break;
          default:
            await sayAndShow(deps.customers, customer, { kind: 'text', text: line });
        }
      } catch (error) {
        print(`  error: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    rl.close();
  }
}
