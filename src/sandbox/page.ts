import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { customerNamed, type SandboxCustomers } from 'src/sandbox/customers';
import { productImageSvg } from 'src/sandbox/demo-shop';

export interface PageDeps {
  dataSource: DataSource;
  customers: SandboxCustomers;
  merchantId: string;
}

interface MessageRow {
  direction: string;
  sender: string;
  type: string;
  text: string | null;
  attachments: Array<{ type: string; url?: string }>;
  intent: string | null;
  delivery_status: string | null;
  created_at: Date;
  occurred_at: Date;
  meta: { ai?: { source?: string; latencyMs?: number } };
}

/** The sandbox web page and its small JSON API: registered only by `npm run sandbox`. */
export function registerSandboxPage(fastify: FastifyInstance, ready: () => PageDeps | null): void {
  const deps = (): PageDeps => {
    const value = ready();
    if (!value) throw new Error('the sandbox is still starting');
    return value;
  };

  fastify.get('/sandbox', (_request, reply) => {
    void reply.type('text/html; charset=utf-8').send(PAGE);
  });

  fastify.get<{ Params: { file: string } }>('/sandbox/images/:file', (request, reply) => {
    const svg = productImageSvg(request.params.file.replace(/\.svg$/, ''));
    if (!svg) {
      return void reply
        .status(404)
        .send({ statusCode: 404, error: 'Not Found', message: 'no such image' });
    }
    void reply.type('image/svg+xml').send(svg);
  });

  fastify.get('/sandbox/api/conversations', async () => {
    const rows = await deps().dataSource.query<
      Array<{ igsid: string; username: string | null; last: Date | null }>
    >(
      `SELECT cu.igsid, cu.username, c.last_message_at AS last FROM customers cu
         JOIN conversations c ON c.customer_id = cu.id WHERE cu.merchant_id = $1 ORDER BY c.last_message_at DESC NULLS LAST`,
      [deps().merchantId],
    );
    return rows.map((row) => ({ igsid: row.igsid, name: row.username ?? row.igsid }));
  });

  fastify.get<{ Querystring: { customer?: string } }>('/sandbox/api/messages', async (request) => {
    const customer = customerNamed(request.query.customer ?? '');
    const rows = await deps().dataSource.query<MessageRow[]>(
      `SELECT m.direction, m.sender, m.type, m.text, m.attachments, m.intent, m.delivery_status, m.created_at, m.occurred_at, m.meta
         FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN customers cu ON cu.id = c.customer_id
        WHERE cu.merchant_id = $1 AND cu.igsid = $2 ORDER BY m.occurred_at, m.created_at LIMIT 200`,
      [deps().merchantId, customer.igsid],
    );
    let lastInbound: number | undefined;
    return rows.map((row) => {
      if (row.direction === 'in') lastInbound = row.occurred_at.getTime();
      return {
        direction: row.direction,
        sender: row.sender,
        type: row.type,
        text: row.text,
        images: row.attachments
          .filter((attachment) => attachment.type === 'image')
          .map((attachment) => attachment.url),
        intent: row.intent,
        deliveryStatus: row.delivery_status,
        source: row.meta.ai?.source,
        modelMs: row.meta.ai?.latencyMs,
        replyAfterMs:
          row.sender === 'bot' && lastInbound ? row.created_at.getTime() - lastInbound : undefined,
        at: row.created_at.toISOString(),
      };
    });
  });

  fastify.post<{ Body: { customer?: unknown; text?: unknown } }>(
    '/sandbox/api/say',
    async (request, reply) => {
      const { customer, text } = request.body ?? {};
      if (
        typeof customer !== 'string' ||
        !customer.trim() ||
        typeof text !== 'string' ||
        !text.trim()
      ) {
        return reply.status(400).send({
          statusCode: 400,
          error: 'Bad Request',
          message: 'customer and text are required',
        });
      }
      await deps().customers.act(customerNamed(customer.trim()), {
        kind: 'text',
        text: text.trim(),
      });
      return reply.status(202).send({ status: 'sent' });
    },
  );
}

const PAGE = `<!doctype html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Radd sandbox</title>
<style>
  body { margin: 0; font-family: system-ui, "Noto Sans Arabic", sans-serif; background: #fafafa; color: #262626; }
  header { padding: 12px 20px; background: #fff; border-bottom: 1px solid #dbdbdb; display: flex; gap: 12px; align-items: center; }
  header b { font-size: 18px; }
  main { display: grid; grid-template-columns: 240px 1fr; height: calc(100vh - 50px); }
  aside { background: #fff; border-left: 1px solid #dbdbdb; overflow-y: auto; }
  aside button { display: block; width: 100%; padding: 14px; border: 0; background: none; text-align: right; cursor: pointer; font-size: 15px; }
  aside button.active { background: #efefef; font-weight: 600; }
  section { display: flex; flex-direction: column; }
  #thread { flex: 1; overflow-y: auto; padding: 20px; display: flex; flex-direction: column; gap: 6px; }
  .msg { max-width: 62%; padding: 10px 14px; border-radius: 20px; white-space: pre-wrap; line-height: 1.5; }
  .in { align-self: flex-start; background: #efefef; }
  .out { align-self: flex-end; background: #3797f0; color: #fff; }
  .human { background: #7b5cd6; }
  .meta { font-size: 11px; color: #8e8e8e; align-self: flex-end; margin-bottom: 8px; direction: ltr; }
  .msg img { max-width: 160px; border-radius: 12px; display: block; margin-top: 6px; }
  form { display: flex; gap: 8px; padding: 12px 20px; background: #fff; border-top: 1px solid #dbdbdb; }
  input { flex: 1; padding: 10px 14px; border: 1px solid #dbdbdb; border-radius: 22px; font-size: 15px; }
  #name { flex: 0 0 140px; }
  form button { border: 0; background: none; color: #0095f6; font-weight: 600; font-size: 15px; cursor: pointer; }
</style>
</head>
<body>
<header><b>Radd sandbox</b><span>بيت الأناقة · Instagram DMs</span></header>
<main>
  <aside id="people"></aside>
  <section>
    <div id="thread" aria-live="polite"></div>
    <form id="say">
      <input id="name" name="customer" placeholder="اسم الزبون" value="زهراء" aria-label="customer">
      <input id="text" name="text" placeholder="اكتب رسالة…" autocomplete="off" aria-label="message">
      <button type="submit">إرسال</button>
    </form>
  </section>
</main>
<script>
const $ = (id) => document.getElementById(id);
let current = $('name').value;
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }
async function people() {
  const list = await (await fetch('/sandbox/api/conversations')).json();
  const box = $('people'); box.replaceChildren();
  const names = new Set(list.map((p) => p.name)); names.add(current);
  for (const name of names) {
    const b = el('button', name === current ? 'active' : '', name);
    b.onclick = () => { current = name; $('name').value = name; refresh(); };
    box.append(b);
  }
}
async function refresh() {
  const messages = await (await fetch('/sandbox/api/messages?customer=' + encodeURIComponent(current))).json();
  const thread = $('thread'); thread.replaceChildren();
  for (const m of messages) {
    const bubble = el('div', 'msg ' + m.direction + (m.sender === 'human' ? ' human' : ''), m.text || (m.type !== 'text' ? '[' + m.type + ']' : ''));
    bubble.dataset.sender = m.sender;
    for (const src of m.images) { const img = el('img'); img.src = src; img.alt = ''; bubble.append(img); }
    thread.append(bubble);
    if (m.sender === 'bot') {
      const parts = [m.intent, m.source, m.deliveryStatus, m.replyAfterMs !== undefined ? 'reply after ' + m.replyAfterMs + ' ms' : null, m.modelMs ? 'model ' + m.modelMs + ' ms' : null].filter(Boolean);
      thread.append(el('div', 'meta', parts.join(' · ')));
    }
  }
  thread.scrollTop = thread.scrollHeight;
}
$('say').onsubmit = async (event) => {
  event.preventDefault();
  current = $('name').value.trim() || current;
  const text = $('text').value.trim(); if (!text) return;
  $('text').value = '';
  await fetch('/sandbox/api/say', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customer: current, text }) });
  refresh(); people();
};
people(); refresh();
setInterval(() => { refresh(); people(); }, 1000);
</script>
</body>
</html>`;
