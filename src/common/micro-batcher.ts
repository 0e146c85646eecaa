interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export interface MicroBatcherOptions {
  /** Items in one call of the handler at most. */
  maxSize: number;
  /** Calls of the handler running at once at most. */
  parallel: number;
}

/**
 * Gathers items submitted close together into one call of `handle` (group commit): an item waits
 * one turn of the event loop for company, and while `parallel` batches run, what arrives makes up
 * the next one. A quiet moment costs one turn; a busy one shares round trips among many items.
 * `handle` answers each item by position, with its result or the error that item alone failed with.
 */
export class MicroBatcher<T, R> {
  private readonly waiting: Array<Waiting<T, R>> = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly handle: (items: T[]) => Promise<Array<R | Error>>,
    private readonly options: MicroBatcherOptions,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.scheduled || this.running >= this.options.parallel || this.waiting.length === 0) {
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.waiting.length === 0) return;
      void this.run(this.waiting.splice(0, this.options.maxSize));
      this.kick();
    });
  }

  private async run(batch: Array<Waiting<T, R>>): Promise<void> {
    this.running += 1;
    try {
      const results = await this.handle(batch.map((waiting) => waiting.item));
      batch.forEach((waiting, index) => {
        const result = results[index];
        if (index >= results.length) waiting.reject(new Error('no result for this item'));
        else if (result instanceof Error) waiting.reject(result);
        else waiting.resolve(result);
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    } finally {
      this.running -= 1;
      this.kick();
    }
  }
}
