import { PeriodicPass } from 'src/common/periodic-pass';

describe('PeriodicPass', () => {
  afterEach(() => jest.useRealTimers());

  it('never runs two passes at once: a run asked for meanwhile answers idle', async () => {
    let release: () => void = () => undefined;
    let passes = 0;
    const periodic = new PeriodicPass(async () => {
      passes += 1;
      await new Promise<void>((resolve) => (release = resolve));
      return passes;
    }, 0);

    const first = periodic.run();
    expect(await periodic.run()).toBe(0);
    release();
    expect(await first).toBe(1);
    const second = periodic.run();
    release();
    expect(await second).toBe(2);
  });

  it('frees itself after a pass that throws', async () => {
    let fail = true;
    const periodic = new PeriodicPass(
      () => (fail ? Promise.reject(new Error('boom')) : Promise.resolve('done')),
      'idle',
    );
    await expect(periodic.run()).rejects.toThrow('boom');
    fail = false;
    expect(await periodic.run()).toBe('done');
  });

  it('runs every interval once started, and no more once stopped', async () => {
    jest.useFakeTimers();
    let passes = 0;
    const periodic = new PeriodicPass(() => Promise.resolve((passes += 1)), 0);
    periodic.start(1_000);
    await jest.advanceTimersByTimeAsync(3_500);
    expect(passes).toBe(3);
    periodic.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(passes).toBe(3);
  });
});
