import { MicroBatcher } from 'src/common/micro-batcher';

function deferred(): { promise: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe('MicroBatcher', () => {
  it('takes items submitted in the same turn together', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, number>(
      (items) => {
        batches.push(items);
        return Promise.resolve(items.map((item) => item * 10));
      },
      { maxSize: 10, parallel: 1 },
    );
    const results = await Promise.all([1, 2, 3].map((item) => batcher.submit(item)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('makes the next batch of what arrives while one runs, up to its size', async () => {
    const batches: number[][] = [];
    const gate = deferred();
    const batcher = new MicroBatcher<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate.promise;
        return items;
      },
      { maxSize: 2, parallel: 1 },
    );
    const first = batcher.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((item) => batcher.submit(item));
    gate.release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });

  it('runs up to `parallel` batches at once', async () => {
    const gate = deferred();
    const started: number[][] = [];
    const batcher = new MicroBatcher<number, number>(
      async (items) => {
        started.push(items);
        await gate.promise;
        return items;
      },
      { maxSize: 10, parallel: 2 },
    );
    const first = batcher.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const second = batcher.submit(2);
    await new Promise((resolve) => setImmediate(resolve));
    const third = [3, 4].map((item) => batcher.submit(item));
    await new Promise((resolve) => setImmediate(resolve));
    // Two batches run; 3 and 4 wait for one of them.
    expect(started).toEqual([[1], [2]]);
    gate.release();
    expect(await Promise.all([first, second, ...third])).toEqual([1, 2, 3, 4]);
    expect(started).toEqual([[1], [2], [3, 4]]);
  });

  it('fails only the items whose result is an error', async () => {
    const batcher = new MicroBatcher<number, number>(
      (items) => Promise.resolve(items.map((item) => (item === 2 ? new Error('bad two') : item))),
      { maxSize: 10, parallel: 1 },
    );
    const [one, two, three] = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    expect(one).toEqual({ status: 'fulfilled', value: 1 });
    expect(two).toMatchObject({ status: 'rejected', reason: new Error('bad two') });
    expect(three).toEqual({ status: 'fulfilled', value: 3 });
  });

  it('fails the whole batch when the handler throws, and keeps serving after', async () => {
    let calls = 0;
    const batcher = new MicroBatcher<number, number>(
      (items) => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error('down')) : Promise.resolve(items);
      },
      { maxSize: 10, parallel: 1 },
    );
    const failed = await Promise.allSettled([1, 2].map((item) => batcher.submit(item)));
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(batcher.submit(3)).resolves.toBe(3);
  });

  it('fails an item the handler gave no result for', async () => {
    const batcher = new MicroBatcher<number, number>(
      (items) => Promise.resolve(items.slice(0, 1)),
      { maxSize: 10, parallel: 1 },
    );
    const results = await Promise.allSettled([1, 2].map((item) => batcher.submit(item)));
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(results[1]).toMatchObject({ status: 'rejected' });
  });
});
