/** Rejects when `promise` has not settled within `ms`; the promise itself is left to finish. */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what = 'operation',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    // The wait itself never keeps a process alive that is otherwise done.
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
