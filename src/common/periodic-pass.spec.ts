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

  describe('runSoon', () => {
    /** A pass whose work stays pending for its first `failures` runs. */
    function flaky(failures: number) {
      let runs = 0;
      let pending = true;
      const periodic = new PeriodicPass(() => {
        runs += 1;
        if (runs > failures) pending = false;
        return Promise.resolve(runs);
      }, 0);
      return { periodic, runs: () => runs, pending: () => pending };
    }

    it('runs now, then after each wait while the work is pending, and stops once it is done', async () => {
      jest.useFakeTimers();
      const { periodic, runs, pending } = flaky(2);
      periodic.runSoon(pending, [1_000, 2_000, 4_000]);
      await jest.advanceTimersByTimeAsync(0);
      expect(runs()).toBe(1);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(runs()).toBe(2);
      await jest.advanceTimersByTimeAsync(2_000);
      expect(runs()).toBe(3);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(runs()).toBe(3);
    });

    it('gives up after the last wait', async () => {
      jest.useFakeTimers();
      const { periodic, runs, pending } = flaky(100);
      periodic.runSoon(pending, [1_000, 2_000]);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(runs()).toBe(3);
    });

    it('tries again when asked while another pass was running', async () => {
      jest.useFakeTimers();
      let passes = 0;
      const gates: Array<() => void> = [];
      const periodic = new PeriodicPass(async () => {
        passes += 1;
        await new Promise<void>((resolve) => gates.push(resolve));
        return passes;
      }, 0);
      const running = periodic.run();
      periodic.runSoon(() => passes < 2, [1_000]);
      await jest.advanceTimersByTimeAsync(0);
      expect(passes).toBe(1);
      gates[0]?.();
      await running;
      await jest.advanceTimersByTimeAsync(1_000);
      expect(passes).toBe(2);
      gates[1]?.();
    });

    it('is cancelled by stop, and a later call starts the waits over', async () => {
      jest.useFakeTimers();
      const { periodic, runs, pending } = flaky(100);
      periodic.runSoon(pending, [1_000, 2_000]);
      await jest.advanceTimersByTimeAsync(0);
      periodic.stop();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(runs()).toBe(1);
      periodic.runSoon(pending, [1_000]);
      await jest.advanceTimersByTimeAsync(500);
      periodic.runSoon(pending, [1_000]);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(runs()).toBe(4);
    });
  });
});
