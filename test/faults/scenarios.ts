import { sleep } from 'bench/lib/util';
import type { Scenario, ScenarioRun } from 'test/faults/harness';

/** Waits until `fraction` of the sending time has passed. */
async function at(run: ScenarioRun, fraction: number): Promise<void> {
  const target = fraction * run.env.sendSeconds * 1000;
  while (run.elapsed < target) await sleep(Math.min(50, target - run.elapsed));
}

/** A one-shot signal that a fake fires from its hook; `fired` gives up after 30 s. */
function trigger(): { fire: () => void; fired: Promise<void> } {
  let fire = () => undefined as void;
  const signalled = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { fire, fired: Promise.race([signalled, sleep(30_000)]) };
}

const REDIS_DOWN_MS = 5_000;
const REDIS_UNREACHABLE_MS = 60_000;
const POSTGRES_DOWN_MS = 5_000;
const MANYCHAT_FAULT_MS = 30_000;
/** DMs sent at once just before the API is killed, so that some are cut off mid-request. */
const API_BURST = 30;
/** The process-webhook queue's limit in `queue-full`: the DMs of the worker's absence exceed it. */
const QUEUE_LIMIT = 20;

/** `radd_webhooks_held_total`, summed over sources, from the API's /metrics. */
async function heldSoFar(run: ScenarioRun): Promise<number> {
  const text = await (await fetch(`${run.radd.origin}/metrics`)).text();
  return [...text.matchAll(/^radd_webhooks_held_total\{[^}]*\} (\d+)/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'redis-kill',
    title: `Redis SIGKILLed, restarted ${REDIS_DOWN_MS / 1000} s later (AOF everysec, as deployed)`,
    async inject(run) {
      await at(run, 0.3);
      run.faultStart = Date.now();
      await run.env.redis.kill();
      run.note('redis-server killed (SIGKILL)');
      await sleep(REDIS_DOWN_MS);
      await run.env.redis.start();
      run.faultEnd = Date.now();
      run.note('redis-server restarted');
    },
  },
  // Beyond what a deployment with AOF suffers: what PostgreSQL says is owed is swept back.
  {
    name: 'redis-wipe',
    title: `Redis SIGKILLed and restarted ${REDIS_DOWN_MS / 1000} s later with no data (every job lost)`,
    async inject(run) {
      await at(run, 0.3);
      run.faultStart = Date.now();
      await run.env.redis.kill();
      run.env.redis.forgetData();
      run.note('redis-server killed (SIGKILL), its data removed');
      await sleep(REDIS_DOWN_MS);
      await run.env.redis.start();
      run.faultEnd = Date.now();
      run.note('redis-server restarted empty');
    },
  },
  // perf-reliability G6 (e): no error to act on, only silence, for longer than any job's lock.
  {
    name: 'redis-unreachable',
    title: `Redis unreachable for ${REDIS_UNREACHABLE_MS / 1000} s (frozen with SIGSTOP: connections hang, nothing is refused), then back`,
    async inject(run) {
      await at(run, 0.3);
      run.faultStart = Date.now();
      run.env.redis.freeze();
      run.note('redis-server frozen (SIGSTOP)');
      await sleep(REDIS_UNREACHABLE_MS);
      run.env.redis.resume();
      run.faultEnd = Date.now();
      run.note('redis-server resumed (SIGCONT)');
    },
  },
  {
    name: 'postgres-restart',
    title: `PostgreSQL stopped (immediate: a crash), started ${POSTGRES_DOWN_MS / 1000} s later`,
    async inject(run) {
      await at(run, 0.3);
      run.faultStart = Date.now();
      await run.env.postgres.stop('immediate');
      run.note('PostgreSQL stopped (-m immediate)');
      await sleep(POSTGRES_DOWN_MS);
      await run.env.postgres.start();
      run.faultEnd = Date.now();
      run.note('PostgreSQL started (crash recovery done)');
    },
  },
  {
    name: 'worker-kill',
    title:
      'worker SIGKILLed mid-job twice (during a model call, during a ManyChat send), restarted',
    async inject(run) {
      await at(run, 0.25);
      // Mid ai-response: the model call is held open while the worker dies.
      const duringModelCall = trigger();
      run.model.onCall = () => {
        run.model.onCall = () => 'answer';
        duringModelCall.fire();
        return 'hang';
      };
      await duringModelCall.fired;
      run.faultStart = Date.now();
      await run.radd.kill('worker');
      run.note('worker killed (SIGKILL) while a model call was in flight');
      await run.radd.start('worker', 'worker');
      run.note('worker restarted');
      await at(run, 0.55);
      // Mid message-delivery: ManyChat takes the message (the customer gets it, Meta echoes it)
      // but the worker dies before the answer: the send's outcome is lost with it.
      const duringSend = trigger();
      run.manychat.onSend = () => {
        run.manychat.onSend = () => 'accept';
        duringSend.fire();
        return { hang: true, processed: true };
      };
      await duringSend.fired;
      await run.radd.kill('worker');
      run.note('worker killed (SIGKILL) while a ManyChat send was in flight (delivered)');
      await run.radd.start('worker', 'worker');
      run.faultEnd = Date.now();
      run.note('worker restarted');
    },
  },
  {
    name: 'api-kill',
    title: `API SIGKILLed mid-request twice (${API_BURST} DMs in flight), restarted`,
    async inject(run) {
      for (const fraction of [0.3, 0.6]) {
        await at(run, fraction);
        if (run.faultStart === 0) run.faultStart = Date.now();
        for (let i = 0; i < API_BURST; i += 1) run.sendNext();
        await sleep(3);
        await run.radd.kill('api');
        run.note(`API killed (SIGKILL) with a burst of ${API_BURST} DMs in flight`);
        await run.radd.start('api', 'api');
        run.note('API restarted');
      }
      run.faultEnd = Date.now();
    },
  },
  {
    name: 'manychat-outage',
    title: `fake ManyChat answers 500s and timeouts for ${MANYCHAT_FAULT_MS / 1000} s`,
    async inject(run) {
      await at(run, 0.2);
      run.faultStart = Date.now();
      let calls = 0;
      run.manychat.onSend = () => {
        calls += 1;
        switch (calls % 4) {
          case 0:
            // Taken, answered 500: the customer gets it, Meta echoes it.
            return { status: 500, processed: true };
          case 1:
            return { status: 500 };
          case 2:
            // Taken, never answered: the customer gets it, Meta echoes it.
            return { hang: true, processed: true };
          default:
            // Never answered, never taken.
            return { hang: true, processed: false };
        }
      };
      run.note('ManyChat: 500s and timeouts from now on');
      await sleep(MANYCHAT_FAULT_MS);
      run.manychat.onSend = () => 'accept';
      run.faultEnd = Date.now();
      run.note(`ManyChat healthy again (${calls} sends failed or hung meanwhile)`);
    },
  },
  // perf-reliability API4: a backlog past WEBHOOK_QUEUE_LIMIT waits in PostgreSQL, not in Redis.
  {
    name: 'queue-full',
    title: `worker away while DMs arrive (queue limit ${QUEUE_LIMIT}: the rest held in PostgreSQL), back, SIGKILLed while held DMs are queued, back`,
    settings: { WEBHOOK_QUEUE_LIMIT: String(QUEUE_LIMIT) },
    async inject(run) {
      await at(run, 0.2);
      run.faultStart = Date.now();
      await run.radd.kill('worker');
      run.note('worker killed (SIGKILL); DMs keep coming');
      await at(run, 0.55);
      const held = await heldSoFar(run);
      run.note(`${held} DMs held so far`);
      if (held === 0) throw new Error('no DM was held: the queue never reached its limit');
      await run.radd.start('worker', 'worker');
      run.note('worker restarted');
      await sleep(1_000);
      await run.radd.kill('worker');
      run.note('worker killed (SIGKILL) while held DMs were being queued');
      await run.radd.start('worker', 'worker');
      run.faultEnd = Date.now();
      run.note('worker restarted');
    },
  },
];
